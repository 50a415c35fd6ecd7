/* fdio.c - descriptor helpers: whole reads and writes, pidfds, and putting a
 * fresh child's descriptors in order. Helpers of every section that moves
 * bytes or descriptors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "process/frame.h"
#include "posix.h"

int mp_posix_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        /* send with MSG_NOSIGNAL on sockets; plain write elsewhere. */
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mp_fail_os(errno == EPIPE || errno == ECONNRESET ? MP_EEOF : MP_EOS, errno, "write");
        p += n;
        len -= (size_t)n;
    }
    return MP_OK;
}

int mp_posix_read_all(int fd, void *data, size_t len)
{
    char *p = data;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mp_fail_os(errno == ECONNRESET ? MP_EEOF : MP_EOS, errno, "read");
        if (n == 0)
            return mp_fail(MP_EEOF, "read: end of file with %zu bytes still to come", len);
        p += n;
        len -= (size_t)n;
    }
    return MP_OK;
}

int mp_posix_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

int mp_posix_pidfd_send_signal(int pidfd, int sig)
{
#ifdef SYS_pidfd_send_signal
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
#else
    (void)pidfd;
    (void)sig;
    errno = ENOSYS;
    return -1;
#endif
}

static void close_from(int first)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)first, ~0u, 0) == 0)
        return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = first; fd < (max > 0 ? max : 65536); fd++)
        close((int)fd);
}

int mp_posix_renumber_fds(const int *fds, size_t n)
{
    /* Move the sources above every target first, so no dup2 overwrites a
     * source that is still to be moved. */
    int base = MP_POSIX_FIRST_FD + (int)n;
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= base)
            base = fds[i] + 1;
    int high[MP_FRAME_MAX_HANDLES + 1];
    if (n > MP_FRAME_MAX_HANDLES + 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        high[i] = fcntl(fds[i], F_DUPFD, base);
        if (high[i] < 0)
            return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (dup2(high[i], MP_POSIX_FIRST_FD + (int)i) < 0)
            return -1;
    close_from(MP_POSIX_FIRST_FD + (int)n);
    return 0;
}
