/* selfexec_posix.c - run and copy the test executable itself (harness.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "platform.h"

extern char **environ;

static int self_path(char *out, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", out, size - 1);
    if (n < 0)
        return -1;
    out[n] = '\0';
    return 0;
}

/* waitpid, up to timeout seconds: the exit status, or -1 on an error or
 * when the program still runs. */
static int wait_within(pid_t pid, double timeout, int *status)
{
    double deadline = mp_os_monotonic() + timeout;
    for (;;) {
        pid_t got = waitpid(pid, status, WNOHANG);
        if (got == pid)
            return 0;
        if (got < 0 && errno != EINTR)
            return -1;
        if (mp_os_monotonic() >= deadline)
            return -1;
        mp_os_sleep(0.01);
    }
}

int mpt_exec_self(const char *exe, const char *const *args, size_t nargs, double timeout)
{
    char path[PATH_MAX];
    if (exe == NULL && self_path(path, sizeof path) != 0)
        return -1000;
    if (exe == NULL)
        exe = path;
    char **argv = calloc(nargs + 2, sizeof *argv);
    if (argv == NULL)
        return -1000;
    argv[0] = (char *)exe;
    for (size_t i = 0; i < nargs; i++)
        argv[i + 1] = (char *)args[i];
    pid_t pid;
    int rc = posix_spawn(&pid, exe, NULL, NULL, argv, environ);
    free(argv);
    if (rc != 0)
        return -1000;
    int status;
    if (wait_within(pid, timeout, &status) != 0) {
        fprintf(stderr, "harness: %s still ran after %g s: killed\n", exe, timeout);
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        return MPT_EXEC_TIMEDOUT;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

int mpt_copy_self(const char *dir, const char *name, char *out, size_t size)
{
    char self[PATH_MAX];
    if (self_path(self, sizeof self) != 0 || (mkdir(dir, 0700) != 0 && errno != EEXIST))
        return -1;
    if ((size_t)snprintf(out, size, "%s/%s", dir, name) >= size)
        return -1;
    FILE *in = fopen(self, "rb");
    FILE *copy = fopen(out, "wb");
    int rc = in && copy ? 0 : -1;
    char buf[65536];
    size_t n;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, copy) != n)
            rc = -1;
    if (in)
        fclose(in);
    if (copy && fclose(copy) != 0)
        rc = -1;
    if (rc == 0)
        rc = chmod(out, 0700);
    return rc;
}

void mpt_remove_copy(const char *dir, const char *path)
{
    unlink(path);
    rmdir(dir);
}

void mpt_sibling_path(const char *name, char *out, size_t size)
{
    char self[4096] = "";
    if (self_path(self, sizeof self) != 0)
        self[0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL)
        slash[1] = '\0';
    snprintf(out, size, "%s%s", self, name);
}

void mpt_temp_dir(char *out, size_t size)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, size, "%s/mproc-test-%ld", base && *base ? base : "/tmp", (long)getpid());
}
