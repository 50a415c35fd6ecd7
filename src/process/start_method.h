/* start_method.h - the method a process object will actually start with. */
#ifndef MPROC_START_METHOD_H
#define MPROC_START_METHOD_H

#include "mproc/process.h"

/* The context's method, or the global one for NULL / the default context. */
mp_start_method mp_resolve_start_method(const mp_context *ctx);

#endif
