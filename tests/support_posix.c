/* support_posix.c - the leak counters of harness.h on Linux: open fds from
 * /proc/self/fd, children and zombies from /proc/<pid>/stat. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "platform.h"

long mpt_count_handles(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (isdigit((unsigned char)e->d_name[0]))
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

static bool is_forkserver(const char *pid)
{
    char path[300], cmd[4096];
    snprintf(path, sizeof path, "/proc/%s/cmdline", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, cmd, sizeof cmd - 1);
    close(fd);
    if (n <= 0)
        return false;
    for (ssize_t at = 0; at < n; at += (ssize_t)strlen(cmd + at) + 1)
        if (strcmp(cmd + at, MP_FORKSERVER_MARKER) == 0)
            return true;
    return false;
}

/* Count processes whose parent is this one; zombies_only counts state Z. */
static long count(bool zombies_only)
{
    DIR *d = opendir("/proc");
    if (d == NULL)
        return -1;
    long n = 0;
    pid_t me = getpid();
    for (struct dirent *e; (e = readdir(d));) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], stat[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "re");
        if (f == NULL)
            continue;
        size_t len = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[len] = '\0';
        /* pid (comm) state ppid ...; comm may hold spaces and parentheses. */
        char *close = strrchr(stat, ')');
        char state;
        long ppid;
        if (close == NULL || sscanf(close + 1, " %c %ld", &state, &ppid) != 2 || ppid != me)
            continue;
        if (zombies_only ? state == 'Z' : !is_forkserver(e->d_name))
            n++;
    }
    closedir(d);
    return n;
}

long mpt_count_children(void)
{
    return count(false);
}

long mpt_count_zombies(void)
{
    return count(true);
}

void mpt_each_shm_name(void (*each)(const char *name, void *ctx), void *ctx)
{
    DIR *d = opendir("/dev/shm");
    if (d == NULL)
        return;
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, "psm_", 4) == 0 || strncmp(e->d_name, "mproc", 5) == 0)
            each(e->d_name, ctx);
    closedir(d);
}

int mpt_kill_pid(long pid)
{
    return kill((pid_t)pid, SIGKILL) == 0 ? 0 : -1;
}

/* The state letter of /proc/<pid>/stat ('T' once stopped), or 0. */
static char proc_state(long pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close_paren = strrchr(buf, ')');
    return close_paren != NULL && close_paren[1] == ' ' ? close_paren[2] : 0;
}

int mpt_stop_pid(long pid, bool stop)
{
    if (kill((pid_t)pid, stop ? SIGSTOP : SIGCONT) != 0)
        return -1;
    /* The signal takes effect a little later; a test that stops a process
     * must not race a request in ahead of it. */
    for (int i = 0; stop && i < 500 && proc_state(pid) != 'T'; i++)
        usleep(10000);
    return 0;
}

bool mpt_under_wine(void)
{
    return false;
}
