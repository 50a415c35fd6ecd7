/* bench_shared_memory.c - seed 001's memory scenario: 8 worker processes
 * read a 256 MiB read-only array, and the figure is the workers' total
 * proportional set size (PSS: a page mapped by n processes counts 1/n in
 * each), read by the parent from /proc/<pid>/smaps_rollup while all of them
 * hold the data.
 *
 * Variants:
 *   mproc RawArray       the array in mp_shared_array_new(..., lock=false) memory,
 *                        passed to each worker as an 'O' argument
 *   mproc SharedMemory   the same in an mp_shm_create_anonymous block
 *   naive copy           each worker receives the array over a Connection
 *                        (recv_bytes: its own malloc'd copy), as a Pool
 *                        task pickling the array to every worker would
 *
 * Workers start by spawn, so nothing reaches them through fork's
 * copy-on-write pages: what they share, they share through mproc.
 *
 * Output: JSON lines as the other IPC benchmarks, unit MiB, one sample per
 * repetition. Usage: bench_shared_memory [quick]  (quick: one repetition)
 *
 * Linux only (smaps_rollup).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mproc.h>

#include "bench_common.h"

#define NWORKERS 8
#define DATA_BYTES ((size_t)256 << 20)
#define MAX_REPS 8

enum variant { RAW_ARRAY, SHARED_MEMORY, NAIVE_COPY };

static _Noreturn void die(const char *what, int rc)
{
    fprintf(stderr, "bench_shared_memory: %s: %s (%s)\n", what, mp_last_error(), mp_errname(rc));
    exit(1);
}

static void ok(int rc, const char *what)
{
    if (rc != MP_OK)
        die(what, rc);
}

static uint64_t element(size_t i)
{
    uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15u;
    return x ^ (x >> 29);
}

static uint64_t checksum(const uint64_t *d, size_t n)
{
    uint64_t sum = 0;
    for (size_t k = 0; k < n; k++)
        sum += d[k];
    return sum;
}

/* Reads every page of the data, says "ready" with its checksum, and keeps
 * the data mapped until the parent closes the connection. */
static int worker(const mp_value *args)
{
    int variant;
    void *obj;
    mp_conn *c;
    int rc = mp_args(args, "iOO", &variant, &obj, &c);
    if (rc != MP_OK)
        return rc;
    const uint64_t *d;
    size_t bytes;
    void *copy = NULL;
    if (variant == RAW_ARRAY) {
        d = mp_shared_ptr(obj);
        bytes = mp_shared_len(obj) * sizeof *d;
    } else if (variant == SHARED_MEMORY) {
        d = mp_shm_buf(obj);
        bytes = mp_shm_size(obj);
    } else {
        if ((rc = mp_conn_recv_bytes(c, 0, &copy, &bytes)) != MP_OK)
            return rc;
        d = copy;
    }
    uint64_t sum = checksum(d, bytes / sizeof *d);
    if ((rc = mp_conn_send(c, "Q", sum)) != MP_OK)
        return rc;
    void *bye;
    size_t n;
    rc = mp_conn_recv_bytes(c, 0, &bye, &n);
    free(copy);
    return rc == MP_EEOF ? 0 : rc;
}
MP_TARGET(worker)

/* PSS of a process in KiB, or -1. */
static long pss_kib(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/smaps_rollup", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "Pss: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* One run of a variant: the workers' total PSS in MiB. */
static double run(enum variant v, void *obj, const void *data, uint64_t expected)
{
    mp_process *p[NWORKERS];
    mp_conn *conns[NWORKERS];
    for (int i = 0; i < NWORKERS; i++) {
        mp_conn *theirs;
        ok(mp_pipe(true, &conns[i], &theirs), "mp_pipe");
        /* The naive workers get no shared object: a 1-element placeholder
         * keeps the argument list the same. */
        ok(mp_process_new(&p[i], worker, NULL, "iOO", (int)v, obj, theirs), "mp_process_new");
        ok(mp_process_start(p[i]), "mp_process_start");
        mp_conn_close(theirs);
    }
    if (v == NAIVE_COPY)
        for (int i = 0; i < NWORKERS; i++)
            ok(mp_conn_send_bytes(conns[i], data, DATA_BYTES), "send the copy");
    for (int i = 0; i < NWORKERS; i++) {
        mp_value *m;
        uint64_t sum;
        ok(mp_conn_recv(conns[i], &m), "ready");
        if (mp_unpack(m, "Q", &sum) != MP_OK || sum != expected)
            die("a worker's checksum is wrong", MP_EPROTO);
        mp_value_free(m);
    }
    /* All hold the data now: every sharer is counted in every share. */
    long total = 0;
    for (int i = 0; i < NWORKERS; i++) {
        long kib = pss_kib(mp_process_pid(p[i]));
        if (kib < 0)
            die("smaps_rollup", MP_EOS);
        total += kib;
    }
    for (int i = 0; i < NWORKERS; i++) {
        mp_conn_close(conns[i]);
        int code = -1;
        ok(mp_process_join(p[i], MP_FOREVER), "join");
        mp_process_exitcode(p[i], &code);
        if (code != 0) {
            fprintf(stderr, "bench_shared_memory: worker exited with %d\n", code);
            exit(1);
        }
        mp_process_close(p[i]);
    }
    return (double)total / 1024;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    int reps = argc > 1 && strcmp(argv[1], "quick") == 0 ? 1 : 3;
    ok(mp_set_start_method(MP_START_SPAWN, false), "spawn");

    size_t n = DATA_BYTES / sizeof(uint64_t);
    mp_shared *array, *placeholder;
    mp_shm *shm;
    ok(mp_shared_array_new(&array, 'Q', n, false), "mp_shared_array_new");
    ok(mp_shm_create_anonymous(&shm, DATA_BYTES), "mp_shm_create_anonymous");
    ok(mp_shared_array_new(&placeholder, 'Q', 1, false), "mp_shared_array_new");
    uint64_t *a = mp_shared_ptr(array), *s = mp_shm_buf(shm), expected = 0;
    for (size_t k = 0; k < n; k++) {
        a[k] = s[k] = element(k);
        expected += a[k];
    }

    double samples[MAX_REPS];
    for (int r = 0; r < reps; r++)
        samples[r] = run(RAW_ARRAY, array, NULL, expected);
    bench_report("mproc RawArray pss 8 workers", "MiB", samples, reps);
    for (int r = 0; r < reps; r++)
        samples[r] = run(SHARED_MEMORY, shm, NULL, expected);
    bench_report("mproc SharedMemory pss 8 workers", "MiB", samples, reps);
    /* The parent's copy to send from is the RawArray's memory; the workers
     * keep their own. */
    for (int r = 0; r < reps; r++)
        samples[r] = run(NAIVE_COPY, placeholder, a, expected);
    bench_report("naive copy pss 8 workers", "MiB", samples, reps);

    mp_shared_free(placeholder);
    mp_shm_close(shm);
    mp_shared_free(array);
    return 0;
}
