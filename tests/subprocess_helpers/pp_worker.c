/* pp_worker.c - the external program of test_program_pool: a long-lived
 * worker, a plain program not linked with mproc, that answers one task
 * with one reply in the framing its options say, and misbehaves on
 * request.
 *
 * Options:
 *   --frame line|length|msgpack   how tasks and replies are framed (line)
 *   --ready LINE     print LINE on stdout once started
 *   --startup S      sleep S seconds before that (an expensive start-up)
 *   --fail-start     write "cannot load the model" to stderr and exit 1
 *                    before the ready line
 *   --wrong-ready    print "hello" where the ready line is due
 *   --ignore-quit    on "quit" or end of stdin, sleep on (and on POSIX
 *                    ignore SIGTERM) instead of exiting
 *   --noflush        keep every reply to itself, as a program whose stdout
 *                    is never flushed: none arrives
 *
 * A task is a command (a line; a length-prefixed payload; a str value):
 *   pid            its pid
 *   exit N         exit with code N without a reply
 *   crash          abort()
 *   sleep S        sleep S seconds, then "slept"
 *   garbage        a reply out of the framing: a 5000-byte line, a length
 *                  of 4 GiB - 1, the reserved MessagePack byte 0xc1
 *   half           the start of a reply, then exit 0
 *   flood N        N bytes to stderr, then "flooded"
 *   grandchild     start a copy of itself that keeps stdout and stderr
 *                  open for 30 s, then exit 7
 *   stderr TEXT    TEXT on stderr, then exit 4
 *   env NAME       the variable's value, or "unset"
 *   cwd            the working directory
 *   arg I          its argument I
 *   quit           exit 0 (unless --ignore-quit)
 *   anything else  itself (echo)
 * With --frame msgpack, a value that is not a str is echoed as it came. */
#ifndef _WIN32
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <direct.h>
#include <fcntl.h>
#include <io.h>
#include <windows.h>
#define getcwd _getcwd
#else
#include <signal.h>
#include <time.h>
#include <unistd.h>
#endif

#include "pause.h"

enum { LINE, LENGTH, MSGPACK };
static int frame = LINE;
static bool noflush, ignore_quit;
static int g_argc;
static char **g_argv;

static long own_pid(void)
{
#ifdef _WIN32
    return (long)GetCurrentProcessId();
#else
    return (long)getpid();
#endif
}

static void start_grandchild(void)
{
    fflush(stdout);
#ifdef _WIN32
    wchar_t exe[MAX_PATH * 4];
    GetModuleFileNameW(NULL, exe, MAX_PATH * 4);
    wchar_t cmd[MAX_PATH * 4 + 32];
    swprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\" --startup 30 --noflush", exe);
    STARTUPINFOW si = {.cb = sizeof si};
    PROCESS_INFORMATION pi;
    if (CreateProcessW(exe, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
    }
#else
    if (fork() == 0) {
        pause_for(30);
        _exit(0);
    }
#endif
}

static void put_be32(uint32_t n)
{
    unsigned char b[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                          (unsigned char)n};
    fwrite(b, 1, 4, stdout);
}

static void reply_bytes(const char *data, size_t n)
{
    if (noflush)
        return;
    if (frame == LINE) {
        fwrite(data, 1, n, stdout);
        fputc('\n', stdout);
    } else if (frame == LENGTH) {
        put_be32((uint32_t)n);
        fwrite(data, 1, n, stdout);
    } else {
        if (n < 32) {
            fputc(0xa0 | (int)n, stdout);
        } else {
            fputc(0xdb, stdout);
            put_be32((uint32_t)n);
        }
        fwrite(data, 1, n, stdout);
    }
    fflush(stdout);
}

static void reply_text(const char *s)
{
    reply_bytes(s, strlen(s));
}

/* ---- reading tasks --------------------------------------------------------- */

typedef struct bytes {
    unsigned char *data;
    size_t len, cap;
} bytes;

static void grow(bytes *b, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = realloc(b->data, b->cap);
        if (b->data == NULL)
            exit(99);
    }
}

/* Read exactly n bytes of stdin onto b; false at end of file. */
static bool take(bytes *b, size_t n)
{
    grow(b, n);
    if (fread(b->data + b->len, 1, n, stdin) != n)
        return false;
    b->len += n;
    return true;
}

static uint64_t be_at(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* One MessagePack value from stdin onto b, as it came. */
static bool read_value(bytes *b)
{
    size_t at = b->len;
    if (!take(b, 1))
        return false;
    unsigned char c = b->data[at];
    size_t width = 0, payload = 0, items = 0;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return true;
    if (c >= 0xa0 && c <= 0xbf)
        return take(b, c & 0x1f);
    if (c >= 0x90 && c <= 0x9f)
        items = c & 0x0f;
    else if (c >= 0x80 && c <= 0x8f)
        items = 2 * (size_t)(c & 0x0f);
    else if (c >= 0xcc && c <= 0xd3)
        return take(b, (size_t)1 << (c & 3));
    else if (c == 0xca || c == 0xcb)
        return take(b, c == 0xca ? 4 : 8);
    else if (c == 0xd9 || c == 0xc4)
        width = 1;
    else if (c == 0xda || c == 0xc5)
        width = 2;
    else if (c == 0xdb || c == 0xc6)
        width = 4;
    else if (c == 0xdc || c == 0xdd) {
        if (!take(b, c == 0xdc ? 2 : 4))
            return false;
        items = (size_t)be_at(b->data + at + 1, c == 0xdc ? 2 : 4);
    } else {
        exit(98); /* not needed by the tests */
    }
    if (width > 0) {
        if (!take(b, width))
            return false;
        payload = (size_t)be_at(b->data + at + 1, width);
        return take(b, payload);
    }
    for (size_t i = 0; i < items; i++)
        if (!read_value(b))
            return false;
    return true;
}

/* The next task into b, NUL-terminated; *text: it is a command (a str or
 * line), and b then holds its text only. False at end of file. */
static bool next_task(bytes *b, bool *text)
{
    b->len = 0;
    *text = true;
    if (frame == LINE) {
        int ch;
        while ((ch = fgetc(stdin)) != EOF && ch != '\n') {
            grow(b, 1);
            b->data[b->len++] = (unsigned char)ch;
        }
        if (ch == EOF && b->len == 0)
            return false;
    } else if (frame == LENGTH) {
        if (!take(b, 4))
            return false;
        size_t n = (size_t)be_at(b->data, 4);
        b->len = 0;
        if (!take(b, n))
            return false;
    } else {
        if (!read_value(b))
            return false;
        unsigned char c = b->data[0];
        size_t skip = c >= 0xa0 && c <= 0xbf ? 1 : c == 0xd9 ? 2 : c == 0xda ? 3 : c == 0xdb ? 5 : 0;
        *text = skip > 0;
        if (*text) {
            memmove(b->data, b->data + skip, b->len - skip);
            b->len -= skip;
        }
    }
    grow(b, 1);
    b->data[b->len] = '\0';
    return true;
}

static void garbage(void)
{
    if (frame == LINE) {
        for (int i = 0; i < 5000; i++)
            fputc('g', stdout);
        fputc('\n', stdout);
    } else if (frame == LENGTH) {
        put_be32(0xffffffffu);
    } else {
        fputc(0xc1, stdout);
    }
    fflush(stdout);
}

static void half(void)
{
    if (frame == LINE)
        fputs("hal", stdout);
    else if (frame == LENGTH) {
        put_be32(10);
        fputs("hal", stdout);
    } else {
        fputc(0xa5, stdout);
        fputs("ha", stdout);
    }
    fflush(stdout);
    exit(0);
}

static void linger(void)
{
    for (;;)
        pause_for(1);
}

/* Run one command; false if it was not one. */
static bool command(const char *t)
{
    char out[4096];
    if (strcmp(t, "pid") == 0) {
        snprintf(out, sizeof out, "%ld", own_pid());
        reply_text(out);
    } else if (strncmp(t, "exit ", 5) == 0) {
        fflush(stdout);
        exit(atoi(t + 5));
    } else if (strcmp(t, "crash") == 0) {
        abort();
    } else if (strncmp(t, "sleep ", 6) == 0) {
        pause_for(atof(t + 6));
        reply_text("slept");
    } else if (strcmp(t, "garbage") == 0) {
        garbage();
    } else if (strcmp(t, "half") == 0) {
        half();
    } else if (strncmp(t, "flood ", 6) == 0) {
        long n = atol(t + 6);
        for (long i = 0; i < n; i++)
            fputc(i % 64 == 63 ? '\n' : 'e', stderr);
        fputs("END-OF-FLOOD\n", stderr);
        fflush(stderr);
        reply_text("flooded");
    } else if (strcmp(t, "grandchild") == 0) {
        start_grandchild();
        exit(7);
    } else if (strncmp(t, "stderr ", 7) == 0) {
        fprintf(stderr, "%s\n", t + 7);
        fflush(stderr);
        exit(4);
    } else if (strncmp(t, "env ", 4) == 0) {
        const char *v = getenv(t + 4);
        reply_text(v ? v : "unset");
    } else if (strcmp(t, "cwd") == 0) {
        reply_text(getcwd(out, sizeof out) ? out : "?");
    } else if (strncmp(t, "arg ", 4) == 0) {
        int i = atoi(t + 4);
        reply_text(i >= 0 && i < g_argc ? g_argv[i] : "?");
    } else if (strcmp(t, "quit") == 0) {
        if (ignore_quit)
            linger();
        exit(0);
    } else {
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    g_argc = argc;
    g_argv = argv;
#ifdef _WIN32
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
#endif
    const char *ready = NULL;
    bool fail_start = false, wrong_ready = false;
    double startup = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--frame") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            frame = strcmp(f, "length") == 0 ? LENGTH : strcmp(f, "msgpack") == 0 ? MSGPACK : LINE;
        } else if (strcmp(argv[i], "--ready") == 0 && i + 1 < argc) {
            ready = argv[++i];
        } else if (strcmp(argv[i], "--startup") == 0 && i + 1 < argc) {
            startup = atof(argv[++i]);
        } else if (strcmp(argv[i], "--fail-start") == 0) {
            fail_start = true;
        } else if (strcmp(argv[i], "--wrong-ready") == 0) {
            wrong_ready = true;
        } else if (strcmp(argv[i], "--ignore-quit") == 0) {
            ignore_quit = true;
        } else if (strcmp(argv[i], "--noflush") == 0) {
            noflush = true;
        }
    }
#ifndef _WIN32
    if (ignore_quit)
        signal(SIGTERM, SIG_IGN);
#endif
    pause_for(startup);
    if (fail_start) {
        fputs("cannot load the model\n", stderr);
        return 1;
    }
    if (wrong_ready || ready) {
        fputs(wrong_ready ? "hello\n" : ready, stdout);
        if (!wrong_ready)
            fputc('\n', stdout);
        fflush(stdout);
    }
    bytes task = {0};
    bool text;
    while (next_task(&task, &text)) {
        if (text && command((const char *)task.data))
            continue;
        if (text || frame != MSGPACK) {
            reply_bytes((const char *)task.data, task.len);
        } else if (!noflush) {
            fwrite(task.data, 1, task.len, stdout);
            fflush(stdout);
        }
    }
    if (ignore_quit)
        linger();
    return 0;
}
