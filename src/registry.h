/* registry.h - the core's side of the registry (mproc/registry.h): finding
 * targets by name, shipping globals, running child-init hooks. */
#ifndef MPROC_REGISTRY_INTERNAL_H
#define MPROC_REGISTRY_INTERNAL_H

#include "mproc/pack.h"
#include "mproc/registry.h"

/* The function registered under name, or NULL. */
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
