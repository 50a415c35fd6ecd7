/* popen.c - external programs on Windows (platform.h, "external programs").
 *
 * Start: the program is found first (SearchPathW: a path as given, else
 * the directories CreateProcessW would look in; ".exe" added when there is
 * no extension), so that a batch file, which CreateProcessW would hand to
 * cmd.exe with its own quoting, is refused (MP_EUNSUPPORTED). The command
 * line is built by the MSVCRT rules (cmdline.h). The program is created
 * suspended with PROC_THREAD_ATTRIBUTE_HANDLE_LIST naming its three
 * standard handles and nothing else, put in a job object of its own
 * (kill-on-close: freeing the Popen, or this process ending, kills the
 * program and what it started), then resumed. Like mproc's own children it
 * is DETACHED when this process has no console, so no window opens.
 *
 * Pipes are named pipes: this process's end is overlapped, so every read
 * and write can wait with a timeout and be cancelled (an anonymous pipe
 * cannot), and mp_wait can watch a read end (pipe_probe.h); the program's
 * end is an ordinary synchronous handle, as programs expect.
 *
 * TerminateProcess exits with MP_WIN_TERMINATE_CODE, read back as -15 when
 * this side terminated it, as for mproc's processes (child.h). */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "child.h"
#include "clock.h"
#include "cmdline.h"
#include "pipe_probe.h"
#include "platform.h"
#include "utf.h"

#define PIPE_BUFFER (64 * 1024)
#define CHUNK (1u << 20)

struct mp_os_program {
    HANDLE process;
    HANDLE job; /* NULL if the program could not be put in one */
    DWORD pid;
    volatile LONG terminated;
};

/* ---- I/O with timeouts ---------------------------------------------------- */

/* One overlapped transfer, waited for up to timeout and cancelled after:
 * *done bytes moved; *err 0, the error, or ERROR_OPERATION_ABORTED when it
 * timed out with nothing moved. */
static void transfer(HANDLE h, bool write, void *buf, DWORD len, double timeout, DWORD *done, DWORD *err)
{
    OVERLAPPED ov = {0};
    *done = 0;
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (ov.hEvent == NULL) {
        *err = GetLastError();
        return;
    }
    BOOL ok = write ? WriteFile(h, buf, len, NULL, &ov) : ReadFile(h, buf, len, NULL, &ov);
    *err = ok ? 0 : GetLastError();
    if (ok || *err == ERROR_IO_PENDING) {
        if (!ok && mp_win_wait_for(ov.hEvent, timeout) != WAIT_OBJECT_0)
            CancelIoEx(h, &ov);
        *err = GetOverlappedResult(h, &ov, done, TRUE) ? 0 : GetLastError();
        if (*err == ERROR_OPERATION_ABORTED && *done > 0)
            *err = 0;
    }
    CloseHandle(ov.hEvent);
}

int mp_os_stream_write(mp_os_handle h, const void *data, size_t len, double timeout, size_t *written)
{
    double deadline = mp_deadline(timeout);
    const char *p = data;
    size_t sent = 0;
    int rc = MP_OK;
    while (sent < len) {
        size_t want = len - sent;
        DWORD done, err;
        transfer((HANDLE)h, true, (void *)(p + sent), want > CHUNK ? CHUNK : (DWORD)want, mp_time_left(deadline),
                 &done, &err);
        sent += done;
        if (err == ERROR_OPERATION_ABORTED) {
            rc = mp_fail(MP_ETIMEDOUT, "mp_popen_write: %zu of %zu bytes went in time", sent, len);
            break;
        }
        if (err != 0) {
            rc = mp_win_pipe_closed(err) ? mp_fail(MP_EEOF, "mp_popen_write: the program has closed its stdin")
                                         : mp_fail_os(MP_EOS, (int)err, "mp_popen_write");
            break;
        }
    }
    *written = sent;
    return rc;
}

int mp_os_stream_read(mp_os_handle h, void *buf, size_t cap, double timeout, size_t *got)
{
    double deadline = mp_deadline(timeout);
    *got = 0;
    for (;;) {
        DWORD done, err;
        transfer((HANDLE)h, false, buf, cap > CHUNK ? CHUNK : (DWORD)cap, mp_time_left(deadline), &done, &err);
        if (err == 0 && done > 0) {
            *got = done;
            return MP_OK;
        }
        if (err == ERROR_OPERATION_ABORTED)
            return mp_fail(MP_ETIMEDOUT, "nothing from the program after %g s", timeout);
        if (err != 0)
            return mp_win_pipe_closed(err) ? mp_fail(MP_EEOF, "end of file from the program")
                                           : mp_fail_os(MP_EOS, (int)err, "reading from the program");
        /* A zero-byte write of the program's: nothing to give. */
        if (mp_time_left(deadline) <= 0)
            return mp_fail(MP_ETIMEDOUT, "nothing from the program after %g s", timeout);
    }
}

/* ---- communicate's pump -------------------------------------------------- */

typedef struct op {
    OVERLAPPED ov;
    bool pending;
    char *buf;
} op;

/* Start a transfer on o. false with *err when it failed at once. */
static bool op_start(op *o, HANDLE h, bool write, const void *data, DWORD len, DWORD *err)
{
    BOOL ok = write ? WriteFile(h, data, len, NULL, &o->ov) : ReadFile(h, o->buf, len, NULL, &o->ov);
    *err = ok ? 0 : GetLastError();
    if (ok || *err == ERROR_IO_PENDING) {
        o->pending = true;
        *err = 0;
        return true;
    }
    return false;
}

/* The result of o, which has completed (or is waited for, wait true). */
static DWORD op_finish(op *o, HANDLE h, bool wait, DWORD *err)
{
    DWORD done = 0;
    *err = GetOverlappedResult(h, &o->ov, &done, wait) ? 0 : GetLastError();
    o->pending = false;
    return done;
}

/* The pump's stdin is done: all written, or the program closed its end. */
static void finish_in(mp_os_pump *p)
{
    p->in_done = true;
    if (!p->keep_in) {
        CloseHandle((HANDLE)p->in);
        p->in = MP_OS_NO_HANDLE;
    }
}

/* What a finished transfer means for the pump. */
static int op_done(mp_os_pump *p, int which, op *o, DWORD done, DWORD err)
{
    if (err == ERROR_OPERATION_ABORTED)
        err = 0;
    if (which < 0) {
        p->input_done += done;
        if (err != 0 && !mp_win_pipe_closed(err))
            return mp_fail_os(MP_EOS, (int)err, "writing the program's stdin");
        if (!p->in_done && (err != 0 || p->input_done == p->input_len))
            finish_in(p); /* all written, or the program closed it: no error, as Python */
        return MP_OK;
    }
    int rc = done > 0 ? p->sink(p->ctx, which, o->buf, done) : MP_OK;
    if (err != 0 && mp_win_pipe_closed(err))
        p->eof[which] = true;
    else if (err != 0 && rc == MP_OK)
        rc = mp_fail_os(MP_EOS, (int)err, "reading the program's output");
    return rc;
}

int mp_os_stream_pump(mp_os_pump *p, double timeout)
{
    double deadline = mp_deadline(timeout);
    op ops[3]; /* stdin, stdout, stderr */
    memset(ops, 0, sizeof ops);
    HANDLE hs[3] = {(HANDLE)p->in, (HANDLE)p->out[0], (HANDLE)p->out[1]};
    int rc = MP_OK;
    for (int i = 0; i < 3 && rc == MP_OK; i++) {
        ops[i].ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (ops[i].ov.hEvent == NULL)
            rc = mp_fail_os(MP_EOS, (int)GetLastError(), "the program's pipes: CreateEvent");
        if (i > 0 && rc == MP_OK && (ops[i].buf = malloc(PIPE_BUFFER)) == NULL)
            rc = mp_fail(MP_ENOMEM, "the program's pipes: out of memory");
    }
    if (p->in == MP_OS_NO_HANDLE)
        p->in_done = true;
    else if (p->in_done || p->input_done == p->input_len)
        finish_in(p);
    for (int i = 0; i < 2; i++)
        if (p->out[i] == MP_OS_NO_HANDLE)
            p->eof[i] = true;
    /* Once the watched program has ended, only what its pipes already
     * hold is read: the waits no longer wait. It goes last in the wait,
     * which reports the first of several ready objects. */
    bool ended = false, gather = false;
    while (rc == MP_OK && !(p->in_done && p->eof[0] && p->eof[1]) && !(p->keep_in && p->eof[0])) {
        if (gather && p->coalesce > 0 && !ended) {
            double left = deadline - mp_os_monotonic();
            mp_os_sleep(left < p->coalesce ? left : p->coalesce);
        }
        gather = false;
        DWORD err;
        if (!p->in_done && !ops[0].pending) {
            size_t left = p->input_len - p->input_done;
            if (!op_start(&ops[0], hs[0], true, p->input + p->input_done, left > CHUNK ? CHUNK : (DWORD)left, &err))
                rc = op_done(p, -1, &ops[0], 0, err);
        }
        for (int i = 0; i < 2 && rc == MP_OK; i++)
            if (!p->eof[i] && !ops[i + 1].pending && !op_start(&ops[i + 1], hs[i + 1], false, NULL, PIPE_BUFFER, &err))
                rc = op_done(p, i, &ops[i + 1], 0, err);
        if (rc != MP_OK)
            break;
        HANDLE events[4];
        DWORD n = 0;
        for (int i = 0; i < 3; i++)
            if (ops[i].pending)
                events[n++] = ops[i].ov.hEvent;
        DWORD watched = n;
        if (p->watch != NULL && !ended)
            events[n++] = (HANDLE)(uintptr_t)*p->watch;
        if (n == 0)
            continue;
        DWORD r = WaitForMultipleObjects(n, events, FALSE, ended ? 0 : mp_win_wait_ms(deadline));
        if (r == WAIT_FAILED) {
            rc = mp_fail_os(MP_EOS, (int)GetLastError(), "the program's pipes: WaitForMultipleObjects");
            break;
        }
        if (r == WAIT_TIMEOUT) {
            if (ended) {
                rc = mp_fail(MP_ECHILD, "the program has ended");
                break;
            }
            if (mp_os_monotonic() < deadline)
                continue;
            rc = mp_fail(MP_ETIMEDOUT, "the program did not answer within %g s", timeout);
            break;
        }
        if (r == WAIT_OBJECT_0 + watched) {
            ended = true;
            continue;
        }
        for (int i = 0; i < 3 && rc == MP_OK; i++) {
            if (!ops[i].pending || WaitForSingleObject(ops[i].ov.hEvent, 0) != WAIT_OBJECT_0)
                continue;
            DWORD done = op_finish(&ops[i], hs[i], FALSE, &err);
            rc = op_done(p, i - 1, &ops[i], done, err);
            gather = gather || (rc == MP_OK && i == 1 && done > 0 && done < MP_OS_PUMP_SMALL_READ);
        }
    }
    /* Stop what is still in flight, keeping what it moved. */
    for (int i = 0; i < 3; i++) {
        if (ops[i].pending) {
            CancelIoEx(hs[i], &ops[i].ov);
            DWORD err, done = op_finish(&ops[i], hs[i], TRUE, &err);
            int r = op_done(p, i - 1, &ops[i], done, err);
            if (rc >= MP_OK || rc == MP_ETIMEDOUT || rc == MP_ECHILD)
                rc = r < MP_OK ? r : rc;
        }
        if (ops[i].ov.hEvent != NULL)
            CloseHandle(ops[i].ov.hEvent);
        free(ops[i].buf);
    }
    return rc > 0 ? MP_OK : rc;
}

/* ---- starting -------------------------------------------------------------- */

static volatile LONG pipe_counter;

/* A named pipe: *mine overlapped, not inheritable; *theirs synchronous and
 * inheritable (it goes in the handle list, and is closed once the program
 * exists). */
static int make_pipe(bool parent_writes, HANDLE *mine, HANDLE *theirs)
{
    unsigned char rnd[8];
    int rc = mp_os_random(rnd, sizeof rnd);
    if (rc != MP_OK)
        return rc;
    wchar_t name[128];
    swprintf(name, sizeof name / sizeof name[0], L"\\\\.\\pipe\\mproc-sp-%lu-%ld-%02x%02x%02x%02x%02x%02x%02x%02x",
             GetCurrentProcessId(), InterlockedIncrement(&pipe_counter), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
             rnd[5], rnd[6], rnd[7]);
    DWORD access = (parent_writes ? PIPE_ACCESS_OUTBOUND : PIPE_ACCESS_INBOUND) | FILE_FLAG_OVERLAPPED |
                   FILE_FLAG_FIRST_PIPE_INSTANCE;
    HANDLE server = CreateNamedPipeW(name, access, PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                                     1, PIPE_BUFFER, PIPE_BUFFER, 0, NULL);
    if (server == INVALID_HANDLE_VALUE)
        return mp_fail_os(MP_EOS, (int)GetLastError(), "mp_popen_new: CreateNamedPipe");
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    DWORD client_access = parent_writes ? GENERIC_READ | FILE_WRITE_ATTRIBUTES : GENERIC_WRITE | FILE_READ_ATTRIBUTES;
    HANDLE client = CreateFileW(name, client_access, 0, &sa, OPEN_EXISTING, 0, NULL);
    if (client == INVALID_HANDLE_VALUE) {
        DWORD err = GetLastError();
        CloseHandle(server);
        return mp_fail_os(MP_EOS, (int)err, "mp_popen_new: opening the pipe");
    }
    OVERLAPPED ov = {0};
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    DWORD err = ov.hEvent == NULL ? GetLastError() : 0, ignored;
    if (err == 0 && !ConnectNamedPipe(server, &ov)) {
        err = GetLastError();
        if (err == ERROR_IO_PENDING)
            err = GetOverlappedResult(server, &ov, &ignored, TRUE) ? 0 : GetLastError();
        else if (err == ERROR_PIPE_CONNECTED)
            err = 0;
    }
    if (ov.hEvent != NULL)
        CloseHandle(ov.hEvent);
    if (err != 0) {
        CloseHandle(client);
        CloseHandle(server);
        return mp_fail_os(MP_EOS, (int)err, "mp_popen_new: ConnectNamedPipe");
    }
    *mine = server;
    *theirs = client;
    return MP_OK;
}

static bool ends_with_ci(const wchar_t *s, const wchar_t *suffix)
{
    size_t n = wcslen(s), m = wcslen(suffix);
    return n >= m && _wcsicmp(s + n - m, suffix) == 0;
}

static bool is_batch(const wchar_t *s)
{
    return ends_with_ci(s, L".bat") || ends_with_ci(s, L".cmd");
}

/* The program's full path (malloc'd). */
static int find_program(const char *prog, wchar_t **out)
{
    wchar_t *w;
    int rc = mp_win_widen(prog, &w);
    if (rc != MP_OK)
        return rc;
    if (is_batch(w)) {
        free(w);
        return mp_fail(MP_EUNSUPPORTED, "mp_popen_new: '%s' is a batch file, which cmd.exe would run with quoting "
                                        "that cannot be made safe; run cmd.exe /c yourself if you must",
                       prog);
    }
    for (DWORD size = MAX_PATH;; size *= 2) {
        wchar_t *path = malloc(size * sizeof *path);
        if (path == NULL) {
            free(w);
            return mp_fail(MP_ENOMEM, "out of memory");
        }
        DWORD n = SearchPathW(NULL, w, L".exe", size, path, NULL);
        DWORD err = GetLastError();
        if (n > 0 && n < size) {
            free(w);
            if (is_batch(path)) {
                free(path);
                return mp_fail(MP_EUNSUPPORTED, "mp_popen_new: '%s' is a batch file, which cannot be run safely",
                               prog);
            }
            *out = path;
            return MP_OK;
        }
        free(path);
        if (n == 0 || size > 65536) {
            free(w);
            return mp_fail_os(err == ERROR_ACCESS_DENIED ? MP_EPERM : MP_ENOENT, (int)err,
                              "mp_popen_new: cannot find program '%s'", prog);
        }
    }
}

/* The name part of an environment entry: up to the first '=' after the
 * first character ("=C:=C:\\x" is a name "=C:"). */
static size_t env_name_len(const wchar_t *e)
{
    const wchar_t *eq = e[0] != L'\0' ? wcschr(e + 1, L'=') : NULL;
    return eq == NULL ? wcslen(e) : (size_t)(eq - e);
}

static bool same_name(const wchar_t *a, const wchar_t *b)
{
    size_t la = env_name_len(a), lb = env_name_len(b);
    return CompareStringOrdinal(a, (int)la, b, (int)lb, TRUE) == CSTR_EQUAL;
}

static int compare_entries(const void *x, const void *y)
{
    const wchar_t *a = *(const wchar_t *const *)x, *b = *(const wchar_t *const *)y;
    return CompareStringOrdinal(a, (int)env_name_len(a), b, (int)env_name_len(b), TRUE) - CSTR_EQUAL;
}

/* The environment block: entries sorted by name, case-insensitively, as
 * Windows wants them; NULL for inheriting this process's. */
static int build_env(const mp_os_program_req *req, wchar_t **out)
{
    *out = NULL;
    if (req->env_mode == MP_ENV_INHERIT)
        return MP_OK;
    size_t nextra = 0, nbase = 0;
    for (; req->env != NULL && req->env[nextra] != NULL; nextra++)
        ;
    wchar_t *base = req->env_mode == MP_ENV_EXTEND ? GetEnvironmentStringsW() : NULL;
    for (const wchar_t *e = base; e != NULL && *e; e += wcslen(e) + 1)
        nbase++;
    wchar_t **extra = calloc(nextra + 1, sizeof *extra);
    const wchar_t **all = calloc(nbase + nextra + 1, sizeof *all);
    int rc = extra != NULL && all != NULL ? MP_OK : mp_fail(MP_ENOMEM, "out of memory");
    for (size_t i = 0; rc == MP_OK && i < nextra; i++)
        rc = mp_win_widen(req->env[i], &extra[i]);
    size_t n = 0;
    for (const wchar_t *e = base; rc == MP_OK && e != NULL && *e; e += wcslen(e) + 1) {
        bool replaced = false;
        for (size_t k = 0; k < nextra && !replaced; k++)
            replaced = same_name(e, extra[k]);
        if (!replaced)
            all[n++] = e;
    }
    for (size_t k = 0; rc == MP_OK && k < nextra; k++) {
        bool later = false;
        for (size_t j = k + 1; j < nextra && !later; j++)
            later = same_name(extra[k], extra[j]);
        if (!later)
            all[n++] = extra[k];
    }
    if (rc == MP_OK) {
        qsort(all, n, sizeof *all, compare_entries);
        size_t chars = 2;
        for (size_t i = 0; i < n; i++)
            chars += wcslen(all[i]) + 1;
        wchar_t *block = malloc(chars * sizeof *block), *at = block;
        if (block == NULL)
            rc = mp_fail(MP_ENOMEM, "out of memory");
        for (size_t i = 0; block != NULL && i < n; i++) {
            size_t len = wcslen(all[i]) + 1;
            memcpy(at, all[i], len * sizeof *at);
            at += len;
        }
        if (block != NULL) {
            at[0] = L'\0';
            at[1] = L'\0';
            *out = block;
        }
    }
    for (size_t i = 0; extra != NULL && i < nextra; i++)
        free(extra[i]);
    free(extra);
    free(all);
    if (base != NULL)
        FreeEnvironmentStringsW(base);
    return rc;
}

/* Everything made for one start, released by finish(). */
typedef struct start {
    wchar_t *app, *cmdline, *env, *cwd;
    HANDLE theirs[3]; /* handles made for the program: pipe ends, NUL, duplicates */
    HANDLE devnull;
    HANDLE list[3];
    size_t nlist;
    HANDLE job;
} start;

static void finish(start *s)
{
    free(s->app);
    free(s->cmdline);
    free(s->env);
    free(s->cwd);
    for (int i = 0; i < 3; i++)
        if (s->theirs[i] != NULL)
            CloseHandle(s->theirs[i]);
    if (s->devnull != NULL)
        CloseHandle(s->devnull);
    if (s->job != NULL)
        CloseHandle(s->job);
}

static void list_add(start *s, HANDLE h)
{
    for (size_t i = 0; i < s->nlist; i++)
        if (s->list[i] == h)
            return;
    s->list[s->nlist++] = h;
}

static int std_handles(const mp_os_program_req *req, start *s, STARTUPINFOW *si, mp_os_handle pipes[3])
{
    static const DWORD ids[3] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE};
    HANDLE *slots[3] = {&si->hStdInput, &si->hStdOutput, &si->hStdError};
    HANDLE self = GetCurrentProcess();
    for (int i = 0; i < 3; i++) {
        HANDLE h = NULL;
        switch (req->stdio[i]) {
        case MP_STDIO_PIPE: {
            HANDLE mine = NULL;
            int rc = make_pipe(i == 0, &mine, &s->theirs[i]);
            if (rc != MP_OK)
                return rc;
            pipes[i] = (mp_os_handle)mine;
            h = s->theirs[i];
            break;
        }
        case MP_STDIO_DEVNULL:
            if (s->devnull == NULL) {
                SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
                s->devnull = CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                                         &sa, OPEN_EXISTING, 0, NULL);
                if (s->devnull == INVALID_HANDLE_VALUE) {
                    s->devnull = NULL;
                    return mp_fail_os(MP_EOS, (int)GetLastError(), "mp_popen_new: opening NUL");
                }
            }
            h = s->devnull;
            break;
        case MP_STDIO_STDOUT:
            h = *slots[1];
            break;
        default: {
            HANDLE own = GetStdHandle(ids[i]);
            if (own == NULL || own == INVALID_HANDLE_VALUE)
                break;
            /* Windows 7's console handles are not kernel handles: they
             * reach the program by the console's rules, not by the list. */
            if (((uintptr_t)own & 3) == 3 && GetFileType(own) == FILE_TYPE_CHAR) {
                *slots[i] = own;
                continue;
            }
            if (DuplicateHandle(self, own, self, &s->theirs[i], 0, TRUE, DUPLICATE_SAME_ACCESS))
                h = s->theirs[i];
            else
                s->theirs[i] = NULL;
            break;
        }
        }
        *slots[i] = h;
        if (h != NULL && !(((uintptr_t)h & 3) == 3 && GetFileType(h) == FILE_TYPE_CHAR))
            list_add(s, h);
    }
    si->dwFlags |= STARTF_USESTDHANDLES;
    return MP_OK;
}

static int create_error(DWORD err, const char *prog)
{
    int code = err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND || err == ERROR_DIRECTORY ? MP_ENOENT
               : err == ERROR_ACCESS_DENIED                                                         ? MP_EPERM
                                                                                                    : MP_ECHILD;
    return mp_fail_os(code, (int)err, "mp_popen_new: cannot run '%s'", prog);
}

/* Wine fails CreateProcessW now and then with ERROR_INTERNAL_ERROR when
 * the new process ends early in its start-up (child_start.c): retried. */
#define CREATE_ATTEMPTS 4

static int create(const mp_os_program_req *req, start *s, STARTUPINFOEXW *si, PROCESS_INFORMATION *pi)
{
    DWORD flags = CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT;
    if (req->new_session)
        flags |= CREATE_NEW_PROCESS_GROUP;
    if (GetConsoleWindow() == NULL)
        flags |= DETACHED_PROCESS;
    int rc = MP_OK;
    SIZE_T size = 0;
    if (s->nlist > 0) {
        InitializeProcThreadAttributeList(NULL, 1, 0, &size);
        si->lpAttributeList = malloc(size);
        if (si->lpAttributeList == NULL)
            return mp_fail(MP_ENOMEM, "out of memory");
        if (!InitializeProcThreadAttributeList(si->lpAttributeList, 1, 0, &size)) {
            rc = mp_fail_os(MP_EOS, (int)GetLastError(), "mp_popen_new: InitializeProcThreadAttributeList");
            free(si->lpAttributeList);
            return rc;
        }
        if (!UpdateProcThreadAttribute(si->lpAttributeList, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, s->list,
                                       s->nlist * sizeof s->list[0], NULL, NULL))
            rc = mp_fail_os(MP_EOS, (int)GetLastError(), "mp_popen_new: UpdateProcThreadAttribute");
        flags |= EXTENDED_STARTUPINFO_PRESENT;
    }
    for (int attempt = 1; rc == MP_OK; attempt++) {
        if (CreateProcessW(s->app, s->cmdline, NULL, NULL, s->nlist > 0, flags, s->env, s->cwd, &si->StartupInfo, pi))
            break;
        DWORD err = GetLastError();
        if (err != ERROR_INTERNAL_ERROR || attempt == CREATE_ATTEMPTS)
            rc = create_error(err, req->argv[0]);
        else
            Sleep(10 * attempt);
    }
    if (s->nlist > 0) {
        DeleteProcThreadAttributeList(si->lpAttributeList);
        free(si->lpAttributeList);
    }
    return rc;
}

static HANDLE make_job(void)
{
    HANDLE job = CreateJobObjectW(NULL, NULL);
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits = {0};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (job != NULL && !SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits)) {
        CloseHandle(job);
        job = NULL;
    }
    return job;
}

int mp_os_program_start(const mp_os_program_req *req, mp_os_program **out, mp_os_handle pipes[3])
{
    *out = NULL;
    for (int i = 0; i < 3; i++)
        pipes[i] = MP_OS_NO_HANDLE;
    size_t argc = 0;
    while (req->argv[argc] != NULL)
        argc++;
    mp_os_program *p = calloc(1, sizeof *p);
    if (p == NULL)
        return mp_fail(MP_ENOMEM, "out of memory");
    start s = {0};
    STARTUPINFOEXW si = {.StartupInfo = {.cb = sizeof si}};
    PROCESS_INFORMATION pi;
    int rc = find_program(req->argv[0], &s.app);
    if (rc == MP_OK)
        rc = mp_win_cmdline_build(req->argv, argc, &s.cmdline);
    if (rc == MP_OK)
        rc = build_env(req, &s.env);
    if (rc == MP_OK && req->cwd != NULL)
        rc = mp_win_widen(req->cwd, &s.cwd);
    if (rc == MP_OK)
        rc = std_handles(req, &s, &si.StartupInfo, pipes);
    if (rc == MP_OK)
        rc = create(req, &s, &si, &pi);
    if (rc == MP_OK) {
        /* Without a job (a system that cannot nest them), free still
         * terminates the program itself. */
        s.job = make_job();
        if (s.job != NULL && !AssignProcessToJobObject(s.job, pi.hProcess)) {
            CloseHandle(s.job);
            s.job = NULL;
        }
        p->job = s.job;
        s.job = NULL;
        if (ResumeThread(pi.hThread) == (DWORD)-1) {
            rc = mp_fail_os(MP_ECHILD, (int)GetLastError(), "mp_popen_new: ResumeThread");
            TerminateProcess(pi.hProcess, MP_WIN_TERMINATE_CODE);
            WaitForSingleObject(pi.hProcess, INFINITE);
            CloseHandle(pi.hProcess);
            if (p->job != NULL)
                CloseHandle(p->job);
        }
        CloseHandle(pi.hThread);
    }
    finish(&s);
    if (rc != MP_OK) {
        for (int i = 0; i < 3; i++)
            if (pipes[i] != MP_OS_NO_HANDLE) {
                CloseHandle((HANDLE)pipes[i]);
                pipes[i] = MP_OS_NO_HANDLE;
            }
        free(p);
        return rc;
    }
    p->process = pi.hProcess;
    p->pid = pi.dwProcessId;
    *out = p;
    return MP_OK;
}

long mp_os_program_pid(const mp_os_program *p)
{
    return (long)p->pid;
}

int mp_os_program_sentinel(const mp_os_program *p, mp_sentinel *out)
{
    *out = (mp_sentinel)(uintptr_t)p->process;
    return MP_OK;
}

int mp_os_program_wait(mp_os_program *p, double timeout, int *returncode)
{
    int rc = mp_win_wait_one(p->process, timeout);
    if (rc == MP_ETIMEDOUT)
        return mp_fail(MP_ETIMEDOUT, "the program (pid %lu) still runs after %g s", (unsigned long)p->pid, timeout);
    if (rc != MP_OK)
        return rc;
    DWORD code;
    if (!GetExitCodeProcess(p->process, &code))
        return mp_fail_os(MP_EOS, (int)GetLastError(), "GetExitCodeProcess of pid %lu", (unsigned long)p->pid);
    *returncode = code == MP_WIN_TERMINATE_CODE && p->terminated ? -15 : (int)code;
    return MP_OK;
}

int mp_os_program_signal(mp_os_program *p, int sig)
{
    if (sig != MP_OS_SIGTERM && sig != MP_OS_SIGKILL)
        return mp_fail(MP_EUNSUPPORTED, "mp_popen_send_signal: Windows has only terminate (signal %d)", sig);
    if (WaitForSingleObject(p->process, 0) == WAIT_OBJECT_0)
        return MP_OK;
    InterlockedExchange(&p->terminated, 1);
    if (TerminateProcess(p->process, MP_WIN_TERMINATE_CODE))
        return MP_OK;
    DWORD err = GetLastError();
    if (WaitForSingleObject(p->process, 0) == WAIT_OBJECT_0)
        return MP_OK; /* it ended meanwhile: access denied */
    return mp_fail_os(MP_EOS, (int)err, "TerminateProcess of pid %lu", (unsigned long)p->pid);
}

void mp_os_program_free(mp_os_program *p)
{
    if (p == NULL)
        return;
    if (WaitForSingleObject(p->process, 0) != WAIT_OBJECT_0) {
        if (p->job == NULL || !TerminateJobObject(p->job, MP_WIN_TERMINATE_CODE))
            TerminateProcess(p->process, MP_WIN_TERMINATE_CODE);
        WaitForSingleObject(p->process, INFINITE);
    }
    /* Kill-on-close: what the program started and left behind ends too. */
    if (p->job != NULL)
        CloseHandle(p->job);
    CloseHandle(p->process);
    free(p);
}
