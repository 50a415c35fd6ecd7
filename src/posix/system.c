/* system.c - errors, clock, identity, CPUs and randomness on POSIX. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "platform.h"

int mp_os_last_error(void)
{
    return errno;
}

void mp_os_error_text(int oserr, char *buf, size_t size)
{
#if defined(__GLIBC__)
    const char *text = strerror_r(oserr, buf, size);
    if (text != buf)
        snprintf(buf, size, "%s", text);
#else
    if (strerror_r(oserr, buf, size) != 0)
        snprintf(buf, size, "error %d", oserr);
#endif
}

double mp_os_monotonic(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void mp_os_sleep(double seconds)
{
    if (!(seconds > 0))
        return;
    struct timespec left = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

/* getpid() is a system call (glibc stopped caching it), and locks ask for
 * the pid on every acquire and release. The cache is forgotten in a forked
 * child before anything of ours runs there. */
static _Atomic long cached_pid;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void forget_pid(void)
{
    atomic_store_explicit(&cached_pid, 0, memory_order_relaxed);
}

static void watch_forks(void)
{
    pthread_atfork(NULL, NULL, forget_pid);
}

long mp_os_getpid(void)
{
    long pid = atomic_load_explicit(&cached_pid, memory_order_relaxed);
    if (pid == 0) {
        pthread_once(&pid_once, watch_forks);
        pid = (long)getpid();
        atomic_store_explicit(&cached_pid, pid, memory_order_relaxed);
    }
    return pid;
}

int mp_os_cpu_count(void)
{
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

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
