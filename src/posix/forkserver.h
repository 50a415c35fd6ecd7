/* forkserver.h - the conversation between a process (forkserver_client.c)
 * and its forkserver (forkserver.c), over a stream socketpair made when the
 * server starts.
 *
 * Each request is a 24-byte header, little-endian u32 type, u32 count,
 * u32 arg1, u32 arg2, u64 length, then `length` bytes of payload:
 *
 *   START   count = handles, arg1 = daemon, payload = the handoff blob.
 *           The header travels with count + 1 descriptors (SCM_RIGHTS): the
 *           write end of the child's status pipe, then the handles.
 *           Reply: i64 pid, or -errno.
 *   SIGNAL  arg1 = pid, arg2 = signal. Reply: i64 0, or -errno. A pid the
 *           server has already reaped is not signalled (reply 0), so a
 *           reused pid is never hit.
 *
 * The status pipe carries wait statuses (i32 each). The child keeps a copy
 * of its write end (close-on-exec, and closed in its own fork children) and
 * writes the status it exits with as the last thing it does; when the
 * server reaps a child it writes the raw wait status and closes its end.
 * The requesting process reads until end of file, which comes once both
 * are gone, and takes the last status: the server's if it lived to reap the
 * child, else the child's own. None means the server died and the child
 * ended without a word (killed by a signal, or _exit): it reads as 255.
 *
 * A non-daemonic child outlives a server that dies (SIGKILL); once the
 * server is gone the requester signals such a child itself, through a pidfd
 * taken while the child still holds its end of the status pipe. A daemonic
 * child dies with the server (PR_SET_PDEATHSIG): reparented, nothing would
 * end it when its parent dies. The server ignores SIGINT (a Ctrl-C reaches
 * the whole foreground process group); its children get SIGINT as the
 * server found it.
 *
 * The server exits when the requesting process goes away (end of file on
 * the socket), after killing its daemonic children and reaping the rest.
 */
#ifndef MPROC_POSIX_FORKSERVER_H
#define MPROC_POSIX_FORKSERVER_H

#include <stdint.h>

#define MP_FS_START 1u
#define MP_FS_SIGNAL 2u
#define MP_FS_HEADER_SIZE 24
/* SCM_MAX_FD is 253 on Linux: the status pipe and 252 handles. */
#define MP_FS_MAX_HANDLES 252

typedef struct mp_fs_header {
    uint32_t type;
    uint32_t count;
    uint32_t arg1;
    uint32_t arg2;
    uint64_t length;
} mp_fs_header;

void mp_fs_encode(unsigned char out[MP_FS_HEADER_SIZE], const mp_fs_header *h);
void mp_fs_decode(const unsigned char in[MP_FS_HEADER_SIZE], mp_fs_header *h);

#endif
