/* mproc/shm.h - Value, Array and SharedMemory (multiprocessing.Value,
 * Array, RawValue, RawArray and shared_memory.SharedMemory).
 *
 * Value and Array are typed elements in anonymous shared memory, zero-
 * initialised, passed to children as process arguments ('O'). Nothing is
 * named, so nothing can leak. With a lock (the default, Python's lock=True)
 * they carry an RLock, from mp_shared_get_lock; Raw variants have none.
 * Reading and writing the memory is plain memory access through
 * mp_shared_ptr: take the lock around read-modify-write sequences.
 *
 * SharedMemory is a block of bytes, anonymous or named. Named blocks can be
 * attached by name from any process. On POSIX a name is a /dev/shm entry:
 * unlink it when done; if every process that created names ends without
 * unlinking them (killed, say), mproc's resource tracker unlinks them. On
 * Windows a named block lives while any process has it open, and unlink
 * does nothing (as in Python): attaching after unlink still works there
 * while some process has the block open, where on POSIX it fails.
 *
 * Names: 1 to 200 bytes (254 on POSIX) of UTF-8 without '/' or '\',
 * except that one leading '/' is allowed and dropped ("/x" and "x" are the
 * same block, and mp_shm_name reports "x"), as Python does on POSIX.
 * Anything else is MP_EINVAL.
 *
 * Thread safety: the objects may be used from several threads; the memory
 * is the user's to synchronise.
 * Errors: MP_EINVAL, MP_ETYPE, MP_ERANGE (index), MP_EEXIST (name taken),
 * MP_EOS (no such name), MP_ENOMEM.
 */
#ifndef MPROC_SHM_H
#define MPROC_SHM_H

#include <stdbool.h>
#include <stddef.h>

#include "mproc/sync.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Python's type codes: 'b' int8, 'B' uint8, 'h' int16, 'H' uint16, 'i'
 * int32, 'I' uint32, 'l'/'q' int64, 'L'/'Q' uint64, 'f' float, 'd' double,
 * 'c' char, '?' bool. */
typedef struct mp_shared mp_shared;

/* Value(typecode, lock=lock): one element. */
int mp_shared_value_new(mp_shared **out, char typecode, bool lock);
/* Array(typecode, length, lock=lock): length elements (0 is allowed). */
int mp_shared_array_new(mp_shared **out, char typecode, size_t length, bool lock);
/* The elements, for plain reads and writes; NULL for a bad object. The
 * memory is valid until mp_shared_free in this process (in a child, until it
 * ends). */
void *mp_shared_ptr(mp_shared *v);
size_t mp_shared_len(const mp_shared *v);
char mp_shared_typecode(const mp_shared *v);
/* get_lock(): the RLock; NULL for a raw value (and MP_ESTATE). The lock
 * belongs to the value: do not free it; it lives as long as the value. */
mp_lock *mp_shared_get_lock(mp_shared *v);
void mp_shared_free(mp_shared *v);

/* ---- SharedMemory ------------------------------------------------------ */

typedef struct mp_shm mp_shm;

/* SharedMemory(name, create=True, size): name NULL makes a random name
 * ("psm_" and hex, as Python's) that mp_shm_name reports. size > 0. */
int mp_shm_create(mp_shm **out, const char *name, size_t size);
/* An anonymous block: no name at all, usable only by passing it to
 * children. Cannot leak. */
int mp_shm_create_anonymous(mp_shm **out, size_t size);
/* SharedMemory(name): attach; the size comes from the OS (a whole number
 * of pages on Windows). */
int mp_shm_attach(mp_shm **out, const char *name);
/* The mapped bytes, valid until mp_shm_close of this object. */
void *mp_shm_buf(mp_shm *s);
size_t mp_shm_size(const mp_shm *s);
/* The name (without a leading '/'); NULL for an anonymous block. Owned by
 * the object: valid until mp_shm_close. */
const char *mp_shm_name(const mp_shm *s);
/* close(): unmap and free this process's object; the pointer may not be
 * used again, and there is no separate free (as mp_conn_close). The block
 * lives on in other processes, and by name until unlinked. */
int mp_shm_close(mp_shm *s);
/* unlink(): remove the name (the memory lives on while mapped). */
int mp_shm_unlink(mp_shm *s);

#ifdef __cplusplus
}
#endif

#endif
