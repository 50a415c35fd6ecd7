/* shared_memory.c - SharedMemory (shm.h). */
#include <stdio.h>
#include <stdlib.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "mproc/shm.h"
#include "object/object.h"

struct mp_shm {
    mp_object hdr;
    mp_os_shm map;
    char *name; /* NULL: anonymous */
};

static int make(mp_shm **out, const char *name, const char *where)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL out", where);
    *out = NULL;
    mp_shm *s = calloc(1, sizeof *s);
    if (s == NULL || (name != NULL && (s->name = mp_strdup(name)) == NULL)) {
        free(s);
        return mp_fail(MP_ENOMEM, "%s: out of memory", where);
    }
    mp_object_init(&s->hdr, MP_KIND_SHM);
    s->map.handle = MP_OS_NO_HANDLE;
    *out = s;
    return MP_OK;
}

static void drop(mp_shm *s)
{
    free(s->name);
    free(s);
}

/* The name of a block created without one: Python's prefix, then random
 * bytes in hex. */
#define RANDOM_NAME_PREFIX "psm_"
#define RANDOM_NAME_BYTES 8
#define RANDOM_NAME_SIZE (sizeof RANDOM_NAME_PREFIX + 2 * RANDOM_NAME_BYTES)

static int make_random_name(char name[RANDOM_NAME_SIZE])
{
    unsigned char r[RANDOM_NAME_BYTES];
    int rc = mp_os_random(r, sizeof r);
    if (rc != MP_OK)
        return rc;
    size_t used = (size_t)snprintf(name, RANDOM_NAME_SIZE, "%s", RANDOM_NAME_PREFIX);
    for (size_t i = 0; i < sizeof r; i++)
        used += (size_t)snprintf(name + used, RANDOM_NAME_SIZE - used, "%02x", r[i]);
    return MP_OK;
}

/* Python on POSIX adds a leading '/' when the name has none and reports the
 * name without it, so "/x" and "x" are the same block; the same holds here on
 * both systems. */
static const char *bare_name(const char *name)
{
    return name[0] == '/' ? name + 1 : name;
}

int mp_shm_create(mp_shm **out, const char *name, size_t size)
{
    char random_name[RANDOM_NAME_SIZE];
    if (name != NULL) {
        name = bare_name(name);
    } else {
        int rc = make_random_name(random_name);
        if (rc != MP_OK)
            return rc;
        name = random_name;
    }
    int rc = make(out, name, "mp_shm_create");
    if (rc != MP_OK)
        return rc;
    if ((rc = mp_os_shm_create(name, size, &(*out)->map)) != MP_OK) {
        drop(*out);
        *out = NULL;
    }
    return rc;
}

int mp_shm_create_anonymous(mp_shm **out, size_t size)
{
    int rc = make(out, NULL, "mp_shm_create_anonymous");
    if (rc == MP_OK && (rc = mp_os_shm_create(NULL, size, &(*out)->map)) != MP_OK) {
        drop(*out);
        *out = NULL;
    }
    return rc;
}

int mp_shm_attach(mp_shm **out, const char *name)
{
    if (name == NULL)
        return mp_fail(MP_EINVAL, "mp_shm_attach: NULL name");
    name = bare_name(name);
    int rc = make(out, name, "mp_shm_attach");
    if (rc == MP_OK && (rc = mp_os_shm_open(name, &(*out)->map)) != MP_OK) {
        drop(*out);
        *out = NULL;
    }
    return rc;
}

void *mp_shm_buf(mp_shm *s)
{
    return mp_object_check(s, MP_KIND_SHM, "mp_shm_buf") == MP_OK ? s->map.addr : NULL;
}

size_t mp_shm_size(const mp_shm *s)
{
    return mp_object_check(s, MP_KIND_SHM, "mp_shm_size") == MP_OK ? s->map.size : 0;
}

const char *mp_shm_name(const mp_shm *s)
{
    return mp_object_check(s, MP_KIND_SHM, "mp_shm_name") == MP_OK ? s->name : NULL;
}

static void shm_free(mp_object *o)
{
    mp_shm *s = (mp_shm *)(void *)o;
    mp_os_shm_close(&s->map);
    if (!o->imported)
        free(s->name);
    mp_object_discard(o);
}

int mp_shm_close(mp_shm *s)
{
    return mp_object_free_checked(s, MP_KIND_SHM, "mp_shm_close");
}

int mp_shm_unlink(mp_shm *s)
{
    int rc = mp_object_check(s, MP_KIND_SHM, "mp_shm_unlink");
    if (rc == MP_OK && s->name == NULL)
        rc = mp_fail(MP_ESTATE, "mp_shm_unlink: an anonymous block has no name");
    return rc == MP_OK ? mp_os_shm_unlink(s->name) : rc;
}

static int shm_export(const mp_object *o, mp_export *e)
{
    const mp_shm *s = (const mp_shm *)(const void *)o;
    e->handles[e->nhandles++] = s->map.handle;
    return mp_pack(&e->fields, "(Qz)", (uint64_t)s->map.size, s->name);
}

static int shm_import(mp_kind kind, const mp_value *fields, const mp_os_handle *h, size_t n,
                      mp_object *nested, mp_object **out)
{
    (void)kind;
    uint64_t size;
    const char *name;
    if (n != 1 || nested != NULL || mp_unpack(fields, "(Qz)", &size, &name) != MP_OK || size == 0 ||
        size > SIZE_MAX) {
        mp_handles_close(h, n);
        return mp_fail(MP_EPROTO, "SharedMemory argument: malformed");
    }
    mp_shm *s;
    int rc = make(&s, name, "SharedMemory argument");
    if (rc == MP_OK && (rc = mp_os_shm_adopt(h[0], (size_t)size, &s->map)) != MP_OK)
        drop(s);
    if (rc == MP_OK)
        *out = &s->hdr;
    return rc;
}

const mp_object_ops mp_shm_ops = {
    .name = "SharedMemory", .export_ = shm_export, .import_ = shm_import, .free_ = shm_free};
