/* tracker.c - the resource tracker: a small process that unlinks the
 * shared memory names a process tree created and left behind, as when a
 * process is SIGKILLed between creating and unlinking a name.
 *
 * The first process of a tree that creates a name starts it (detached by a
 * double fork, so it is nobody's child) and publishes its abstract socket in
 * the environment (MPROC_TRACKER); children of every start method find it
 * there. Each registering process holds one connection (a fork child shares
 * its parent's) and writes lines "R<name>\n" and "U<name>\n". When the last
 * connection closes, every process that registered anything has ended: the
 * tracker unlinks the names still registered and exits. A helper of shared
 * memory (shm.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "posix.h"

#define ENV_NAME "MPROC_TRACKER"
#define MAX_CLIENTS 256
#define MAX_NAMES 4096
#define LINE_MAX_ 300
/* What one read of a client takes: many lines at a time. */
#define READ_CHUNK 4096
/* "mproc-tracker-<pid>-<16 hex digits>", NUL included. */
#define TRACKER_ID_SIZE 64

static int connection = -1; /* guarded by the global lock */

static socklen_t address(const char *id, struct sockaddr_un *a)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    size_t n = strlen(id);
    if (n > sizeof a->sun_path - 2)
        n = sizeof a->sun_path - 2;
    memcpy(a->sun_path + 1, id, n); /* sun_path[0] = 0: the abstract namespace */
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

/* ---- the tracker process ----------------------------------------------- */

typedef struct tracker {
    struct pollfd fds[1 + MAX_CLIENTS]; /* [0] listens */
    char pending[1 + MAX_CLIENTS][LINE_MAX_];
    size_t pending_len[1 + MAX_CLIENTS];
    size_t nfds;
    char *names[MAX_NAMES];
    size_t nnames;
} tracker;

static void track(tracker *t, const char *line)
{
    const char *name = line + 1;
    for (size_t i = 0; i < t->nnames; i++) {
        if (strcmp(t->names[i], name) == 0) {
            if (line[0] == 'U') {
                free(t->names[i]);
                t->names[i] = t->names[--t->nnames];
            }
            return;
        }
    }
    if (line[0] == 'R' && t->nnames < MAX_NAMES && (t->names[t->nnames] = strdup(name)) != NULL)
        t->nnames++;
}

static void take_lines(tracker *t, size_t i, const char *data, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (data[k] != '\n') {
            if (t->pending_len[i] < LINE_MAX_ - 1)
                t->pending[i][t->pending_len[i]++] = data[k];
            continue;
        }
        t->pending[i][t->pending_len[i]] = '\0';
        if (t->pending_len[i] > 1)
            track(t, t->pending[i]);
        t->pending_len[i] = 0;
    }
}

static void drop_client(tracker *t, size_t i)
{
    close(t->fds[i].fd);
    t->nfds--;
    t->fds[i] = t->fds[t->nfds];
    memcpy(t->pending[i], t->pending[t->nfds], t->pending_len[t->nfds]);
    t->pending_len[i] = t->pending_len[t->nfds];
}

static void serve(int listener)
{
    static tracker t;
    t.fds[0] = (struct pollfd){.fd = listener, .events = POLLIN};
    t.nfds = 1;
    bool anyone = false;
    while (!anyone || t.nfds > 1) {
        if (poll(t.fds, t.nfds, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (size_t i = t.nfds; i-- > 1;) {
            if (t.fds[i].revents == 0)
                continue;
            char buf[READ_CHUNK];
            ssize_t n = read(t.fds[i].fd, buf, sizeof buf);
            if (n > 0)
                take_lines(&t, i, buf, (size_t)n);
            else if (n == 0 || errno != EINTR)
                drop_client(&t, i);
        }
        if (t.fds[0].revents & POLLIN) {
            int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0 && t.nfds < 1 + MAX_CLIENTS) {
                t.pending_len[t.nfds] = 0;
                t.fds[t.nfds++] = (struct pollfd){.fd = c, .events = POLLIN};
                anyone = true;
            } else if (c >= 0) {
                close(c);
            }
        }
    }
    for (size_t i = 0; i < t.nnames; i++) {
        char path[LINE_MAX_ + 2];
        snprintf(path, sizeof path, "/%s", t.names[i]);
        shm_unlink(path);
    }
}

/* In the first child of the double fork: become nobody's child, keep only
 * the listening socket, and serve. */
static void tracker_main(int listener)
{
    if (fork() != 0)
        _exit(0);
    setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    if (mp_posix_renumber_fds(&listener, 1) != 0)
        _exit(1);
    serve(MP_POSIX_FIRST_FD);
    _exit(0);
}

/* ---- the client side --------------------------------------------------- */

/* Called without the global lock: fork() takes it in the atfork handler. */
static int start_tracker(char *id, size_t size)
{
    unsigned char r[8];
    mp_os_random(r, sizeof r);
    snprintf(id, size, "mproc-tracker-%ld-%02x%02x%02x%02x%02x%02x%02x%02x", (long)getpid(), r[0], r[1], r[2],
             r[3], r[4], r[5], r[6], r[7]);
    struct sockaddr_un a;
    socklen_t len = address(id, &a);
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0)
        return mp_fail_os(MP_EOS, errno, "resource tracker: socket");
    if (bind(listener, (struct sockaddr *)&a, len) != 0 || listen(listener, 64) != 0) {
        int err = errno;
        close(listener);
        return mp_fail_os(MP_EOS, err, "resource tracker: bind");
    }
    mp_posix_prepare_fork();
    pid_t pid = fork();
    if (pid == 0)
        tracker_main(listener);
    int err = errno;
    close(listener);
    if (pid < 0)
        return mp_fail_os(MP_EOS, err, "resource tracker: fork");
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return MP_OK;
}

static int try_connect(const char *id)
{
    struct sockaddr_un a;
    socklen_t len = address(id, &a);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, len) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Called with the global lock held; connects to the tree's tracker if the
 * environment names one. */
static void connect_existing(void)
{
    const char *id = getenv(ENV_NAME);
    if (connection < 0 && id != NULL)
        connection = try_connect(id);
}

/* Connect, starting a tracker if the tree has none. The tracker is forked
 * with the global lock released (fork takes it). Two threads may both start
 * one; the loser connects once and hangs up, so its tracker exits at once. */
static int ensure_connection(void)
{
    mp_os_global_lock();
    connect_existing();
    bool connected = connection >= 0;
    mp_os_global_unlock();
    if (connected)
        return MP_OK;
    char fresh[TRACKER_ID_SIZE];
    int rc = start_tracker(fresh, sizeof fresh);
    if (rc != MP_OK)
        return rc;
    int fd = try_connect(fresh);
    if (fd < 0)
        return mp_fail_os(MP_EOS, errno, "resource tracker: connect");
    mp_os_global_lock();
    if (connection < 0) {
        connection = fd;
        fd = -1;
        setenv(ENV_NAME, fresh, 1);
    }
    mp_os_global_unlock();
    if (fd >= 0)
        close(fd);
    return MP_OK;
}

static int send_line(char kind, const char *name)
{
    char line[LINE_MAX_];
    int n = snprintf(line, sizeof line, "%c%s\n", kind, name);
    if (n < 0 || (size_t)n >= sizeof line)
        return mp_fail(MP_EINVAL, "shared memory name too long for the resource tracker");
    int rc = ensure_connection();
    if (rc != MP_OK)
        return rc;
    mp_os_global_lock();
    rc = mp_posix_write_all(connection, line, (size_t)n);
    mp_os_global_unlock();
    return rc;
}

int mp_posix_tracker_register(const char *name)
{
    return send_line('R', name);
}

void mp_posix_tracker_unregister(const char *name)
{
    mp_os_global_lock();
    bool tracked = connection >= 0 || getenv(ENV_NAME) != NULL;
    mp_os_global_unlock();
    if (tracked)
        send_line('U', name);
}
