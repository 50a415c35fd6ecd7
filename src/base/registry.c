/* registry.c - targets, globals and child-init hooks, by name. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/fork_path.h"
#include "platform.h"
#include "base/registry_internal.h"
#include "base/str.h"
#include "base/utf8.h"

#define MAX_NAME 255
#define MAX_GLOBAL_SIZE ((size_t)64 << 20)

/* Targets and pool tasks share one namespace: a name means one function. */
typedef struct target_entry {
    const char *name;
    mp_registry_kind kind;
    mp_any_fn fn;
} target_entry;

typedef struct global_entry {
    const char *name;
    void *addr;
    size_t size;
} global_entry;

typedef struct hook_entry {
    mp_child_init_fn fn;
    void *arg;
} hook_entry;

/* Growable arrays under the global lock. Names are copied. */
static target_entry *targets;
static size_t ntargets, cap_targets;
static global_entry *globals;
static size_t nglobals, cap_globals;
static hook_entry *hooks;
static size_t nhooks, cap_hooks;

static int load_error;
static char load_message[MP_ERROR_MESSAGE_SIZE];

static int grow(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return MP_OK;
    size_t new_cap = *cap ? *cap * 2 : 16;
    void *p = realloc(*items, new_cap * size);
    if (p == NULL)
        return mp_fail(MP_ENOMEM, "registry: out of memory");
    *items = p;
    *cap = new_cap;
    return MP_OK;
}

static int check_name(const char *what, const char *name)
{
    if (name == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL name", what);
    size_t len = strlen(name);
    if (len == 0 || len > MAX_NAME)
        return mp_fail(MP_EINVAL, "%s: a name has 1 to %d bytes, not %zu", what, MAX_NAME, len);
    if (!mp_utf8_valid(name, len))
        return mp_fail(MP_EINVAL, "%s: name is not valid UTF-8", what);
    return MP_OK;
}

static target_entry *find_target_locked(const char *name)
{
    for (size_t i = 0; i < ntargets; i++)
        if (strcmp(targets[i].name, name) == 0)
            return &targets[i];
    return NULL;
}

static const char *const kind_names[] = {"target", "task", "element task", "manager typeid"};

int mp_registry_add(mp_registry_kind kind, const char *what, const char *name, mp_any_fn fn)
{
    int rc = check_name(what, name);
    if (rc != MP_OK)
        return rc;
    if (fn == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL function for '%s'", what, name);

    mp_os_global_lock();
    target_entry *found = find_target_locked(name);
    if (found) {
        rc = found->fn == fn && found->kind == kind
                 ? MP_OK
                 : mp_fail(MP_EEXIST, "%s: the name '%s' is already registered to another %s; use "
                                      "MP_TARGET_NAMED or MP_TASK_NAMED to give one a different name",
                           what, name, kind_names[found->kind]);
    } else if ((rc = grow((void **)&targets, &cap_targets, ntargets, sizeof *targets)) == MP_OK) {
        char *copy = mp_strdup(name);
        if (copy == NULL)
            rc = mp_fail(MP_ENOMEM, "%s: out of memory", what);
        else
            targets[ntargets++] = (target_entry){copy, kind, fn};
    }
    mp_os_global_unlock();
    return rc;
}

int mp_register(const char *name, mp_target_fn fn)
{
    return mp_registry_add(MP_REG_TARGET, "mp_register", name, (mp_any_fn)fn);
}

const char *mp_registry_name(mp_registry_kind kind, mp_any_fn fn)
{
    const char *name = NULL;
    mp_os_global_lock();
    for (size_t i = 0; i < ntargets && name == NULL; i++)
        if (targets[i].fn == fn && targets[i].kind == kind)
            name = targets[i].name;
    mp_os_global_unlock();
    return name;
}

const char *mp_target_name(mp_target_fn fn)
{
    return mp_registry_name(MP_REG_TARGET, (mp_any_fn)fn);
}

mp_any_fn mp_registry_lookup(mp_registry_kind kind, const char *name)
{
    mp_os_global_lock();
    target_entry *found = find_target_locked(name);
    mp_any_fn fn = found && found->kind == kind ? found->fn : NULL;
    mp_os_global_unlock();
    return fn;
}

mp_target_fn mp_registry_find(const char *name)
{
    return (mp_target_fn)mp_registry_lookup(MP_REG_TARGET, name);
}

int mp_global(const char *name, void *addr, size_t size)
{
    int rc = check_name("mp_global", name);
    if (rc != MP_OK)
        return rc;
    if (addr == NULL)
        return mp_fail(MP_EINVAL, "mp_global: NULL address for '%s'", name);
    if (size == 0 || size > MAX_GLOBAL_SIZE)
        return mp_fail(MP_EINVAL, "mp_global: '%s' has size %zu; a global has 1 byte to 64 MiB", name, size);

    mp_os_global_lock();
    global_entry *found = NULL;
    for (size_t i = 0; i < nglobals && found == NULL; i++)
        if (strcmp(globals[i].name, name) == 0)
            found = &globals[i];
    if (found) {
        rc = found->addr == addr && found->size == size
                 ? MP_OK
                 : mp_fail(MP_EEXIST, "mp_global: '%s' is already registered with another address or size", name);
    } else if ((rc = grow((void **)&globals, &cap_globals, nglobals, sizeof *globals)) == MP_OK) {
        char *copy = mp_strdup(name);
        if (copy == NULL)
            rc = mp_fail(MP_ENOMEM, "mp_global: out of memory");
        else
            globals[nglobals++] = (global_entry){copy, addr, size};
    }
    mp_os_global_unlock();
    return rc;
}

int mp_on_child_init(mp_child_init_fn fn, void *arg)
{
    if (fn == NULL)
        return mp_fail(MP_EINVAL, "mp_on_child_init: NULL function");
    mp_os_global_lock();
    int rc = grow((void **)&hooks, &cap_hooks, nhooks, sizeof *hooks);
    if (rc == MP_OK)
        hooks[nhooks++] = (hook_entry){fn, arg};
    mp_os_global_unlock();
    return rc;
}

static void remember_load_error(int rc)
{
    if (rc == MP_OK || load_error != MP_OK)
        return;
    load_error = rc;
    snprintf(load_message, sizeof load_message, "%s", mp_last_error());
}

void mp_register_at_load(const char *name, mp_target_fn fn)
{
    remember_load_error(mp_register(name, fn));
}

void mp_registry_add_at_load(mp_registry_kind kind, const char *what, const char *name, mp_any_fn fn)
{
    remember_load_error(mp_registry_add(kind, what, name, fn));
}

void mp_global_at_load(const char *name, void *addr, size_t size)
{
    remember_load_error(mp_global(name, addr, size));
}

int mp_registry_load_error(const char **message)
{
    *message = load_message;
    return load_error;
}

int mp_registry_pack_globals(mp_buf *b)
{
    mp_os_global_lock();
    int rc = mp_pack_map(b, (uint32_t)nglobals);
    for (size_t i = 0; i < nglobals && rc == MP_OK; i++) {
        rc = mp_pack_str(b, globals[i].name, strlen(globals[i].name));
        if (rc == MP_OK)
            rc = mp_pack_bin(b, globals[i].addr, globals[i].size);
    }
    mp_os_global_unlock();
    return rc;
}

int mp_registry_restore_globals(const mp_value *map)
{
    if (map->type != MP_MAP)
        return mp_fail(MP_EPROTO, "handoff: globals are not a map");
    for (uint32_t i = 0; i < map->as.map.len; i++) {
        const mp_value *key = &map->as.map.items[2 * i];
        const mp_value *val = &map->as.map.items[2 * i + 1];
        if (key->type != MP_STR || val->type != MP_BIN)
            return mp_fail(MP_EPROTO, "handoff: global %u is not a name and bytes", i);
        global_entry *found = NULL;
        for (size_t g = 0; g < nglobals && found == NULL; g++)
            if (strcmp(globals[g].name, key->as.str.ptr) == 0)
                found = &globals[g];
        if (found == NULL)
            return mp_fail(MP_EPROTO, "handoff: the parent ships global '%s', which this program does not register",
                           key->as.str.ptr);
        if (found->size != val->as.bin.len)
            return mp_fail(MP_EPROTO, "handoff: global '%s' has %u bytes in the parent, %zu here", key->as.str.ptr,
                           val->as.bin.len, found->size);
        memcpy(found->addr, val->as.bin.ptr, found->size);
    }
    return MP_OK;
}

MP_FORK_PATH int mp_registry_run_child_inits(void)
{
    for (size_t i = 0; i < nhooks; i++) {
        int rc = hooks[i].fn(hooks[i].arg);
        if (rc < 0)
            return rc;
    }
    return MP_OK;
}
