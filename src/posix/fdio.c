/* fdio.c - descriptor helpers: whole reads and writes, pidfds, and putting
 * a fresh child's descriptors in order. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "process/frame.h"
#include "posix.h"
#include "base/timeout.h"

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

int mp_posix_poll_ms(double deadline)
{
    if (mp_timeout_forever(deadline))
        return -1;
    double left = mp_time_left(deadline);
    if (left <= 0)
        return 0;
    if (left > 86400)
        left = 86400;
    return (int)(left * 1000) + 1;
}

struct timespec mp_posix_abstime(double timeout)
{
    if (mp_timeout_polls(timeout))
        timeout = 0;
    if (timeout > 86400)
        timeout = 86400;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ns = (long long)now.tv_nsec + (long long)(timeout * 1e9);
    return (struct timespec){.tv_sec = now.tv_sec + (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
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

int mp_posix_exitcode(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    return -1000;
}
