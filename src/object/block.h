/* block.h - the shared state of a synchronisation object, a queue or a
 * shared value: one shared memory mapping laid out as
 *   [header][semaphore slots][payload]
 * with its semaphores. Everything a child needs to use it is in the
 * mapping's header, so exporting it is just the mapping and the Windows
 * handles of its semaphores. */
#ifndef MPROC_BLOCK_H
#define MPROC_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "object/object.h"
#include "platform.h"

#define MP_BLOCK_MAX_SEMS 5

/* The mapping's header; the sync slots follow it. */
#define MP_BLOCK_HEADER_SIZE 64

typedef struct mp_block {
    mp_os_shm shm;
    mp_os_sem *sems[MP_BLOCK_MAX_SEMS];
    unsigned nsems;
    void *payload;
} mp_block;

/* Make a block with nsems semaphores (initial values given) and
 * payload_size zeroed bytes. */
int mp_block_create(mp_block *b, unsigned nsems, const unsigned *initial, size_t payload_size);
/* Append the mapping and sync handles to e (uses 1 + nsems slots).
 * The kind exports b->shm.size in its fields: import needs it. */
int mp_block_export(const mp_block *b, mp_export *e);
/* Rebuild from handles exported by mp_block_export; takes ownership of all
 * of them, also on failure. *used says how many it consumed. */
int mp_block_import(mp_block *b, uint64_t size, const mp_os_handle *h, size_t n, size_t *used);
void mp_block_close(mp_block *b);
/* The MP_OS_SYNC_SPARE bytes of semaphore slot i that the OS object
 * leaves free: the same cache line as it.
 * Inline: a Lock finds its state here on every acquire and release. */
static inline void *mp_block_spare(const mp_block *b, unsigned i)
{
    return (char *)b->shm.addr + MP_BLOCK_HEADER_SIZE + (size_t)(i + 1) * MP_OS_SYNC_SLOT - MP_OS_SYNC_SPARE;
}

/* The bytes of the payload: what the mapping holds after the sync slots. */
size_t mp_block_payload_size(const mp_block *b);

#endif
