/* lock_internal.h - what Condition needs of a Lock or RLock: whether the
 * calling thread holds it, and releasing and retaking it whole. */
#ifndef MPROC_LOCK_INTERNAL_H
#define MPROC_LOCK_INTERNAL_H

#include <stdbool.h>

#include "mproc/sync.h"
#include "object/object.h"

bool mp_lock_is_mine(const mp_lock *l);
/* Release every level the calling thread holds; *depth says how many. */
int mp_lock_release_all(mp_lock *l, int *depth);
/* Take it again, depth levels, waiting as long as it takes. */
int mp_lock_restore(mp_lock *l, int depth);

#endif
