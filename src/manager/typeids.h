/* typeids.h - the typeids a server knows: those registered with
 * mp_manager_register, then the built-in ones (typeids.c). */
#ifndef MPROC_MANAGER_TYPEIDS_H
#define MPROC_MANAGER_TYPEIDS_H

#include "mproc/manager.h"

/* The callable of typeid, or NULL. */
mp_typeid_fn mp_typeid_find(const char *typeid);

#endif
