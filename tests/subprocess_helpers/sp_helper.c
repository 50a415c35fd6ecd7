/* sp_helper.c - the external program of test_subprocess: a plain program,
 * not linked with mproc, whose first argument says what it does.
 *
 *   echo            each line of stdin back on stdout, flushed, until EOF
 *   cat             stdin to stdout, binary, until EOF
 *   sleepcat S      sleep S seconds, then cat
 *   exit N          exit with code N
 *   sleep S         sleep S seconds, exit 0
 *   flood N         N bytes to stdout and N to stderr before reading stdin,
 *                   then stdin to EOF, then "\nin=<bytes read>\n" on stdout
 *   both            "to stdout\n" on stdout, then "to stderr\n" on stderr
 *   slowline        "part", a second's pause, "ial\n", then waits for EOF
 *   args ...        each argument after "args" on a line of its own
 *   env NAME...     "NAME=value" or "NAME unset" for each NAME
 *   cwd             the working directory
 *   grandchild      starts a copy of itself ("sleep 30") that keeps stdout,
 *                   prints its pid, exits 0
 *   tree            the same, but then sleeps 30 seconds itself
 *   fds             how many descriptors above 2 are open (POSIX; 0 on
 *                   Windows, whose handle list the parent's test checks)
 *   setevent        Windows: for each line of stdin, a handle value in
 *                   decimal, SetEvent on that value, and "set\n" or
 *                   "failed <error>\n" on stdout, flushed, until EOF
 *
 * On Windows it takes its arguments and environment in UTF-16 (wmain,
 * linked with -municode) and prints UTF-8, so non-ASCII text round-trips. */
#ifndef _WIN32
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#include <fcntl.h>
#include <io.h>
#include <wchar.h>
#else
#include <fcntl.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#endif

#include "pause.h"

static void cat(void)
{
    static char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        if (fwrite(buf, 1, n, stdout) != n)
            exit(3);
    fflush(stdout);
}

static int start_grandchild(const char *self)
{
#ifdef _WIN32
    (void)self;
    wchar_t exe[MAX_PATH * 4];
    GetModuleFileNameW(NULL, exe, MAX_PATH * 4);
    wchar_t cmd[MAX_PATH * 4 + 32];
    swprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\" sleep 30", exe);
    STARTUPINFOW si = {.cb = sizeof si};
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(exe, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi))
        return -1;
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return (int)pi.dwProcessId;
#else
    (void)self;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        sleep(30);
        _exit(0);
    }
    return (int)pid;
#endif
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *mode = argv[1];
    if (strcmp(mode, "echo") == 0) {
        char line[65536];
        while (fgets(line, sizeof line, stdin) != NULL) {
            fputs(line, stdout);
            fflush(stdout);
        }
        return 0;
    }
    if (strcmp(mode, "cat") == 0) {
        cat();
        return 0;
    }
    if (strcmp(mode, "sleepcat") == 0 && argc > 2) {
        pause_for(atof(argv[2]));
        cat();
        return 0;
    }
    if (strcmp(mode, "exit") == 0 && argc > 2)
        return atoi(argv[2]);
    if (strcmp(mode, "sleep") == 0 && argc > 2) {
        pause_for(atof(argv[2]));
        return 0;
    }
    if (strcmp(mode, "flood") == 0 && argc > 2) {
        long n = atol(argv[2]);
        for (long i = 0; i < n; i++)
            putchar('o');
        fflush(stdout);
        for (long i = 0; i < n; i++)
            fputc('e', stderr);
        fflush(stderr);
        long in = 0;
        while (getchar() != EOF)
            in++;
        printf("\nin=%ld\n", in);
        return 0;
    }
    if (strcmp(mode, "both") == 0) {
        fputs("to stdout\n", stdout);
        fflush(stdout);
        fputs("to stderr\n", stderr);
        fflush(stderr);
        return 0;
    }
    if (strcmp(mode, "slowline") == 0) {
        fputs("part", stdout);
        fflush(stdout);
        pause_for(1.0);
        fputs("ial\n", stdout);
        fflush(stdout);
        while (getchar() != EOF)
            ;
        return 0;
    }
    if (strcmp(mode, "args") == 0) {
        for (int i = 2; i < argc; i++)
            printf("%s\n", argv[i]);
        return 0;
    }
    if (strcmp(mode, "env") == 0) {
        for (int i = 2; i < argc; i++) {
            const char *v = getenv(argv[i]);
            if (v == NULL)
                printf("%s unset\n", argv[i]);
            else
                printf("%s=%s\n", argv[i], v);
        }
        return 0;
    }
    if (strcmp(mode, "cwd") == 0) {
#ifdef _WIN32
        wchar_t w[MAX_PATH * 4];
        char u[MAX_PATH * 16];
        GetCurrentDirectoryW(MAX_PATH * 4, w);
        WideCharToMultiByte(CP_UTF8, 0, w, -1, u, (int)sizeof u, NULL, NULL);
        printf("%s\n", u);
#else
        char u[4096];
        if (getcwd(u, sizeof u) == NULL)
            return 4;
        printf("%s\n", u);
#endif
        return 0;
    }
    if (strcmp(mode, "fds") == 0) {
        int n = 0;
#ifndef _WIN32
        for (int fd = 3; fd < 4096; fd++)
            n += fcntl(fd, F_GETFD) >= 0;
#endif
        printf("%d\n", n);
        return 0;
    }
#ifdef _WIN32
    if (strcmp(mode, "setevent") == 0) {
        char line[64];
        while (fgets(line, sizeof line, stdin) != NULL) {
            HANDLE h = (HANDLE)(uintptr_t)strtoull(line, NULL, 10);
            if (SetEvent(h))
                printf("set\n");
            else
                printf("failed %lu\n", (unsigned long)GetLastError());
            fflush(stdout);
        }
        return 0;
    }
#endif
    if (strcmp(mode, "grandchild") == 0 || strcmp(mode, "tree") == 0) {
        int pid = start_grandchild(argv[0]);
        printf("%d\n", pid);
        fflush(stdout);
        if (strcmp(mode, "tree") == 0)
            pause_for(30);
        return pid > 0 ? 0 : 5;
    }
    return 2;
}

#ifdef _WIN32
/* The environment in UTF-8 for getenv. */
static void utf8_environment(void)
{
    wchar_t *block = GetEnvironmentStringsW();
    for (wchar_t *e = block; e != NULL && *e; e += wcslen(e) + 1) {
        char u[32768];
        if (*e == L'=' || WideCharToMultiByte(CP_UTF8, 0, e, -1, u, (int)sizeof u, NULL, NULL) == 0)
            continue;
        _putenv(u);
    }
    FreeEnvironmentStringsW(block);
}

int wmain(int argc, wchar_t **wargv);
int wmain(int argc, wchar_t **wargv)
{
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
    utf8_environment();
    char **argv = calloc((size_t)argc + 1, sizeof *argv);
    for (int i = 0; i < argc; i++) {
        int n = WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, NULL, 0, NULL, NULL);
        argv[i] = malloc((size_t)n);
        WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, argv[i], n, NULL, NULL);
    }
    return run(argc, argv);
}
#else
int main(int argc, char **argv)
{
    return run(argc, argv);
}
#endif
