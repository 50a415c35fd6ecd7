/* posix.h - what the POSIX platform files share: the helpers of the
 * platform.h sections, each comment naming the file that defines them. */
#ifndef MPROC_POSIX_H
#define MPROC_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "platform.h"

/* A started child. Direct children (fork, spawn) are watched through a
 * pidfd; forkserver children through their status pipe (forkserver.h). */
struct mp_os_child {
    pid_t pid;
    int sentinel; /* -1 until a fork child's is needed (child_control.c) */
    bool via_server;
    pid_t server; /* the forkserver that made it */
    bool reaped;
    int exitcode;
};

/* The exit code of a forkserver child whose server died before it could
 * tell how the child ended (Python's forkserver reads 255 too). */
#define MP_POSIX_UNKNOWN_EXIT 255

/* In a spawned child the handoff socket is fd 3 and the travelling handles
 * follow it; in a forkserver child the handles start at 3. */
#define MP_POSIX_FIRST_FD 3

/* The start methods behind mp_os_child_start (child_start.c), one file
 * each: fork.c, spawn.c, forkserver_client.c. */
int mp_posix_fork_start(const mp_os_start *req, mp_os_child **out);
int mp_posix_spawn_start(const mp_os_start *req, mp_os_child **out);
int mp_posix_forkserver_start(const mp_os_start *req, mp_os_child **out);
/* Ask the server to signal one of its children it has not reaped yet. */
int mp_posix_forkserver_signal(mp_os_child *c, int sig);
/* A forked child must not use its parent's connection to the server. */
void mp_posix_forkserver_forget(void);

/* global_lock.c: install the fork handlers before the first fork. */
void mp_posix_prepare_fork(void);

/* spawn_self.c: run this program's executable again: argv = {exe, marker,
 * token}; the new process has fds 0, 1, 2 as this one, then fds[0..n) at 3,
 * 4, ..., and no other descriptor. */
int mp_posix_spawn_self(const char *marker, const char *token, const int *fds, size_t n, pid_t *pid);
/* Use fork+exec instead of the child that borrows our memory (tests
 * exercise both paths): for spawn, and for external programs (popen.c). */
void mp_posix_use_fork_exec(bool on);
bool mp_posix_fork_exec_forced(void);
/* The path of this program's executable, for argv[0] of spawned children. */
const char *mp_posix_exe_path(void);

/* fdio.c: I/O that survives EINTR; writes never raise SIGPIPE. read_all
 * gives MP_EEOF on end of file before len bytes. */
int mp_posix_write_all(int fd, const void *data, size_t len);
int mp_posix_read_all(int fd, void *data, size_t len);

/* A pidfd for pid, close-on-exec; -1 with errno on failure. */
int mp_posix_pidfd_open(pid_t pid);
int mp_posix_pidfd_send_signal(int pidfd, int sig);

/* In a fresh child: move fds[0..n) to 3, 4, ... and close every other
 * descriptor above 2. Async-signal-safe. */
int mp_posix_renumber_fds(const int *fds, size_t n);

/* clock.c: the poll() timeout in ms until deadline (from mp_deadline); -1
 * for forever, 0 once it has passed. Rounded up, so a wait never ends
 * early. */
int mp_posix_poll_ms(double deadline);

/* poll() on p[0..n) until one is ready or deadline passes, through EINTR:
 * the number ready (> 0), 0 once the deadline has passed, or MP_EOS. */
struct pollfd;
int mp_posix_poll_until(struct pollfd *p, size_t n, double deadline);

/* CLOCK_MONOTONIC now + timeout (a poll's is now; capped at a day), for
 * the pthread and semaphore waits that take an absolute time. Forever is
 * the caller's to handle with an untimed wait. */
struct timespec mp_posix_abstime(double timeout);

/* child_side.c: the travelling handles of a fork or forkserver child, and
 * whether this process is a forkserver child. */
void mp_posix_set_child_handles(const mp_os_handle *travelling, size_t n);
/* A child made by fork here, or by the forkserver (which also gives the
 * descriptor on which the child reports its exit status to its requester,
 * see forkserver.h). */
void mp_posix_mark_fork_child(void);
void mp_posix_mark_forkserver_child(int status_fd);
/* In every fork child (pthread_atfork): drop what only this process may use. */
void mp_posix_child_side_after_fork(void);

/* tracker.c, the resource tracker: names of shared memory that this process
 * tree created and has not unlinked. When every process that registered a
 * name has ended, the tracker unlinks what is left. */
int mp_posix_tracker_register(const char *name);
void mp_posix_tracker_unregister(const char *name);

#endif
