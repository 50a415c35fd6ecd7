/* random.c - cryptographic random bytes: getrandom, or /dev/urandom where
 * the kernel has no getrandom. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "platform.h"

static int random_from_device(unsigned char *out, size_t len)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mp_fail_os(MP_EOS, errno, "no random source: /dev/urandom");
    while (len > 0) {
        ssize_t n = read(fd, out, len);
        if (n <= 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = errno;
            close(fd);
            return mp_fail_os(MP_EOS, err, "reading /dev/urandom");
        }
        out += n;
        len -= (size_t)n;
    }
    close(fd);
    return MP_OK;
}

int mp_os_random(void *buf, size_t len)
{
    unsigned char *out = buf;
    while (len > 0) {
        ssize_t n = getrandom(out, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return random_from_device(out, len);
        out += n;
        len -= (size_t)n;
    }
    return MP_OK;
}
