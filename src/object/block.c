/* block.c - shared state blocks (block.h). */
#include <stdint.h>
#include <string.h>

#include "object/block.h"
#include "base/error_internal.h"

#define BLOCK_MAGIC 0x6d70426cu /* "mpBl" */

typedef struct header {
    uint32_t magic;
    uint32_t nsems;
    uint32_t pad_[2];
    uint64_t size;
} header;

#define HEADER_SIZE MP_BLOCK_HEADER_SIZE
_Static_assert(sizeof(header) <= HEADER_SIZE, "block header fits");

static size_t payload_offset(unsigned nsems)
{
    return HEADER_SIZE + (size_t)nsems * MP_OS_SYNC_SLOT;
}

static void *slot(const mp_block *b, unsigned i)
{
    return (char *)b->shm.addr + HEADER_SIZE + (size_t)i * MP_OS_SYNC_SLOT;
}

static void reset(mp_block *b)
{
    memset(b, 0, sizeof *b);
    b->shm.handle = MP_OS_NO_HANDLE;
}

int mp_block_create(mp_block *b, unsigned nsems, const unsigned *initial, size_t payload_size)
{
    reset(b);
    if (nsems > MP_BLOCK_MAX_SEMS)
        return mp_fail(MP_EINVAL, "block: too many semaphores");
    size_t off = payload_offset(nsems);
    if (payload_size > SIZE_MAX - off)
        return mp_fail(MP_ETOOBIG, "shared memory of %zu bytes is too large", payload_size);
    int rc = mp_os_shm_create(NULL, off + payload_size, &b->shm);
    if (rc != MP_OK)
        return rc;
    header *h = b->shm.addr;
    *h = (header){.magic = BLOCK_MAGIC, .nsems = nsems, .size = off + payload_size};
    for (unsigned i = 0; rc == MP_OK && i < nsems; i++)
        if ((rc = mp_os_sem_create(slot(b, i), initial[i], &b->sems[i])) == MP_OK)
            b->nsems = i + 1;
    if (rc != MP_OK) {
        mp_block_close(b);
        return rc;
    }
    b->payload = (char *)b->shm.addr + off;
    return MP_OK;
}

int mp_block_export(const mp_block *b, mp_export *e)
{
    if (e->nhandles + 1 + b->nsems > MP_OBJECT_MAX_HANDLES)
        return mp_fail(MP_ETOOBIG, "object argument: too many handles");
    e->handles[e->nhandles++] = b->shm.handle;
    for (unsigned i = 0; i < b->nsems; i++)
        e->handles[e->nhandles++] = mp_os_sem_handle(b->sems[i]);
    return MP_OK;
}

int mp_block_import(mp_block *b, uint64_t size, const mp_os_handle *h, size_t n, size_t *used)
{
    reset(b);
    if (n < 1 || size < HEADER_SIZE || size > SIZE_MAX) {
        mp_handles_close(h, n);
        return mp_fail(MP_EPROTO, "object argument: malformed shared block");
    }
    int rc = mp_os_shm_adopt(h[0], (size_t)size, &b->shm);
    header hd = rc == MP_OK ? *(header *)b->shm.addr : (header){0};
    if (rc == MP_OK && (hd.magic != BLOCK_MAGIC || hd.nsems > MP_BLOCK_MAX_SEMS || hd.size != size ||
                        size < payload_offset(hd.nsems)))
        rc = mp_fail(MP_EPROTO, "object argument: not an mproc shared block");
    size_t need = 1 + hd.nsems;
    if (rc == MP_OK && n < need)
        rc = mp_fail(MP_EPROTO, "object argument: missing handles");
    size_t i = 1;
    for (; rc == MP_OK && i <= hd.nsems; i++)
        if ((rc = mp_os_sem_attach(slot(b, (unsigned)(i - 1)), h[i], &b->sems[i - 1])) == MP_OK)
            b->nsems = (unsigned)i;
    for (size_t k = i; k < (rc == MP_OK ? need : n); k++)
        mp_os_handle_close(h[k]);
    if (rc != MP_OK) {
        mp_block_close(b);
        return rc;
    }
    b->payload = (char *)b->shm.addr + payload_offset(hd.nsems);
    *used = need;
    return MP_OK;
}

void mp_block_close(mp_block *b)
{
    for (unsigned i = 0; i < b->nsems; i++)
        mp_os_sem_free(b->sems[i]);
    if (b->shm.addr != NULL || b->shm.handle != MP_OS_NO_HANDLE)
        mp_os_shm_close(&b->shm);
    reset(b);
}

size_t mp_block_payload_size(const mp_block *b)
{
    return b->shm.size - (size_t)((const char *)b->payload - (const char *)b->shm.addr);
}
