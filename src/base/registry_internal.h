/* registry_internal.h - the core's side of the registry (mproc/registry.h): finding
 * targets by name, shipping globals, running child-init hooks. */
#ifndef MPROC_REGISTRY_INTERNAL_H
#define MPROC_REGISTRY_INTERNAL_H

#include "mproc/pack.h"
#include "mproc/registry.h"

/* What a registered name can stand for. */
typedef enum mp_registry_kind { MP_REG_TARGET, MP_REG_TASK, MP_REG_ELEM_TASK, MP_REG_TYPEID } mp_registry_kind;

/* Any function pointer, as stored; cast back to the kind's type. */
typedef void (*mp_any_fn)(void);

/* Register fn of a kind under name; what names the caller in messages. */
int mp_registry_add(mp_registry_kind kind, const char *what, const char *name, mp_any_fn fn);
/* The same at load time: a failure is kept for mp_main to report. */
void mp_registry_add_at_load(mp_registry_kind kind, const char *what, const char *name, mp_any_fn fn);
/* The function of that kind registered under name, or NULL. */
mp_any_fn mp_registry_lookup(mp_registry_kind kind, const char *name);
/* The name fn is registered under as that kind, or NULL. */
const char *mp_registry_name(mp_registry_kind kind, mp_any_fn fn);

/* The target registered under name, or NULL. */
mp_target_fn mp_registry_find(const char *name);

/* Append a map of every global's name to its current bytes (bin). */
int mp_registry_pack_globals(mp_buf *b);

/* Overwrite the registered globals from such a map. MP_EPROTO for a name
 * this program does not register or a size that differs. */
int mp_registry_restore_globals(const mp_value *map);

/* Run the child-init hooks in order; stop at the first failure. */
int mp_registry_run_child_inits(void);

/* The first failure of a load-time registration (MP_OK if none); its
 * message is in *message. */
int mp_registry_load_error(const char **message);

#endif
