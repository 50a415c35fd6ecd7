/* options.c - defaults of mp_net_options (options.h). */
#include "base/error_internal.h"
#include "net/options.h"

/* Python's Listener queues 1; a burst of clients (a pool's workers all
 * connecting at once) would be refused by some systems. */
#define DEFAULT_BACKLOG 64

int mp_net_options_resolve(const mp_net_options *opts, const char *where, mp_net_options *out)
{
    *out = opts != NULL ? *opts : (mp_net_options)MP_NET_OPTIONS_INIT;
    if (out->backlog < 0)
        return mp_fail(MP_EINVAL, "%s: backlog %d is negative", where, out->backlog);
    if (out->backlog == 0)
        out->backlog = DEFAULT_BACKLOG;
    return MP_OK;
}
