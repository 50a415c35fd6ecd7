/* bench_program_pool.c - 100 000 one-line tasks to 2 long-lived echo
 * programs (bench/echo_lines.c), seed 000's workload: through an mproc
 * program pool's map, and the raw limit, the same two programs fed by one
 * poll loop that writes every task while it reads the replies.
 *
 * Usage: bench_program_pool ECHO_PROGRAM [quick] [--cpu N] */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mproc.h>

#include "bench_common.h"

#define PROGRAMS 2

extern char **environ;

static int ntasks;
static char **lines;  /* "task <i>\n" */
static size_t *lens;

static void make_tasks(void)
{
    lines = malloc((size_t)ntasks * sizeof *lines);
    lens = malloc((size_t)ntasks * sizeof *lens);
    for (int i = 0; i < ntasks; i++) {
        char buf[32];
        lens[i] = (size_t)snprintf(buf, sizeof buf, "task %d\n", i);
        lines[i] = strdup(buf);
    }
}

/* ---- mproc ------------------------------------------------------------------ */

static double mproc_map(mp_pool *pool, const mp_buf *items)
{
    double t0 = bench_now();
    mp_value *v;
    if (mp_pool_map(pool, NULL, items->data, items->len, 0, &v) != MP_OK) {
        fprintf(stderr, "map: %s\n", mp_last_error());
        exit(1);
    }
    double dt = bench_now() - t0;
    if (v->as.array.len != (uint32_t)ntasks) {
        fprintf(stderr, "map: %u replies\n", v->as.array.len);
        exit(1);
    }
    mp_value_free(v);
    return ntasks / dt;
}

/* ---- raw: posix_spawn, pipes, one poll loop ------------------------------------ */

typedef struct raw_program {
    pid_t pid;
    int in, out;
    size_t written, want; /* bytes of its tasks */
    const char *input;
    size_t replies, read_lines;
} raw_program;

static void raw_start(raw_program *p, const char *exe)
{
    int to[2], from[2];
    if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
        exit(1);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, to[0], 0);
    posix_spawn_file_actions_adddup2(&fa, from[1], 1);
    char *argv[] = {(char *)exe, NULL};
    if (posix_spawn(&p->pid, exe, &fa, NULL, argv, environ) != 0)
        exit(1);
    posix_spawn_file_actions_destroy(&fa);
    close(to[0]);
    close(from[1]);
    p->in = to[1];
    p->out = from[0];
    fcntl(p->in, F_SETFL, O_NONBLOCK);
}

static void raw_stop(raw_program *p)
{
    close(p->in);
    close(p->out);
    waitpid(p->pid, NULL, 0);
}

/* Each program's tasks are every PROGRAMS-th line, laid out in one block. */
static char *raw_inputs[PROGRAMS];
static size_t raw_input_len[PROGRAMS], raw_count[PROGRAMS];

static void raw_prepare(void)
{
    for (int k = 0; k < PROGRAMS; k++) {
        size_t len = 0;
        for (int i = k; i < ntasks; i += PROGRAMS)
            len += lens[i];
        raw_inputs[k] = malloc(len);
        raw_input_len[k] = 0;
        raw_count[k] = 0;
        for (int i = k; i < ntasks; i += PROGRAMS) {
            memcpy(raw_inputs[k] + raw_input_len[k], lines[i], lens[i]);
            raw_input_len[k] += lens[i];
            raw_count[k]++;
        }
    }
}

static double raw_round(raw_program *ps)
{
    static char buf[1 << 16];
    double t0 = bench_now();
    for (int k = 0; k < PROGRAMS; k++) {
        ps[k].written = 0;
        ps[k].want = raw_input_len[k];
        ps[k].input = raw_inputs[k];
        ps[k].read_lines = 0;
    }
    for (;;) {
        struct pollfd fds[2 * PROGRAMS];
        int who[2 * PROGRAMS], n = 0;
        for (int k = 0; k < PROGRAMS; k++) {
            if (ps[k].written < ps[k].want) {
                fds[n] = (struct pollfd){.fd = ps[k].in, .events = POLLOUT};
                who[n++] = k;
            }
            if (ps[k].read_lines < raw_count[k]) {
                fds[n] = (struct pollfd){.fd = ps[k].out, .events = POLLIN};
                who[n++] = PROGRAMS + k;
            }
        }
        if (n == 0)
            break;
        if (poll(fds, (nfds_t)n, -1) < 0 && errno != EINTR)
            exit(1);
        for (int j = 0; j < n; j++) {
            if (!fds[j].revents)
                continue;
            if (who[j] < PROGRAMS) {
                raw_program *p = &ps[who[j]];
                ssize_t w = write(p->in, p->input + p->written, p->want - p->written);
                if (w > 0)
                    p->written += (size_t)w;
            } else {
                raw_program *p = &ps[who[j] - PROGRAMS];
                ssize_t r = read(p->out, buf, sizeof buf);
                if (r <= 0)
                    exit(1);
                for (ssize_t i = 0; i < r; i++)
                    p->read_lines += buf[i] == '\n';
            }
        }
    }
    return ntasks / (bench_now() - t0);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: bench_program_pool ECHO_PROGRAM [quick] [--cpu N]\n");
        return 2;
    }
    const char *echo = argv[1];
    bool quick = bench_options(argc - 1, argv + 1, "bench_program_pool ECHO_PROGRAM");
    ntasks = quick ? 20000 : 100000;
    int reps = quick ? 5 : 11;
    make_tasks();

    /* mproc: a program pool of 2, map with the default chunksize */
    mp_buf items = MP_BUF_INIT;
    for (int i = 0; i < ntasks; i++)
        mp_pack(&items, "s#", lines[i], lens[i] - 1);
    const char *cmd[] = {echo, NULL};
    mp_program_pool_options o = {.argv = cmd, .programs = PROGRAMS, .quit = "quit\n", .quit_len = 5};
    mp_pool *pool;
    if (mp_program_pool_new(&pool, &o) != MP_OK) {
        fprintf(stderr, "program pool: %s\n", mp_last_error());
        return 1;
    }
    double *s = malloc((size_t)reps * sizeof *s);
    mproc_map(pool, &items);
    for (int r = 0; r < reps; r++)
        s[r] = mproc_map(pool, &items);
    bench_report("mproc program pool map", "tasks/s", s, reps);
    mp_pool_close(pool);
    mp_pool_join(pool, MP_FOREVER);
    mp_pool_free(pool);
    mp_buf_free(&items);

    /* raw */
    raw_prepare();
    raw_program ps[PROGRAMS];
    for (int k = 0; k < PROGRAMS; k++)
        raw_start(&ps[k], echo);
    raw_round(ps);
    for (int r = 0; r < reps; r++)
        s[r] = raw_round(ps);
    bench_report("raw program pipes", "tasks/s", s, reps);
    for (int k = 0; k < PROGRAMS; k++)
        raw_stop(&ps[k]);
    free(s);
    return 0;
}
