/* child_side.c - a spawned child takes its handoff: the token of its command
 * line names the inherited pipe and the parent's pid (child_start.c); the
 * frame on the pipe (frame.h) gives the travelling handles, the parent's
 * process handle and the blob. Nothing read is trusted: sizes are bounded by
 * frame.h and the blob is stored only as fast as it arrives. */
#include <windows.h>

#include <errno.h>
#include <stdlib.h>

#include "base/error_internal.h"
#include "process/frame.h"
#include "platform.h"
#include "socket_share.h"

#define READ_CHUNK 65536u

static HANDLE parent_process; /* for mp_os_parent_alive */
static mp_os_handle *travelled;
static size_t ntravelled;

/* "<decimal>:<decimal>", nothing else. */
static bool parse_token(const char *token, unsigned long long *pipe, unsigned long long *pid)
{
    char *end;
    if (token == NULL || *token < '0' || *token > '9')
        return false;
    errno = 0;
    *pipe = strtoull(token, &end, 10);
    if (*end != ':' || end[1] < '0' || end[1] > '9')
        return false;
    *pid = strtoull(end + 1, &end, 10);
    return *end == '\0' && errno == 0;
}

static int read_exact(HANDLE pipe, void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        DWORD chunk = len > READ_CHUNK ? READ_CHUNK : (DWORD)len;
        DWORD got;
        if (!ReadFile(pipe, p, chunk, &got, NULL) || got == 0)
            return mp_fail(MP_EPROTO, "handoff: the pipe ended %lu bytes early", (unsigned long)len);
        p += got;
        len -= got;
    }
    return MP_OK;
}

/* Handle values are 32-bit numbers, sign-extended. */
static bool handle_value(uint64_t v, HANDLE *out)
{
    if ((uint64_t)(int64_t)(int32_t)(uint32_t)v != v)
        return false;
    *out = (HANDLE)(intptr_t)(int32_t)(uint32_t)v;
    return true;
}

static int read_values(HANDLE pipe, uint32_t n, mp_os_handle *table)
{
    unsigned char raw[8];
    for (uint32_t i = 0; i < n; i++) {
        HANDLE h = NULL;
        int rc = read_exact(pipe, raw, sizeof raw);
        if (rc == MP_OK && !handle_value(mp_frame_get_u64(raw), &h))
            rc = mp_fail(MP_EPROTO, "handoff: handle %lu is not a handle value", (unsigned long)i);
        if (rc != MP_OK)
            return rc;
        table[i] = (mp_os_handle)h;
    }
    return MP_OK;
}

/* The shared sockets' records after the table: each makes the socket of
 * an empty slot (socket_share.h). */
static int read_sockets(HANDLE pipe, uint32_t k, mp_os_handle *table, uint32_t n)
{
    size_t size = mp_win_socket_share_size();
    unsigned char *record = malloc(size);
    if (record == NULL)
        return mp_fail(MP_ENOMEM, "out of memory");
    int rc = MP_OK;
    for (uint32_t i = 0; i < k && rc == MP_OK; i++) {
        unsigned char raw[4];
        if ((rc = read_exact(pipe, raw, sizeof raw)) == MP_OK)
            rc = read_exact(pipe, record, size);
        uint32_t slot =
            (uint32_t)raw[0] | (uint32_t)raw[1] << 8 | (uint32_t)raw[2] << 16 | (uint32_t)raw[3] << 24;
        if (rc == MP_OK && (slot >= n || table[slot] != 0))
            rc = mp_fail(MP_EPROTO, "handoff: shared socket %lu names slot %lu, not an empty one",
                         (unsigned long)i, (unsigned long)slot);
        HANDLE s;
        if (rc == MP_OK && (rc = mp_win_socket_from_share(record, &s)) == MP_OK)
            table[slot] = (mp_os_handle)s;
    }
    free(record);
    return rc;
}

/* The parent names each handle once in the inheritance list, so an
 * object passed twice arrives as one handle in two slots. Every slot gets
 * a handle of its own: each object that takes one closes it. */
static int separate_duplicates(mp_os_handle *table, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < i; j++)
            if (table[j] == table[i]) {
                HANDLE self = GetCurrentProcess(), copy;
                if (!DuplicateHandle(self, (HANDLE)table[i], self, &copy, 0, FALSE, DUPLICATE_SAME_ACCESS))
                    return mp_fail_os(MP_EOS, (int)GetLastError(), "handoff: duplicating handle %lu",
                                      (unsigned long)i);
                table[i] = (mp_os_handle)copy;
                break;
            }
    return MP_OK;
}

static int read_handles(HANDLE pipe, uint32_t n, uint32_t nsockets, mp_os_handle **out)
{
    mp_os_handle *table = n > 0 ? malloc(n * sizeof *table) : NULL;
    if (n > 0 && table == NULL)
        return mp_fail(MP_ENOMEM, "out of memory");
    int rc = read_values(pipe, n, table);
    if (rc == MP_OK)
        rc = read_sockets(pipe, nsockets, table, n);
    if (rc == MP_OK)
        rc = separate_duplicates(table, n);
    if (rc != MP_OK) {
        free(table);
        return rc;
    }
    *out = table;
    return MP_OK;
}

static int read_blob(HANDLE pipe, uint64_t len, mp_buf *blob)
{
    unsigned char *chunk = malloc(READ_CHUNK);
    if (chunk == NULL)
        return mp_fail(MP_ENOMEM, "out of memory");
    int rc = MP_OK;
    while (rc == MP_OK && len > 0) {
        size_t n = len > READ_CHUNK ? READ_CHUNK : (size_t)len;
        if ((rc = read_exact(pipe, chunk, n)) == MP_OK)
            rc = mp_buf_append(blob, chunk, n);
        len -= n;
    }
    free(chunk);
    return rc;
}

static int read_frame(HANDLE pipe, unsigned long long ppid, mp_buf *blob)
{
    unsigned char head[MP_FRAME_HEADER_SIZE];
    mp_frame_header h;
    HANDLE parent;
    int rc = read_exact(pipe, head, sizeof head);
    if (rc == MP_OK)
        rc = mp_frame_decode_header(head, &h);
    if (rc != MP_OK)
        return rc;
    if (!handle_value(h.parent_handle, &parent) || GetProcessId(parent) != ppid)
        return mp_fail(MP_EPROTO, "handoff: the parent handle is not the parent's (pid %llu)", ppid);
    mp_os_handle *table = NULL;
    if ((rc = read_handles(pipe, h.nhandles, h.nsockets, &table)) != MP_OK)
        return rc;
    if ((rc = read_blob(pipe, h.blob_len, blob)) != MP_OK) {
        free(table);
        return rc;
    }
    parent_process = parent;
    travelled = table;
    ntravelled = h.nhandles;
    return MP_OK;
}

int mp_os_read_handoff(const char *token, mp_buf *blob)
{
    unsigned long long pipe_value, ppid;
    HANDLE pipe;
    if (blob == NULL)
        return mp_fail(MP_EINVAL, "mp_os_read_handoff: NULL blob");
    if (!parse_token(token, &pipe_value, &ppid) || !handle_value(pipe_value, &pipe))
        return mp_fail(MP_EPROTO, "handoff: bad token '%s'", token ? token : "(null)");
    if (GetFileType(pipe) != FILE_TYPE_PIPE)
        return mp_fail_os(MP_EPROTO, (int)GetLastError(), "handoff: the token '%s' names no inherited pipe",
                          token);
    int rc = read_frame(pipe, ppid, blob);
    CloseHandle(pipe);
    return rc;
}

const mp_os_handle *mp_os_child_handles(size_t *n)
{
    if (n != NULL)
        *n = ntravelled;
    return travelled;
}

/* A daemonic child needs nothing here: the parent's job ends it. */
void mp_os_child_init(long parent_pid, bool daemon)
{
    (void)daemon;
    if (parent_process == NULL && parent_pid > 0)
        parent_process = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)parent_pid);
}

int mp_os_parent_alive(void)
{
    return parent_process != NULL && WaitForSingleObject(parent_process, 0) == WAIT_TIMEOUT;
}

/* Every Windows child is spawned: the handlers it has are its own, and
 * exit() runs them all. */
int mp_os_child_at_exit(void (*cleanup)(void))
{
    if (atexit(cleanup) != 0)
        return mp_fail(MP_ENOMEM, "atexit: no room for another handler");
    return MP_OK;
}
