/* handle.c - handles are HANDLEs. Both NULL and INVALID_HANDLE_VALUE
 * (MP_OS_NO_HANDLE) mean none: a failed Windows call gives one or the
 * other, depending on the call. */
#include <windows.h>

#include "platform.h"

void mp_os_handle_close(mp_os_handle h)
{
    if (h != MP_OS_NO_HANDLE && h != 0)
        CloseHandle((HANDLE)h);
}
