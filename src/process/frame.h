/* frame.h - how a spawn handoff crosses the pipe (docs/protocol.md §2).
 *
 *   offset  size  field
 *   0       4     magic "MPRC"
 *   4       4     frame version, u32 little-endian (MP_FRAME_VERSION)
 *   8       4     number of handles n, u32 LE (at most MP_FRAME_MAX_HANDLES)
 *   12      4     number of shared sockets k, u32 LE (Windows; at most n), else 0
 *   16      8     blob length, u64 LE (at most MP_FRAME_MAX_BLOB)
 *   24      8     parent process handle in the child (Windows), else 0
 *   32      8n    the travelling handles' values in the child, u64 LE each
 *   32+8n   k*r   Windows: per shared socket its slot, u32 LE, and the
 *                 WSAPROTOCOL_INFOW of WSADuplicateSocketW (r = 4 + its size)
 *   ...     len   the handoff blob (MessagePack, handoff.h)
 *
 * Both platform layers write and read it with these helpers.
 */
#ifndef MPROC_FRAME_H
#define MPROC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define MP_FRAME_HEADER_SIZE 32
#define MP_FRAME_VERSION 1u
#define MP_FRAME_MAX_HANDLES 1024u
#define MP_FRAME_MAX_BLOB 0xffffffffu

typedef struct mp_frame_header {
    uint32_t nhandles;
    uint32_t nsockets;
    uint64_t blob_len;
    uint64_t parent_handle;
} mp_frame_header;

void mp_frame_encode_header(unsigned char out[MP_FRAME_HEADER_SIZE], const mp_frame_header *h);
/* MP_EPROTO for a bad magic or version, or a count or length beyond the
 * limits. */
int mp_frame_decode_header(const unsigned char in[MP_FRAME_HEADER_SIZE], mp_frame_header *h);

void mp_frame_put_u64(unsigned char *p, uint64_t v);
uint64_t mp_frame_get_u64(const unsigned char *p);

#endif
