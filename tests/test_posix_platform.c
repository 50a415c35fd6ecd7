/* test_posix_platform.c - what only the POSIX layer can show: a spawned or
 * forkserver child holds no descriptor but the ones passed; a spawned child
 * starts with the signal state of docs/protocol.md §1, and a descriptor that
 * is not open is refused at start; a daemonic
 * child dies with a SIGKILLed parent; a grandchild holding descriptors does
 * not delay join; the forkserver ignores SIGINT, its non-daemonic children
 * outlive it when it is killed, and it comes back after; the
 * fork+exec fallback of spawn. On Windows the program reports itself
 * skipped: test_win32_*.c cover that system. */
#ifdef _WIN32
#include "harness.h"

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    return mpt_skip_program("POSIX only: descriptors, signals and the forkserver; test_win32_*.c cover "
                            "Windows");
}
#else
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "posix/posix.h"
#include "process/process_internal.h"

/* ---- the child's descriptors ------------------------------------------- */

/* Exit code 0 if the open descriptors are exactly 0, 1, 2 and the handles
 * that travelled, and in a forkserver child (args: true) its status pipe,
 * close-on-exec, right after them; the first handle is a pipe to write "ok"
 * to. */
static int check_own_fds(const mp_value *args)
{
    bool forkserver;
    if (mp_args(args, "?", &forkserver) < 0)
        return 6;
    size_t n;
    const mp_os_handle *handles = mp_os_child_handles(&n);
    if (n != 2)
        return 2;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 3;
    int unexpected = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        bool status_pipe = forkserver && fd == handles[1] + 1 && (fcntl(fd, F_GETFD) & FD_CLOEXEC);
        bool expected = fd <= 2 || fd == dirfd(d) || fd == handles[0] || fd == handles[1] || status_pipe;
        if (!expected) {
            char link[256] = "";
            char path[64];
            snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
            ssize_t len = readlink(path, link, sizeof link - 1);
            link[len > 0 ? len : 0] = '\0';
            fprintf(stderr, "child: unexpected fd %d -> %s\n", fd, link);
            unexpected++;
        }
    }
    closedir(d);
    if (unexpected)
        return 4;
    return write((int)handles[0], "ok", 2) == 2 ? 0 : 5;
}
MP_TARGET(check_own_fds)

static void only_passed_fds_reach_the_child(mp_start_method m)
{
    int pipe_fds[2], stray[2];
    assert_int_equal(pipe(pipe_fds), 0);
    /* Not close-on-exec and not passed: it must still not reach the child. */
    assert_int_equal(pipe(stray), 0);
    mp_process *p;
    size_t index;
    MPT_OK(mp_process_new(&p, check_own_fds, mpt_opts(m), "?", m == MP_START_FORKSERVER));
    MPT_OK(mp_process_pass_handle(p, pipe_fds[1], &index));
    assert_int_equal(index, 0);
    MPT_OK(mp_process_pass_handle(p, stray[0], &index));
    assert_int_equal(mpt_run_child(p), 0);
    char buf[3] = "";
    assert_int_equal(read(pipe_fds[0], buf, 2), 2);
    assert_string_equal(buf, "ok");
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    close(stray[0]);
    close(stray[1]);
}

static void spawn_child_fds(void **state)
{
    (void)state;
    only_passed_fds_reach_the_child(MP_START_SPAWN);
}

static void forkserver_child_fds(void **state)
{
    (void)state;
    only_passed_fds_reach_the_child(MP_START_FORKSERVER);
}

static void fork_exec_fallback(void **state)
{
    (void)state;
    mp_posix_use_fork_exec(true);
    only_passed_fds_reach_the_child(MP_START_SPAWN);
    mp_posix_use_fork_exec(false);
}

/* ---- the spawned child's signals ----------------------------------------- */

static void on_usr1(int sig)
{
    (void)sig;
}

/* Exit code 0 if the child starts as docs/protocol.md §1 says: an empty
 * mask; SIGTERM and SIGPIPE at their default action even though the parent
 * ignores them (the parent cannot ignore SIGCHLD and still wait); a signal
 * the parent catches back at its default; one it ignores (SIGHUP, as under
 * nohup) still ignored. */
static int check_own_signals(const mp_value *args)
{
    (void)args;
    sigset_t mask;
    if (sigprocmask(SIG_BLOCK, NULL, &mask) != 0)
        return 2;
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(&mask, sig) == 1)
            return 3;
    const int at_default[] = {SIGTERM, SIGPIPE, SIGCHLD, SIGUSR1};
    struct sigaction now;
    for (size_t i = 0; i < sizeof at_default / sizeof at_default[0]; i++)
        if (sigaction(at_default[i], NULL, &now) != 0 || now.sa_handler != SIG_DFL)
            return 4;
    if (sigaction(SIGHUP, NULL, &now) != 0 || now.sa_handler != SIG_IGN)
        return 5;
    return 0;
}
MP_TARGET(check_own_signals)

static void spawned_child_signals(bool fork_exec)
{
    enum { NIGNORED = 3 };
    const int ignored[NIGNORED] = {SIGHUP, SIGTERM, SIGPIPE};
    struct sigaction old_ignored[NIGNORED], old_usr1, ign, caught;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    memset(&caught, 0, sizeof caught);
    caught.sa_handler = on_usr1;
    for (size_t i = 0; i < NIGNORED; i++)
        assert_int_equal(sigaction(ignored[i], &ign, &old_ignored[i]), 0);
    assert_int_equal(sigaction(SIGUSR1, &caught, &old_usr1), 0);
    sigset_t block, old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGINT);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &block, &old_mask), 0);

    mp_posix_use_fork_exec(fork_exec);
    mp_process *p;
    int rc = mp_process_new(&p, check_own_signals, mpt_opts(MP_START_SPAWN), NULL);
    int code = rc == MP_OK ? mpt_run_child(p) : -1;
    mp_posix_use_fork_exec(false);

    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    sigaction(SIGUSR1, &old_usr1, NULL);
    for (size_t i = 0; i < NIGNORED; i++)
        sigaction(ignored[i], &old_ignored[i], NULL);
    MPT_OK(rc);
    assert_int_equal(code, 0);
}

static void spawn_child_signals(void **state)
{
    (void)state;
    spawned_child_signals(false);
    spawned_child_signals(true);
}

static int never_runs(const mp_value *args)
{
    (void)args;
    return 9;
}
MP_TARGET(never_runs)

static void closed_descriptor_refused(void **state)
{
    (void)state;
    /* High enough that the start's own descriptors do not take it. */
    int closed = 900;
    assert_true(fcntl(closed, F_GETFD) < 0);
    mp_process *p;
    size_t index;
    MPT_OK(mp_process_new(&p, never_runs, mpt_opts(MP_START_SPAWN), NULL));
    MPT_OK(mp_process_pass_handle(p, closed, &index));
    MPT_CODE(mp_process_start(p), MP_EOS);
    assert_non_null(strstr(mp_last_error(), "descriptor"));
    MPT_OK(mp_process_close(p));
}

/* ---- a daemonic child dies with its SIGKILLed parent --------------------- */

static int sleep_long(const mp_value *args)
{
    (void)args;
    mp_os_sleep(60);
    return 0;
}
MP_TARGET(sleep_long)

static bool gone(pid_t pid)
{
    char path[64], stat[256];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return true;
    size_t len = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[len] = '\0';
    char *close_paren = strrchr(stat, ')');
    return close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z';
}

static bool wait_until_gone(pid_t pid, double seconds)
{
    for (double waited = 0; waited < seconds; waited += 0.01) {
        if (gone(pid))
            return true;
        mp_os_sleep(0.01);
    }
    return gone(pid);
}

static void daemon_dies_with(mp_start_method m)
{
    int report[2];
    assert_int_equal(pipe(report), 0);
    pid_t parent = fork();
    if (parent == 0) {
        /* The middle process: start a daemonic child, say its pid, wait. */
        close(report[0]);
        mp_process_options opts = *mpt_opts(m);
        opts.daemon = true;
        mp_process *p;
        long pid = -1;
        if (mp_process_new(&p, sleep_long, &opts, NULL) == MP_OK && mp_process_start(p) == MP_OK)
            pid = mp_process_pid(p);
        if (write(report[1], &pid, sizeof pid) != sizeof pid)
            _exit(2);
        pause();
        _exit(0);
    }
    close(report[1]);
    long child = -1;
    assert_int_equal(read(report[0], &child, sizeof child), sizeof child);
    close(report[0]);
    assert_true(child > 0);
    assert_false(gone((pid_t)child));
    kill(parent, SIGKILL);
    assert_int_equal(waitpid(parent, NULL, 0), parent);
    if (!wait_until_gone((pid_t)child, 30)) {
        kill((pid_t)child, SIGKILL);
        fail_msg("the daemonic child %ld outlived its SIGKILLed parent (%s)", child, mp_start_method_name(m));
    }
}

static void daemon_dies_with_killed_parent(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t i = 0; i < n; i++)
        daemon_dies_with(methods[i]);
}

/* ---- a grandchild holding descriptors does not delay join --------------- */

/* Fork a grandchild that keeps every descriptor and sleeps; report its pid
 * on the passed pipe; end at once. */
static int leave_grandchild(const mp_value *args)
{
    (void)args;
    size_t n;
    const mp_os_handle *handles = mp_os_child_handles(&n);
    pid_t grandchild = fork();
    if (grandchild == 0) {
        sleep(60);
        _exit(0);
    }
    long pid = grandchild;
    return write((int)handles[0], &pid, sizeof pid) == sizeof pid ? 0 : 2;
}
MP_TARGET(leave_grandchild)

static void grandchild_does_not_delay_join(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t i = 0; i < n; i++) {
        int report[2];
        assert_int_equal(pipe(report), 0);
        mp_process *p;
        size_t index;
        MPT_OK(mp_process_new(&p, leave_grandchild, mpt_opts(methods[i]), NULL));
        MPT_OK(mp_process_pass_handle(p, report[1], &index));
        MPT_OK(mp_process_start(p));
        long grandchild = -1;
        assert_int_equal(read(report[0], &grandchild, sizeof grandchild), sizeof grandchild);
        /* The grandchild sleeps for a minute holding all it inherited. */
        int rc = mp_process_join(p, 20);
        kill((pid_t)grandchild, SIGKILL);
        MPT_OK(rc);
        int code;
        MPT_OK(mp_process_exitcode(p, &code));
        assert_int_equal(code, 0);
        MPT_OK(mp_process_close(p));
        close(report[0]);
        close(report[1]);
    }
}

/* ---- the forkserver comes back ------------------------------------------ */

static pid_t forkserver_pid(void)
{
    DIR *d = opendir("/proc");
    pid_t found = 0;
    for (struct dirent *e; d && (e = readdir(d)) && found == 0;) {
        char path[300], cmd[512];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t len = read(fd, cmd, sizeof cmd - 1);
        close(fd);
        if (len <= 0)
            continue;
        cmd[len] = '\0';
        char stat_path[300], stat[512];
        snprintf(stat_path, sizeof stat_path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(stat_path, "re");
        if (f == NULL)
            continue;
        size_t slen = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[slen] = '\0';
        char *close_paren = strrchr(stat, ')');
        long ppid = 0;
        char state;
        if (close_paren && sscanf(close_paren + 1, " %c %ld", &state, &ppid) == 2 && ppid == getpid() &&
            memmem(cmd, (size_t)len, MP_FORKSERVER_MARKER, strlen(MP_FORKSERVER_MARKER)))
            found = (pid_t)atol(e->d_name);
    }
    if (d)
        closedir(d);
    return found;
}

static int return_seven(const mp_value *args)
{
    (void)args;
    return 7;
}
MP_TARGET(return_seven)

static void kill_the_server(pid_t server)
{
    assert_true(server > 0);
    assert_int_equal(kill(server, SIGKILL), 0);
    assert_true(wait_until_gone(server, 30));
}

/* Wait for a byte on the travelling pipe, then end with the code given:
 * args (code, through exit()). A test that failed before sending the byte
 * leaves no child behind for long: it gives up after 30 s. */
static int wait_then_end(const mp_value *args)
{
    int code;
    bool via_exit;
    size_t n;
    const mp_os_handle *handles = mp_os_child_handles(&n);
    if (mp_args(args, "i?", &code, &via_exit) < 0 || n != 1)
        return 100;
    struct pollfd p = {.fd = (int)handles[0], .events = POLLIN};
    char byte;
    if (poll(&p, 1, 30000) != 1 || read((int)handles[0], &byte, 1) != 1)
        return 101;
    if (via_exit)
        exit(code);
    return code;
}
MP_TARGET(wait_then_end)

static mp_process *start_waiter(int pipe_read, int code, bool via_exit, bool daemon)
{
    mp_process_options opts = *mpt_opts(MP_START_FORKSERVER);
    opts.daemon = daemon;
    mp_process *p;
    size_t index;
    MPT_OK(mp_process_new(&p, wait_then_end, &opts, "i?", code, via_exit));
    MPT_OK(mp_process_pass_handle(p, pipe_read, &index));
    MPT_OK(mp_process_start(p));
    return p;
}

static void forkserver_children_outlive_killed_server(void **state)
{
    (void)state;
    int go[2];
    assert_int_equal(pipe(go), 0);
    mp_process *returns = start_waiter(go[0], 7, false, false);
    mp_process *exits = start_waiter(go[0], 9, true, false);
    pid_t server = forkserver_pid();
    kill_the_server(server);
    /* Still running: they wait for their byte. */
    assert_int_equal(mp_process_is_alive(returns), 1);
    MPT_CODE(mp_process_join(exits, 0.2), MP_ETIMEDOUT);
    assert_int_equal(write(go[1], "xx", 2), 2);
    /* Each tells its own code: the server is not there to. */
    assert_int_equal(mpt_join_child(returns), 7);
    assert_int_equal(mpt_join_child(exits), 9);
    /* The next start brings up a new server. */
    mp_process *p;
    MPT_OK(mp_process_new(&p, return_seven, mpt_opts(MP_START_FORKSERVER), NULL));
    assert_int_equal(mpt_run_child(p), 7);
    pid_t again = forkserver_pid();
    assert_true(again > 0 && again != server);
    close(go[0]);
    close(go[1]);
}

/* The dead server is reaped when mproc next talks to a server. */
static void start_a_server_again(void)
{
    mp_process *p;
    MPT_OK(mp_process_new(&p, return_seven, mpt_opts(MP_START_FORKSERVER), NULL));
    assert_int_equal(mpt_run_child(p), 7);
}

static void forkserver_orphan_terminated_reads_255(void **state)
{
    (void)state;
    int go[2];
    assert_int_equal(pipe(go), 0);
    mp_process *p = start_waiter(go[0], 7, false, false);
    kill_the_server(forkserver_pid());
    /* Signalled by its requester now; no server tells the signal. */
    MPT_OK(mp_process_terminate(p));
    assert_int_equal(mpt_join_child(p), 255);
    start_a_server_again();
    close(go[0]);
    close(go[1]);
}

static void forkserver_daemon_dies_with_server(void **state)
{
    (void)state;
    int go[2];
    assert_int_equal(pipe(go), 0);
    mp_process *p = start_waiter(go[0], 7, false, true);
    kill_the_server(forkserver_pid());
    int rc = mp_process_join(p, 30);
    if (rc != MP_OK) {
        assert_int_equal(write(go[1], "x", 1), 1);
        mpt_join_child(p);
        fail_msg("a daemonic forkserver child outlived its server");
    }
    assert_int_equal(mpt_join_child(p), 255);
    start_a_server_again();
    close(go[0]);
    close(go[1]);
}

/* Exit code 0 if SIGINT is at its default action. */
static int sigint_is_default(const mp_value *args)
{
    (void)args;
    struct sigaction now;
    if (sigaction(SIGINT, NULL, &now) != 0)
        return 2;
    return now.sa_handler == SIG_DFL ? 0 : 3;
}
MP_TARGET(sigint_is_default)

static void forkserver_survives_sigint(void **state)
{
    (void)state;
    int go[2];
    assert_int_equal(pipe(go), 0);
    mp_process *running = start_waiter(go[0], 7, false, false);
    pid_t server = forkserver_pid();
    assert_true(server > 0);
    /* What a Ctrl-C in the terminal sends it. */
    assert_int_equal(kill(server, SIGINT), 0);
    mp_process *p;
    MPT_OK(mp_process_new(&p, sigint_is_default, mpt_opts(MP_START_FORKSERVER), NULL));
    assert_int_equal(mpt_run_child(p), 0);
    assert_int_equal(forkserver_pid(), server);
    assert_int_equal(mp_process_is_alive(running), 1);
    assert_int_equal(write(go[1], "x", 1), 1);
    assert_int_equal(mpt_join_child(running), 7);
    close(go[0]);
    close(go[1]);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(spawn_child_fds),
        MPT_TEST(forkserver_child_fds),
        MPT_TEST(fork_exec_fallback),
        MPT_TEST(spawn_child_signals),
        MPT_TEST(closed_descriptor_refused),
        MPT_TEST(daemon_dies_with_killed_parent),
        MPT_TEST(grandchild_does_not_delay_join),
        MPT_TEST(forkserver_children_outlive_killed_server),
        MPT_TEST(forkserver_orphan_terminated_reads_255),
        MPT_TEST(forkserver_daemon_dies_with_server),
        MPT_TEST(forkserver_survives_sigint),
    };
    return MPT_RUN(tests);
}
#endif
