/* handle.c - handles are file descriptors. */
#include <unistd.h>

#include "platform.h"

void mp_os_handle_close(mp_os_handle h)
{
    if (h >= 0)
        close((int)h);
}
