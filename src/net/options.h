/* options.h - mp_net_options (net.h) with their defaults filled in, shared
 * by the Listener and Client. */
#ifndef MPROC_NET_OPTIONS_H
#define MPROC_NET_OPTIONS_H

#include "mproc/net.h"

/* Fill in opts (NULL: all defaults). The authkey is still the caller's. */
int mp_net_options_resolve(const mp_net_options *opts, const char *where, mp_net_options *out);

#endif
