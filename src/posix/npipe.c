/* npipe.c - "pipe:name" addresses are Windows named pipes, which POSIX
 * does not have: every call says so and what to use instead. */
#include "base/error_internal.h"
#include "platform.h"

static int unsupported(void)
{
    return mp_fail(MP_EUNSUPPORTED,
                   "pipe: addresses are Windows named pipes; use unix: or tcp:// on this system");
}

int mp_os_npipe_listen(const char *name, mp_os_npipe_listener **out)
{
    (void)name, (void)out;
    return unsupported();
}

int mp_os_npipe_accept(mp_os_npipe_listener *l, double timeout, mp_os_handle *out)
{
    (void)l, (void)timeout, (void)out;
    return unsupported();
}

/* No listener is ever made here, so there is none to close. */
void mp_os_npipe_close(mp_os_npipe_listener *l)
{
    (void)l;
}

int mp_os_npipe_connect(const char *name, double timeout, mp_os_handle *out)
{
    (void)name, (void)timeout, (void)out;
    return unsupported();
}
