/* bench_subprocess.c - external programs: mproc's mp_run and
 * mp_popen_communicate against the raw system calls that do the same job,
 * measured in one run. subprocess_run.py times Python's subprocess.run and
 * Popen.communicate on the same programs.
 *
 * One line of JSON per variant:
 *   {"name": ..., "median": ..., "unit": ..., "p10": ..., "p90": ..., "samples": N}
 *
 *   run tiny, run true   start to reaped of a program that exits 0 at once
 *                        (TINY: bench_true, a C program; TRUE: true(1)), ms
 *                        per run: "mproc" is mp_run with default options (the
 *                        three standard streams inherited, as Python's
 *                        subprocess.run), "raw" is posix_spawn + waitpid,
 *                        "raw fork" is fork + execve + waitpid.
 *   communicate          CAT (cat(1)) started with stdin and stdout piped,
 *                        100 MB (quick: 20 MB) written to it while its
 *                        output is read back into memory, and reaped; MB/s
 *                        of input, start included. "mproc" is mp_popen_new +
 *                        mp_popen_communicate + mp_popen_free; "raw" is
 *                        posix_spawn with the same two pipes (non-blocking
 *                        on this side) and one poll() loop that writes and
 *                        reads, straight into a buffer that doubles as it
 *                        fills (new memory each run, as communicate's
 *                        output is). "raw pipe copy reused buffer" is the
 *                        same loop into one buffer made and touched before
 *                        the clock: the copy alone, without new memory.
 *   first touch          "raw first touch of new memory": mmap, memset
 *                        and munmap of as many bytes, MB/s: what new
 *                        memory costs here, part of every communicate row.
 *
 * The variants of a benchmark take turns, one sample each, in reverse order
 * every other round, so that mproc and the raw baselines see the same load
 * on the machine and their ratio is not skewed by what else runs meanwhile. The first run of
 * each variant is a warm-up, not timed; the communicate warm-up checks that
 * the output equals the input.
 *
 * Usage: bench_subprocess [quick] [--cpu N] -- TINY TRUE CAT
 *   quick    fewer samples, 20 MB through cat
 *   --cpu N  pin this process (and so every program it starts) to CPU N
 *
 * POSIX only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mproc.h>

#include "bench_common.h"

extern char **environ;

#define MB 1000000.0

static _Noreturn void die_os(const char *what)
{
    fprintf(stderr, "bench_subprocess: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void ok(int rc, const char *what)
{
    if (rc != MP_OK) {
        fprintf(stderr, "bench_subprocess: %s: %s (%s)\n", what, mp_last_error(), mp_errname(rc));
        exit(1);
    }
}

static void reap_ok(pid_t pid, const char *program)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die_os("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_subprocess: %s failed (status %d)\n", program, status);
        exit(1);
    }
}

/* ---- run a trivial program ------------------------------------------------ */

static void mproc_run_once(const char *program)
{
    const char *argv[] = {program, NULL};
    mp_completed c;
    ok(mp_run(argv, NULL, NULL, 0, MP_FOREVER, &c), "mp_run");
    if (c.returncode != 0) {
        fprintf(stderr, "bench_subprocess: %s exited with %d\n", program, c.returncode);
        exit(1);
    }
    mp_completed_free(&c);
}

static void raw_spawn_once(const char *program)
{
    char *argv[] = {(char *)program, NULL};
    pid_t pid;
    int err = posix_spawn(&pid, program, NULL, NULL, argv, environ);
    if (err != 0) {
        errno = err;
        die_os("posix_spawn");
    }
    reap_ok(pid, program);
}

static void raw_fork_once(const char *program)
{
    char *argv[] = {(char *)program, NULL};
    pid_t pid = fork();
    if (pid < 0)
        die_os("fork");
    if (pid == 0) {
        execve(program, argv, environ);
        _exit(127);
    }
    reap_ok(pid, program);
}

typedef void (*run_fn)(const char *program);

/* Time n runs of each of fns, alternating their order, and report each. */
static void run_bench(const char *label, const char *program, int n)
{
    static const run_fn fns[] = {raw_spawn_once, mproc_run_once, raw_fork_once};
    static const char *const kinds[] = {"raw", "mproc", "raw fork"};
    enum { K = sizeof fns / sizeof fns[0] };
    double *samples[K];
    for (int k = 0; k < K; k++) {
        if ((samples[k] = calloc((size_t)n, sizeof *samples[k])) == NULL)
            die_os("calloc");
        fns[k](program); /* warm-up */
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < K; j++) {
            int k = i % 2 ? K - 1 - j : j;
            double t0 = bench_now();
            fns[k](program);
            samples[k][i] = (bench_now() - t0) * 1e3;
        }
    for (int k = 0; k < K; k++) {
        char name[64];
        snprintf(name, sizeof name, "%s run %s", kinds[k], label);
        bench_report(name, "ms", samples[k], n);
        free(samples[k]);
    }
}

/* ---- communicate ---------------------------------------------------------- */

static char *mproc_communicate(const char *cat, const char *input, size_t len, size_t *out_len)
{
    const char *argv[] = {cat, NULL};
    mp_popen_options o = MP_POPEN_OPTIONS_INIT;
    o.stdin_ = MP_STDIO_PIPE;
    o.stdout_ = MP_STDIO_PIPE;
    mp_popen *p;
    ok(mp_popen_new(&p, argv, &o), "mp_popen_new");
    char *out;
    ok(mp_popen_communicate(p, input, len, MP_FOREVER, &out, out_len, NULL, NULL), "mp_popen_communicate");
    int code;
    ok(mp_popen_wait(p, MP_FOREVER, &code), "mp_popen_wait");
    if (code != 0) {
        fprintf(stderr, "bench_subprocess: %s exited with %d\n", cat, code);
        exit(1);
    }
    mp_popen_free(p);
    return out;
}

static void nonblocking(int fd)
{
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
        die_os("fcntl");
}

/* Start cat with both pipes, write input while reading its output into
 * *buf (of *cap bytes, which doubles when grow, and must be large enough
 * otherwise), reap it; the bytes read. */
static size_t raw_pipe_copy(const char *cat, const char *input, size_t len, char **buf, size_t *cap,
                            bool grow)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        die_os("pipe2");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    char *argv[] = {(char *)cat, NULL};
    pid_t pid;
    int err = posix_spawn(&pid, cat, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) {
        errno = err;
        die_os("posix_spawn");
    }
    close(in[0]);
    close(out[1]);
    int wr = in[1], rd = out[0];
    nonblocking(wr);
    nonblocking(rd);

    size_t got = 0, sent = 0;
    while (wr >= 0 || rd >= 0) {
        struct pollfd fds[2];
        nfds_t n = 0;
        if (wr >= 0)
            fds[n++] = (struct pollfd){.fd = wr, .events = POLLOUT};
        if (rd >= 0)
            fds[n++] = (struct pollfd){.fd = rd, .events = POLLIN};
        if (poll(fds, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            die_os("poll");
        }
        for (nfds_t k = 0; k < n; k++) {
            if (fds[k].revents == 0)
                continue;
            if (fds[k].fd == wr) {
                ssize_t w = write(wr, input + sent, len - sent);
                if (w > 0)
                    sent += (size_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EINTR)
                    die_os("write");
                if (sent == len) {
                    close(wr);
                    wr = -1;
                }
                continue;
            }
            if (grow && *cap - got < 65536) {
                char *grown = realloc(*buf, *cap * 2);
                if (grown == NULL)
                    die_os("realloc");
                *buf = grown;
                *cap *= 2;
            }
            if (got == *cap) {
                errno = EMSGSIZE;
                die_os("raw pipe copy: more output than input");
            }
            ssize_t r = read(rd, *buf + got, *cap - got);
            if (r > 0)
                got += (size_t)r;
            else if (r == 0) {
                close(rd);
                rd = -1;
            } else if (errno != EAGAIN && errno != EINTR)
                die_os("read");
        }
    }
    reap_ok(pid, cat);
    return got;
}

/* What communicate hands over: the output in new memory, which grows as it
 * fills, with no idea of the size to come. */
static char *raw_communicate(const char *cat, const char *input, size_t len, size_t *out_len)
{
    size_t cap = 65536;
    char *buf = malloc(cap);
    if (buf == NULL)
        die_os("malloc");
    *out_len = raw_pipe_copy(cat, input, len, &buf, &cap, true);
    return buf;
}

/* The pipe copy alone: the output into one buffer, made and touched once,
 * kept from run to run (the caller does not free it). */
static char *raw_reused(const char *cat, const char *input, size_t len, size_t *out_len)
{
    static char *kept;
    static size_t kept_cap;
    if (kept_cap < len + 1) {
        free(kept);
        kept_cap = len + 1;
        if ((kept = malloc(kept_cap)) == NULL)
            die_os("malloc");
        memset(kept, 0, kept_cap);
    }
    char *buf = kept;
    size_t cap = kept_cap;
    *out_len = raw_pipe_copy(cat, input, len, &buf, &cap, false);
    return buf;
}

typedef struct communicate_variant {
    const char *name;
    char *(*fn)(const char *cat, const char *input, size_t len, size_t *out_len);
    bool caller_frees;
} communicate_variant;

static void communicate_bench(const char *cat, size_t len, int n)
{
    static const communicate_variant variants[] = {
        {"raw communicate", raw_communicate, true},
        {"mproc communicate", mproc_communicate, true},
        {"raw pipe copy reused buffer", raw_reused, false},
    };
    enum { K = sizeof variants / sizeof variants[0] };
    char *input = malloc(len);
    if (input == NULL)
        die_os("malloc");
    for (size_t i = 0; i < len; i++)
        input[i] = (char)(i * 7 + (i >> 13));
    double *samples[K];
    for (int k = 0; k < K; k++) {
        if ((samples[k] = calloc((size_t)n, sizeof *samples[k])) == NULL)
            die_os("calloc");
        size_t got;
        char *out = variants[k].fn(cat, input, len, &got); /* warm-up, checked */
        if (got != len || memcmp(out, input, len) != 0) {
            fprintf(stderr, "bench_subprocess: %s: %zu bytes back of %zu, or not the same\n",
                    variants[k].name, got, len);
            exit(1);
        }
        if (variants[k].caller_frees)
            free(out);
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < K; j++) {
            int k = i % 2 ? K - 1 - j : j;
            size_t got;
            double t0 = bench_now();
            char *out = variants[k].fn(cat, input, len, &got);
            double dt = bench_now() - t0;
            if (variants[k].caller_frees)
                free(out);
            if (got != len) {
                fprintf(stderr, "bench_subprocess: %s: %zu bytes back of %zu\n", variants[k].name, got, len);
                exit(1);
            }
            samples[k][i] = (double)len / MB / dt;
        }
    for (int k = 0; k < K; k++) {
        bench_report(variants[k].name, "MB/s", samples[k], n);
        free(samples[k]);
    }
    free(input);
}

/* What the communicate rows pay for output in new memory on this machine:
 * new pages (mmap, as malloc does for blocks this large), a first write to
 * every one, munmap. */
static void first_touch_bench(size_t len, int n)
{
    double *samples = calloc((size_t)n, sizeof *samples);
    if (samples == NULL)
        die_os("calloc");
    for (int i = -1; i < n; i++) { /* i == -1: warm-up */
        double t0 = bench_now();
        char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED)
            die_os("mmap");
        memset(buf, 1, len);
        munmap(buf, len);
        if (i >= 0)
            samples[i] = (double)len / MB / (bench_now() - t0);
    }
    bench_report("raw first touch of new memory", "MB/s", samples, n);
    free(samples);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    int sep = 1;
    while (sep < argc && strcmp(argv[sep], "--") != 0)
        sep++;
    if (argc - sep != 4) {
        fprintf(stderr, "usage: bench_subprocess [quick] [--cpu N] -- TINY TRUE CAT\n");
        return 2;
    }
    bool quick = bench_options(sep, argv, "bench_subprocess");
    const char *tiny = argv[sep + 1], *true_ = argv[sep + 2], *cat = argv[sep + 3];
    int n_run = quick ? 100 : 400;
    run_bench("tiny", tiny, n_run);
    run_bench("true", true_, n_run);
    size_t len = (size_t)(quick ? 20 : 100) * 1000 * 1000;
    communicate_bench(cat, len, quick ? 5 : 11);
    first_touch_bench(len, quick ? 5 : 11);
    return 0;
}
