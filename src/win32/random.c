/* random.c - cryptographic random bytes from the system's preferred RNG. */
#include <windows.h>

#include <bcrypt.h>

#include "base/error_internal.h"
#include "platform.h"

int mp_os_random(void *buf, size_t len)
{
    if (buf == NULL && len > 0)
        return mp_fail(MP_EINVAL, "mp_os_random: NULL buffer");
    unsigned char *p = buf;
    while (len > 0) {
        ULONG chunk = len > 0x40000000u ? 0x40000000u : (ULONG)len;
        NTSTATUS status = BCryptGenRandom(NULL, p, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG);
        if (!BCRYPT_SUCCESS(status))
            return mp_fail(MP_EOS, "BCryptGenRandom failed with NTSTATUS 0x%08lx", (unsigned long)status);
        p += chunk;
        len -= chunk;
    }
    return MP_OK;
}
