/* child_start.c - starting a child: CreateProcessW of this program's executable,
 * given exactly the handles it needs, then the handoff frame (frame.h) over
 * an anonymous pipe.
 *
 * The child's command line is "<exe>" --mproc-child <token>. The token is
 * "<pipe>:<pid>": the decimal value of the pipe's read end, which the child
 * inherits under the same value, and this process's pid, which the child
 * checks against the parent handle the frame carries.
 *
 * Inheritance is restricted with PROC_THREAD_ATTRIBUTE_HANDLE_LIST: the child
 * gets inheritable duplicates of the pipe's read end, of the travelling
 * handles, of this process's handle (for its parent-alive check) and of the
 * std handles, and nothing else that is inheritable here. The duplicates are
 * closed as soon as the child exists; the handles they came from stay
 * non-inheritable throughout. A travelling socket is no inherited handle:
 * it is shared with the child once the child exists (socket_share.h). */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "cmdline.h"
#include "base/error_internal.h"
#include "process/frame.h"
#include "job.h"
#include "pipe_probe.h"
#include "platform.h"
#include "socket_share.h"
#include "utf.h"

/* Big enough that most handoffs are written without waiting for the child. */
#define PIPE_BUFFER 65536u
#define WRITE_CHUNK (1u << 20)

/* The inheritable duplicates made for one child, each made once per source
 * handle: the handle list must not name a handle twice (Windows refuses it
 * with ERROR_INVALID_PARAMETER; Wine does not). */
typedef struct inherit_list {
    HANDLE *source;
    HANDLE *copy;
    size_t n;
    size_t nown; /* the first nown were made for the child and have no source */
} inherit_list;

static void close_copies(inherit_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        CloseHandle(l->copy[i]);
    l->n = 0;
}

/* A handle made inheritable for the child alone. */
static void add_own(inherit_list *l, HANDLE copy)
{
    l->source[l->n] = NULL;
    l->copy[l->n++] = copy;
    l->nown = l->n;
}

/* An inheritable duplicate of h, with h's access, in the list. */
static BOOL inherit(inherit_list *l, HANDLE h, HANDLE *copy)
{
    for (size_t i = l->nown; i < l->n; i++) {
        if (l->source[i] == h) {
            *copy = l->copy[i];
            return TRUE;
        }
    }
    HANDLE self = GetCurrentProcess();
    if (!DuplicateHandle(self, h, self, copy, 0, TRUE, DUPLICATE_SAME_ACCESS))
        return FALSE;
    l->source[l->n] = h;
    l->copy[l->n++] = *copy;
    return TRUE;
}

/* The table of the travelling handles' values in the child; a socket's
 * slot holds 0 and is listed in sockets, to be shared once the child
 * exists. */
static int travelling_handles(inherit_list *l, const mp_os_start *req, unsigned char *table,
                              uint32_t *sockets, uint32_t *nsockets)
{
    *nsockets = 0;
    for (size_t i = 0; i < req->nhandles; i++) {
        DWORD type = GetFileType((HANDLE)req->handles[i]);
        if ((type == FILE_TYPE_PIPE || type == FILE_TYPE_UNKNOWN) && mp_win_is_socket((HANDLE)req->handles[i])) {
            mp_frame_put_u64(table + 8 * i, 0);
            sockets[(*nsockets)++] = (uint32_t)i;
            continue;
        }
        HANDLE copy;
        if (!inherit(l, (HANDLE)req->handles[i], &copy)) {
            DWORD err = GetLastError();
            return mp_fail_os(err == ERROR_INVALID_HANDLE ? MP_EINVAL : MP_EOS, (int)err,
                              "mp_process_start: cannot pass handle %lu to the child", (unsigned long)i);
        }
        mp_frame_put_u64(table + 8 * i, (uint64_t)(uintptr_t)copy);
    }
    return MP_OK;
}

/* The child's std handles. One that is missing or no longer valid is left
 * out. Windows 7's console handles are not kernel handles: they reach the
 * child by the console's own rules and may not be in the handle list. */
static void std_handles(inherit_list *l, STARTUPINFOW *si)
{
    static const DWORD ids[3] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE};
    HANDLE *slots[3] = {&si->hStdInput, &si->hStdOutput, &si->hStdError};
    for (int i = 0; i < 3; i++) {
        HANDLE h = GetStdHandle(ids[i]);
        *slots[i] = NULL;
        if (h == NULL || h == INVALID_HANDLE_VALUE)
            continue;
        if (((uintptr_t)h & 3) == 3 && GetFileType(h) == FILE_TYPE_CHAR)
            *slots[i] = h;
        else if (!inherit(l, h, slots[i]))
            *slots[i] = NULL;
    }
    si->dwFlags |= STARTF_USESTDHANDLES;
}

static int own_path(wchar_t **out)
{
    for (DWORD size = MAX_PATH;; size *= 2) {
        wchar_t *path = malloc(size * sizeof *path);
        if (path == NULL)
            return mp_fail(MP_ENOMEM, "out of memory");
        DWORD n = GetModuleFileNameW(NULL, path, size);
        if (n > 0 && n < size) {
            *out = path;
            return MP_OK;
        }
        DWORD err = GetLastError();
        free(path);
        if (n == 0 || size > 65536)
            return mp_fail_os(MP_EOS, (int)err, "mp_process_start: cannot find this program's executable");
    }
}

/* "<pipe handle>:<parent pid>": two numbers in decimal. */
#define TOKEN_SIZE 48

static int command_line(const wchar_t *exe, HANDLE pipe, wchar_t **out)
{
    char token[TOKEN_SIZE];
    snprintf(token, sizeof token, "%llu:%lu", (unsigned long long)(uintptr_t)pipe,
             (unsigned long)GetCurrentProcessId());
    char *exe8;
    int rc = mp_win_narrow(exe, &exe8);
    if (rc != MP_OK)
        return rc;
    const char *argv[3] = {exe8, MP_CHILD_MARKER, token};
    rc = mp_win_cmdline_build(argv, 3, out);
    free(exe8);
    return rc;
}

static int write_all(HANDLE pipe, const unsigned char *p, size_t len, DWORD pid)
{
    while (len > 0) {
        DWORD chunk = len > WRITE_CHUNK ? WRITE_CHUNK : (DWORD)len;
        DWORD done;
        if (!WriteFile(pipe, p, chunk, &done, NULL))
            return mp_fail_os(MP_ECHILD, (int)GetLastError(),
                              "mp_process_start: child %lu ended before it read its handoff",
                              (unsigned long)pid);
        p += done;
        len -= done;
    }
    return MP_OK;
}

static int write_frame(HANDLE pipe, const mp_os_start *req, const unsigned char *head, size_t head_len,
                       const unsigned char *shares, size_t shares_len, DWORD pid)
{
    int rc = write_all(pipe, head, head_len, pid);
    if (rc == MP_OK)
        rc = write_all(pipe, shares, shares_len, pid);
    if (rc == MP_OK)
        rc = write_all(pipe, req->handoff, req->handoff_len, pid);
    return rc;
}

/* Wine fails a CreateProcessW with ERROR_INTERNAL_ERROR when the new
 * process ended, with exit code 0, before it finished initialising, which
 * its loader does now and then under load (seen in ci/test's Wine leg, in
 * test_process_many). Nothing of the failed start
 * remains, so a retry is safe; Windows gives that error for no transient
 * reason, so there it costs nothing. */
#define CREATE_ATTEMPTS 4

static int create_process(const wchar_t *exe, wchar_t *cmdline, DWORD flags, STARTUPINFOEXW *si,
                          PROCESS_INFORMATION *pi)
{
    for (int attempt = 1;; attempt++) {
        if (CreateProcessW(exe, cmdline, NULL, NULL, TRUE, flags, NULL, NULL, &si->StartupInfo, pi))
            return MP_OK;
        DWORD err = GetLastError();
        if (err != ERROR_INTERNAL_ERROR || attempt == CREATE_ATTEMPTS)
            return mp_fail_os(MP_ECHILD, (int)err, "mp_process_start: CreateProcessW");
        Sleep(10 * attempt);
    }
}

/* Create the child with the handle list in force, suspended so that a
 * daemonic one is in the job before it runs. */
static int create(const wchar_t *exe, wchar_t *cmdline, inherit_list *l, STARTUPINFOEXW *si,
                  PROCESS_INFORMATION *pi)
{
    SIZE_T size = 0;
    InitializeProcThreadAttributeList(NULL, 1, 0, &size);
    si->lpAttributeList = malloc(size);
    if (si->lpAttributeList == NULL)
        return mp_fail(MP_ENOMEM, "out of memory");
    int rc = MP_OK;
    if (!InitializeProcThreadAttributeList(si->lpAttributeList, 1, 0, &size)) {
        rc = mp_fail_os(MP_EOS, (int)GetLastError(), "mp_process_start: InitializeProcThreadAttributeList");
        free(si->lpAttributeList);
        return rc;
    }
    DWORD flags = EXTENDED_STARTUPINFO_PRESENT | CREATE_SUSPENDED;
    /* A child of a program without a console would open a console window.
     * Detached, it gets no console at all (CREATE_NO_WINDOW would give it a
     * hidden one, and under Wine a console host process per child that can
     * outlive it); its std handles still come from STARTF_USESTDHANDLES. */
    if (GetConsoleWindow() == NULL)
        flags |= DETACHED_PROCESS;
    if (!UpdateProcThreadAttribute(si->lpAttributeList, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, l->copy,
                                   l->n * sizeof *l->copy, NULL, NULL))
        rc = mp_fail_os(MP_EOS, (int)GetLastError(), "mp_process_start: UpdateProcThreadAttribute");
    else
        rc = create_process(exe, cmdline, flags, si, pi);
    DeleteProcThreadAttributeList(si->lpAttributeList);
    free(si->lpAttributeList);
    return rc;
}

/* Undo a start that failed after the child was created. */
static void abandon(HANDLE process)
{
    TerminateProcess(process, MP_WIN_TERMINATE_CODE);
    WaitForSingleObject(process, INFINITE);
    CloseHandle(process);
}

static int check_request(const mp_os_start *req, mp_os_child **out)
{
    if (req == NULL || out == NULL)
        return mp_fail(MP_EINVAL, "mp_os_child_start: NULL argument");
    if (req->method != MP_START_SPAWN)
        return mp_fail(MP_EUNSUPPORTED, "mp_process_start: Windows has the spawn start method only");
    if (req->nhandles > MP_FRAME_MAX_HANDLES)
        return mp_fail(MP_ETOOBIG, "mp_process_start: %lu handles to pass, at most %u",
                       (unsigned long)req->nhandles, MP_FRAME_MAX_HANDLES);
    if ((req->handles == NULL && req->nhandles > 0) || (req->handoff == NULL && req->handoff_len > 0))
        return mp_fail(MP_EINVAL, "mp_os_child_start: NULL handles or handoff");
    if (req->handoff_len > MP_FRAME_MAX_BLOB)
        return mp_fail(MP_ETOOBIG, "mp_process_start: handoff of %llu bytes is too large",
                       (unsigned long long)req->handoff_len);
    return MP_OK;
}

/* Everything made for one start, released by finish(). */
typedef struct start {
    inherit_list inherited;
    wchar_t *exe;
    wchar_t *cmdline;
    unsigned char *head; /* frame header and handle table */
    uint32_t *sockets;   /* the table's slots of sockets */
    uint32_t nsockets;
    unsigned char *shares; /* their records for the child, after the table */
    HANDLE pipe_write;
} start;

static void finish(start *s)
{
    close_copies(&s->inherited);
    free(s->inherited.source);
    free(s->inherited.copy);
    free(s->exe);
    free(s->cmdline);
    free(s->head);
    free(s->sockets);
    free(s->shares);
    if (s->pipe_write != NULL)
        CloseHandle(s->pipe_write);
}

static int prepare(start *s, const mp_os_start *req, STARTUPINFOEXW *si, mp_frame_header *frame)
{
    size_t cap = req->nhandles + 5;
    s->inherited.source = malloc(cap * sizeof(HANDLE));
    s->inherited.copy = malloc(cap * sizeof(HANDLE));
    s->head = malloc(MP_FRAME_HEADER_SIZE + 8 * req->nhandles);
    s->sockets = malloc((req->nhandles + 1) * sizeof *s->sockets);
    if (s->inherited.source == NULL || s->inherited.copy == NULL || s->head == NULL || s->sockets == NULL)
        return mp_fail(MP_ENOMEM, "out of memory");

    HANDLE self = GetCurrentProcess(), read_end, child_end, parent;
    if (!CreatePipe(&read_end, &s->pipe_write, NULL, PIPE_BUFFER))
        return mp_fail_os(MP_EOS, (int)GetLastError(), "mp_process_start: CreatePipe");
    if (!DuplicateHandle(self, read_end, self, &child_end, 0, TRUE,
                         DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE))
        return mp_fail_os(MP_EOS, (int)GetLastError(), "mp_process_start: DuplicateHandle of the pipe");
    add_own(&s->inherited, child_end);
    if (!DuplicateHandle(self, self, self, &parent, SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, TRUE, 0))
        return mp_fail_os(MP_EOS, (int)GetLastError(), "mp_process_start: DuplicateHandle of this process");
    add_own(&s->inherited, parent);
    frame->parent_handle = (uint64_t)(uintptr_t)parent;

    int rc = travelling_handles(&s->inherited, req, s->head + MP_FRAME_HEADER_SIZE, s->sockets, &s->nsockets);
    if (rc != MP_OK)
        return rc;
    std_handles(&s->inherited, &si->StartupInfo);
    if ((rc = own_path(&s->exe)) != MP_OK)
        return rc;
    return command_line(s->exe, child_end, &s->cmdline);
}

/* Each travelling socket's slot and record, made for the child's pid. */
static int share_sockets(start *s, const mp_os_start *req, DWORD pid, size_t *len)
{
    size_t record = 4 + mp_win_socket_share_size();
    *len = s->nsockets * record;
    if (s->nsockets == 0)
        return MP_OK;
    s->shares = malloc(*len);
    if (s->shares == NULL)
        return mp_fail(MP_ENOMEM, "out of memory");
    for (uint32_t k = 0; k < s->nsockets; k++) {
        unsigned char *at = s->shares + k * record;
        uint32_t slot = s->sockets[k];
        for (int b = 0; b < 4; b++)
            at[b] = (unsigned char)(slot >> (8 * b));
        int rc = mp_win_socket_share((HANDLE)req->handles[slot], pid, at + 4);
        if (rc != MP_OK)
            return rc;
    }
    return MP_OK;
}

/* Windows has no fork, so spawn is the only way to start a child. */
bool mp_os_supports(mp_start_method method)
{
    return method == MP_START_SPAWN;
}

int mp_os_child_start(const mp_os_start *req, mp_os_child **out)
{
    int rc = check_request(req, out);
    /* The job is made at the first start of any child, not of the first
     * daemonic one, so that the handle it takes is there from then on. */
    if (rc == MP_OK)
        rc = mp_win_job_prepare();
    if (rc != MP_OK)
        return rc;
    mp_os_child *c = malloc(sizeof *c);
    if (c == NULL)
        return mp_fail(MP_ENOMEM, "out of memory");

    start s = {0};
    STARTUPINFOEXW si = {.StartupInfo = {.cb = sizeof si}};
    mp_frame_header frame = {.nhandles = (uint32_t)req->nhandles, .blob_len = req->handoff_len};
    PROCESS_INFORMATION pi;
    rc = prepare(&s, req, &si, &frame);
    if (rc == MP_OK)
        rc = create(s.exe, s.cmdline, &s.inherited, &si, &pi);
    close_copies(&s.inherited);
    if (rc == MP_OK) {
        if (req->daemon)
            rc = mp_win_job_adopt(pi.hProcess, pi.dwProcessId);
        if (rc == MP_OK && ResumeThread(pi.hThread) == (DWORD)-1)
            rc = mp_fail_os(MP_ECHILD, (int)GetLastError(), "mp_process_start: ResumeThread");
        CloseHandle(pi.hThread);
        size_t shares_len = 0;
        if (rc == MP_OK)
            rc = share_sockets(&s, req, pi.dwProcessId, &shares_len);
        if (rc == MP_OK) {
            frame.nsockets = s.nsockets;
            mp_frame_encode_header(s.head, &frame);
            rc = write_frame(s.pipe_write, req, s.head, MP_FRAME_HEADER_SIZE + 8 * req->nhandles, s.shares,
                             shares_len, pi.dwProcessId);
        }
        if (rc != MP_OK)
            abandon(pi.hProcess);
    }
    finish(&s);
    if (rc != MP_OK) {
        free(c);
        return rc;
    }
    *c = (mp_os_child){.process = pi.hProcess, .pid = pi.dwProcessId};
    *out = c;
    return MP_OK;
}
