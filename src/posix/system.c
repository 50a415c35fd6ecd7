/* system.c - this process's pid, whether another process lives, how
 * many CPUs this process may run on, and the machine's name. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/fork_path.h"
#include "platform.h"

/* getpid() is a system call (glibc stopped caching it), and locks ask for
 * the pid on every acquire and release. The cache is forgotten in a forked
 * child before anything of ours runs there. Unknown is -1, not 0, so that
 * the cache is initialised data: beside the other statics a fork child
 * writes (child_side.c's), on a page it copies anyway, rather than alone
 * on a page of zeroes that forgetting would cost it one more fault. */
#define PID_UNKNOWN (-1L)
static _Atomic long cached_pid = PID_UNKNOWN;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static MP_FORK_PATH void forget_pid(void)
{
    atomic_store_explicit(&cached_pid, PID_UNKNOWN, memory_order_relaxed);
}

static void watch_forks(void)
{
    pthread_atfork(NULL, NULL, forget_pid);
}

long mp_os_getpid(void)
{
    long pid = atomic_load_explicit(&cached_pid, memory_order_relaxed);
    if (pid == PID_UNKNOWN) {
        pthread_once(&pid_once, watch_forks);
        pid = (long)getpid();
        atomic_store_explicit(&cached_pid, pid, memory_order_relaxed);
    }
    return pid;
}

/* A long in decimal, sign included. */
#define MAX_PID_DIGITS 21
/* Enough of /proc/<pid>/stat for the state letter after the process name
 * (at most 16 bytes, in parentheses). */
#define STAT_HEAD_SIZE 256

int mp_os_pid_alive(long pid)
{
    if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
        return 0;
    /* A zombie has ended; only its parent has not reaped it yet. */
    char path[sizeof "/proc//stat" + MAX_PID_DIGITS], line[STAT_HEAD_SIZE];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *end_of_name = strrchr(line, ')');
    return !(end_of_name != NULL && end_of_name[1] == ' ' && end_of_name[2] == 'Z');
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

void mp_os_hostname(char *buf, size_t size)
{
    if (size == 0)
        return;
    if (gethostname(buf, size) != 0)
        snprintf(buf, size, "unknown");
    buf[size - 1] = '\0';
}
