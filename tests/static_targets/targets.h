/* targets.h - targets defined in a static library (see
 * docs/static-libraries.md and tests/test_static_registration.c). */
#ifndef MPROC_TEST_STATIC_TARGETS_H
#define MPROC_TEST_STATIC_TARGETS_H

#include <mproc.h>

/* Registered by MP_TARGET in its own object file. */
int lib_same_file(const mp_value *args);
/* Registered in registrations_anchored.c, linked through its anchor. */
int lib_anchored(const mp_value *args);
/* Registered in registrations_unanchored.c, which nothing links. */
int lib_unanchored(const mp_value *args);
/* Registered by lib_register_manual(). */
int lib_manual(const mp_value *args);
void lib_register_manual(void);

#endif
