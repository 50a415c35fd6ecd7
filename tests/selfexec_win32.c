/* selfexec_win32.c - run and copy the test executable itself (harness.h).
 * Strings are UTF-8 at this interface and UTF-16 at Windows'. */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static wchar_t *widen(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;
    if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        w = NULL;
    }
    return w;
}

static int self_path(wchar_t *out, DWORD size)
{
    DWORD n = GetModuleFileNameW(NULL, out, size);
    return n == 0 || n == size ? -1 : 0;
}

/* Append one argument quoted so that the C runtime's parser gives it back:
 * backslashes double only before a quote, quotes are escaped. */
static void append_quoted(wchar_t *cmd, size_t *len, const wchar_t *arg)
{
    cmd[(*len)++] = L'"';
    for (const wchar_t *p = arg;; p++) {
        size_t slashes = 0;
        while (*p == L'\\') {
            slashes++;
            p++;
        }
        if (*p == L'\0' || *p == L'"') {
            size_t copies = slashes * 2 + (*p == L'"');
            for (size_t i = 0; i < copies; i++)
                cmd[(*len)++] = L'\\';
            if (*p == L'\0')
                break;
            cmd[(*len)++] = L'"';
        } else {
            for (size_t i = 0; i < slashes; i++)
                cmd[(*len)++] = L'\\';
            cmd[(*len)++] = *p;
        }
    }
    cmd[(*len)++] = L'"';
}

int mpt_exec_self(const char *exe, const char *const *args, size_t nargs, double timeout)
{
    wchar_t self[MAX_PATH * 4];
    wchar_t *wexe = exe ? widen(exe) : NULL;
    if (exe ? wexe == NULL : self_path(self, MAX_PATH * 4) != 0)
        return -1000;
    const wchar_t *program = wexe ? wexe : self;

    size_t cap = wcslen(program) * 2 + 3;
    wchar_t **wargs = calloc(nargs + 1, sizeof *wargs);
    for (size_t i = 0; wargs && i < nargs; i++) {
        wargs[i] = widen(args[i]);
        if (wargs[i] == NULL)
            return -1000;
        cap += wcslen(wargs[i]) * 2 + 3;
    }
    wchar_t *cmd = wargs ? malloc((cap + 1) * sizeof *cmd) : NULL;
    if (cmd == NULL)
        return -1000;
    size_t len = 0;
    /* argv[0] follows other rules: quoted as is, no escapes. */
    cmd[len++] = L'"';
    wcscpy(cmd + len, program);
    len += wcslen(program);
    cmd[len++] = L'"';
    for (size_t i = 0; i < nargs; i++) {
        cmd[len++] = L' ';
        append_quoted(cmd, &len, wargs[i]);
    }
    cmd[len] = L'\0';

    STARTUPINFOW si = {.cb = sizeof si};
    PROCESS_INFORMATION pi;
    BOOL ok = CreateProcessW(program, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi);
    for (size_t i = 0; i < nargs; i++)
        free(wargs[i]);
    free(wargs);
    free(cmd);
    free(wexe);
    if (!ok)
        return -1000;
    DWORD code = 1000;
    int rc;
    if (WaitForSingleObject(pi.hProcess, (DWORD)(timeout * 1000)) == WAIT_OBJECT_0) {
        GetExitCodeProcess(pi.hProcess, &code);
        rc = (int)code;
    } else {
        fprintf(stderr, "harness: %s still ran after %g s: killed\n", exe ? exe : "this test", timeout);
        TerminateProcess(pi.hProcess, 1);
        WaitForSingleObject(pi.hProcess, INFINITE);
        rc = MPT_EXEC_TIMEDOUT;
    }
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    return rc;
}

int mpt_copy_self(const char *dir, const char *name, char *out, size_t size)
{
    wchar_t self[MAX_PATH * 4];
    if (self_path(self, MAX_PATH * 4) != 0 || (size_t)snprintf(out, size, "%s\\%s", dir, name) >= size)
        return -1;
    wchar_t *wdir = widen(dir), *wout = widen(out);
    int rc = -1;
    if (wdir && wout && (CreateDirectoryW(wdir, NULL) || GetLastError() == ERROR_ALREADY_EXISTS) &&
        CopyFileW(self, wout, FALSE))
        rc = 0;
    free(wdir);
    free(wout);
    return rc;
}

void mpt_remove_copy(const char *dir, const char *path)
{
    wchar_t *wdir = widen(dir), *wpath = widen(path);
    if (wpath)
        DeleteFileW(wpath);
    if (wdir)
        RemoveDirectoryW(wdir);
    free(wdir);
    free(wpath);
}

void mpt_sibling_path(const char *name, char *out, size_t size)
{
    char self[4096] = "";
    DWORD n = GetModuleFileNameA(NULL, self, sizeof self);
    self[n < sizeof self ? n : 0] = '\0';
    char *slash = strrchr(self, '\\');
    if (slash != NULL)
        slash[1] = '\0';
    snprintf(out, size, "%s%s", self, name);
}

void mpt_temp_dir(char *out, size_t size)
{
    wchar_t wbase[MAX_PATH + 1];
    DWORD n = GetTempPathW(MAX_PATH + 1, wbase);
    char base[MAX_PATH * 4] = ".";
    if (n > 0 && n <= MAX_PATH) {
        if (wbase[n - 1] == L'\\')
            wbase[n - 1] = L'\0';
        WideCharToMultiByte(CP_UTF8, 0, wbase, -1, base, (int)sizeof base, NULL, NULL);
    }
    snprintf(out, size, "%s\\mproc-test-%lu", base, (unsigned long)GetCurrentProcessId());
}
