/* bench_ipc.c - mproc's side of the IPC benchmarks: Connection, Queue, Lock
 * and Value between processes started by mproc under the fork start method,
 * the same operations that bench_ipc_raw.c times with plain syscalls and
 * ipc.py with Python's multiprocessing (also under fork).
 *
 * One line of JSON per variant:
 *   {"name": ..., "median": ..., "unit": ..., "p10": ..., "p90": ..., "samples": N}
 * where each sample is one timed batch and the statistics are over batches.
 * Children are started before the clock runs and released by a message or an
 * Event, so process creation is never part of a figure.
 *
 * Usage: bench_ipc [quick] [--cpu N]
 *   quick    sizes ~10x smaller
 *   --cpu N  pin this process (and so every child it forks) to CPU N
 *
 * POSIX only (the pinning and the fork start method).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mproc.h>

#include "bench_children.h"
#include "bench_common.h"

#define MIB ((size_t)1 << 20)
#define SMALL_MSG 16
#define MAX_REPS 32

static bool quick;
static int reps = 11;

/* ---- helpers ---------------------------------------------------------- */

/* A child's end of a go/done conversation: MP_OK for a message, MP_EEOF
 * once the parent is finished with it. */
static int wait_message(mp_conn *c)
{
    void *d;
    size_t n;
    int rc = mp_conn_recv_bytes(c, 0, &d, &n);
    if (rc == MP_OK)
        free(d);
    return rc;
}

static void expect_message(mp_conn *c, const char *what)
{
    bench_ok(wait_message(c), what);
}

/* ---- 1. ping-pong ----------------------------------------------------- */

/* Under fork the child holds the parent's end too; it closes it, or the end
 * of file that stops it would never come (Python's side does the same). */
static int echo_bytes(const mp_value *args)
{
    mp_conn *c, *parent_end;
    int rc = mp_args(args, "OO", &c, &parent_end);
    if (rc != MP_OK)
        return rc;
    mp_conn_close(parent_end);
    for (;;) {
        void *d;
        size_t n;
        if ((rc = mp_conn_recv_bytes(c, 0, &d, &n)) != MP_OK)
            return rc == MP_EEOF ? 0 : rc;
        rc = mp_conn_send_bytes(c, d, n);
        free(d);
        if (rc != MP_OK)
            return rc;
    }
}
MP_TARGET(echo_bytes)

static int echo_obj(const mp_value *args)
{
    mp_conn *c, *parent_end;
    int rc = mp_args(args, "OO", &c, &parent_end);
    if (rc != MP_OK)
        return rc;
    mp_conn_close(parent_end);
    for (;;) {
        mp_value *v;
        if ((rc = mp_conn_recv(c, &v)) != MP_OK)
            return rc == MP_EEOF ? 0 : rc;
        rc = mp_conn_send(c, "V", v);
        mp_value_free(v);
        if (rc != MP_OK)
            return rc;
    }
}
MP_TARGET(echo_obj)

enum pingpong_kind { PP_BYTES, PP_INTO, PP_OBJ };

static void pingpong(const char *name, enum pingpong_kind kind)
{
    mp_conn *ours, *theirs;
    bench_ok(mp_pipe(true, &ours, &theirs), "mp_pipe");
    mp_process *p = bench_start(kind == PP_OBJ ? echo_obj : echo_bytes, "OO", theirs, ours);
    mp_conn_close(theirs);

    int n = quick ? 1000 : 10000;
    char msg[SMALL_MSG], back[SMALL_MSG];
    memset(msg, 'p', sizeof msg);
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) { /* r == -1: warm-up */
        double t0 = bench_now();
        for (int i = 0; i < n; i++) {
            if (kind == PP_OBJ) {
                /* Python's side sends the tuple (12345, "pingpong"). */
                mp_value *v;
                bench_ok(mp_conn_send(ours, "is", 12345, "pingpong"), "mp_conn_send");
                bench_ok(mp_conn_recv(ours, &v), "mp_conn_recv");
                mp_value_free(v);
            } else if (kind == PP_INTO) {
                size_t len;
                bench_ok(mp_conn_send_bytes(ours, msg, sizeof msg), "mp_conn_send_bytes");
                bench_ok(mp_conn_recv_bytes_into(ours, back, sizeof back, &len), "mp_conn_recv_bytes_into");
            } else {
                void *d;
                size_t len;
                bench_ok(mp_conn_send_bytes(ours, msg, sizeof msg), "mp_conn_send_bytes");
                bench_ok(mp_conn_recv_bytes(ours, 0, &d, &len), "mp_conn_recv_bytes");
                free(d);
            }
        }
        if (r >= 0)
            samples[r] = (bench_now() - t0) / n * 1e6;
    }
    mp_conn_close(ours);
    bench_finish(p);
    bench_report(name, "us", samples, reps);
}

/* ---- 2. bandwidth ----------------------------------------------------- */

/* Per go message from the parent: sends count messages of size bytes. */
static int sender(const mp_value *args)
{
    mp_conn *c, *parent_end;
    uint64_t size;
    int count;
    int rc = mp_args(args, "OOQi", &c, &parent_end, &size, &count);
    if (rc != MP_OK)
        return rc;
    mp_conn_close(parent_end);
    char *payload = malloc((size_t)size);
    if (payload == NULL)
        return mp_raise(MP_ENOMEM, "sender: out of memory");
    memset(payload, 0xab, (size_t)size);
    while ((rc = wait_message(c)) == MP_OK)
        for (int i = 0; i < count && rc == MP_OK; i++)
            rc = mp_conn_send_bytes(c, payload, (size_t)size);
    free(payload);
    return rc == MP_EEOF ? 0 : rc;
}
MP_TARGET(sender)

/* into == 0: recv_bytes, a fresh buffer per message as Python's recv_bytes
 * returns; into == 1: recv_bytes_into one reused buffer, as the raw side
 * reads. */
static void bandwidth(const char *name, size_t size, int into)
{
    size_t total = (quick ? 32 : 256) * MIB;
    int count = (int)(total / size);
    mp_conn *ours, *theirs;
    bench_ok(mp_pipe(true, &ours, &theirs), "mp_pipe");
    mp_process *p = bench_start(sender, "OOQi", theirs, ours, (uint64_t)size, count);
    mp_conn_close(theirs);
    char *buf = into ? malloc(size) : NULL;
    if (into && buf == NULL)
        bench_ok(MP_ENOMEM, "malloc");
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        bench_ok(mp_conn_send_bytes(ours, "g", 1), "go");
        for (int i = 0; i < count; i++) {
            size_t len;
            if (into) {
                bench_ok(mp_conn_recv_bytes_into(ours, buf, size, &len), "mp_conn_recv_bytes_into");
            } else {
                void *d;
                bench_ok(mp_conn_recv_bytes(ours, 0, &d, &len), "mp_conn_recv_bytes");
                free(d);
            }
            if (len != size)
                bench_ok(MP_EPROTO, "short message");
        }
        if (r >= 0)
            samples[r] = (double)size * count / (bench_now() - t0) / 1e6;
    }
    free(buf);
    mp_conn_close(ours);
    bench_finish(p);
    bench_report(name, "MB/s", samples, reps);
}

/* ---- 3./4. Queue ------------------------------------------------------ */

/* Per go message: puts count items, (i, "x") when big is 0 (Python's small
 * item), else 1 MiB of bytes. */
static int producer(const mp_value *args)
{
    mp_queue *q;
    mp_conn *go, *parent_end;
    int big, count;
    int rc = mp_args(args, "OOOii", &q, &go, &parent_end, &big, &count);
    if (rc != MP_OK)
        return rc;
    mp_conn_close(parent_end);
    char *payload = big ? malloc(MIB) : NULL;
    if (big && payload == NULL)
        return mp_raise(MP_ENOMEM, "producer: out of memory");
    if (big)
        memset(payload, 0xab, MIB);
    while ((rc = wait_message(go)) == MP_OK) {
        for (int i = 0; i < count && rc == MP_OK; i++)
            rc = big ? mp_queue_put(q, MP_FOREVER, "y#", payload, MIB) : mp_queue_put(q, MP_FOREVER, "is", i, "x");
    }
    free(payload);
    return rc == MP_EEOF ? 0 : rc;
}
MP_TARGET(producer)

static void queue_bench(const char *name, int big, int count)
{
    mp_queue *q;
    mp_conn *ours, *theirs;
    bench_ok(mp_queue_new(&q, NULL), "mp_queue_new");
    bench_ok(mp_pipe(true, &ours, &theirs), "mp_pipe");
    mp_process *p = bench_start(producer, "OOOii", q, theirs, ours, big, count);
    mp_conn_close(theirs);
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        bench_ok(mp_conn_send_bytes(ours, "g", 1), "go");
        mp_value *last = NULL;
        for (int i = 0; i < count; i++) {
            mp_value_free(last);
            bench_ok(mp_queue_get(q, MP_FOREVER, &last), "mp_queue_get");
        }
        double dt = bench_now() - t0;
        /* Like Python's side, only the last item is checked. */
        if (big) {
            const void *d;
            size_t len;
            if (mp_unpack(last, "y#", &d, &len) != MP_OK || len != MIB)
                bench_ok(MP_EPROTO, "queue 1MiB: bad last item");
            if (r >= 0)
                samples[r] = (double)count * MIB / dt / 1e6;
        } else {
            int seq;
            const char *s;
            if (mp_unpack(last, "(is)", &seq, &s) != MP_OK || seq != count - 1 || strcmp(s, "x") != 0)
                bench_ok(MP_EPROTO, "queue small: bad last item");
            if (r >= 0)
                samples[r] = count / dt;
        }
        mp_value_free(last);
    }
    mp_conn_close(ours);
    bench_finish(p);
    mp_queue_free(q);
    bench_report(name, big ? "MB/s" : "items/s", samples, reps);
}

/* ---- 5./6. Lock and Value --------------------------------------------- */

static void lock_loop(mp_lock *l, long n)
{
    for (long i = 0; i < n; i++) {
        if (mp_lock_acquire(l, MP_FOREVER) != MP_OK || mp_lock_release(l) != MP_OK)
            bench_ok(MP_EOS, "lock");
    }
}

/* As Python's `with v.get_lock(): v.value += 1`: the lock and the memory
 * are looked up each time. */
static void value_loop(mp_shared *v, long n)
{
    for (long i = 0; i < n; i++) {
        mp_lock *l = mp_shared_get_lock(v);
        if (mp_lock_acquire(l, MP_FOREVER) != MP_OK)
            bench_ok(MP_EOS, "value lock");
        ++*(int32_t *)mp_shared_ptr(v);
        if (mp_lock_release(l) != MP_OK)
            bench_ok(MP_EOS, "value unlock");
    }
}

/* Says ready, waits for the go Event, runs the loop, says done. */
static int contender(const mp_value *args)
{
    int increment;
    void *shared;
    mp_conn *c;
    mp_event *go;
    int64_t n;
    int rc = mp_args(args, "iOOOq", &increment, &shared, &c, &go, &n);
    if (rc != MP_OK)
        return rc;
    if ((rc = mp_conn_send_bytes(c, "r", 1)) != MP_OK || (rc = mp_event_wait(go, MP_FOREVER)) != MP_OK)
        return rc;
    if (increment)
        value_loop(shared, (long)n);
    else
        lock_loop(shared, (long)n);
    return mp_conn_send_bytes(c, "d", 1);
}
MP_TARGET(contender)

/* nproc processes started before the clock, released together; returns the
 * wall time from release to the last one's done message. */
static double contended(int increment, void *shared, long n, int nproc)
{
    mp_event *go;
    mp_process *procs[2];
    mp_conn *conns[2];
    bench_ok(mp_event_new(&go), "mp_event_new");
    for (int c = 0; c < nproc; c++) {
        mp_conn *theirs;
        bench_ok(mp_pipe(true, &conns[c], &theirs), "mp_pipe");
        procs[c] = bench_start(contender, "iOOOq", increment, shared, theirs, go, (int64_t)n);
        mp_conn_close(theirs);
    }
    for (int c = 0; c < nproc; c++)
        expect_message(conns[c], "ready");
    double t0 = bench_now();
    bench_ok(mp_event_set(go), "mp_event_set");
    for (int c = 0; c < nproc; c++)
        expect_message(conns[c], "done");
    double dt = bench_now() - t0;
    for (int c = 0; c < nproc; c++) {
        bench_finish(procs[c]);
        mp_conn_close(conns[c]);
    }
    mp_event_free(go);
    return dt;
}

static void lock_bench(const char *name, int nproc, long n)
{
    mp_lock *l;
    bench_ok(mp_lock_new(&l), "mp_lock_new");
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        double dt;
        if (nproc == 1) {
            double t0 = bench_now();
            lock_loop(l, n);
            dt = bench_now() - t0;
        } else {
            dt = contended(0, l, n, nproc);
        }
        if (r >= 0)
            samples[r] = (double)n * nproc / dt;
    }
    mp_lock_free(l);
    bench_report(name, "ops/s", samples, reps);
}

static void value_bench(const char *name, int nproc, long n)
{
    mp_shared *v;
    bench_ok(mp_shared_value_new(&v, 'i', true), "mp_shared_value_new");
    int32_t *value = mp_shared_ptr(v);
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        *value = 0;
        double dt;
        if (nproc == 1) {
            double t0 = bench_now();
            value_loop(v, n);
            dt = bench_now() - t0;
        } else {
            dt = contended(1, v, n, nproc);
        }
        if (*value != n * nproc) {
            fprintf(stderr, "bench_ipc: %s: count %ld, expected %ld\n", name, (long)*value, n * nproc);
            exit(1);
        }
        if (r >= 0)
            samples[r] = (double)n * nproc / dt;
    }
    mp_shared_free(v);
    bench_report(name, "ops/s", samples, reps);
}

/* ---- main ------------------------------------------------------------- */

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    quick = bench_options(argc, argv, "bench_ipc");
    if (quick)
        reps = 7;
    bench_children_init("bench_ipc");

    pingpong("mproc pipe pingpong bytes", PP_BYTES);
    pingpong("mproc pipe pingpong obj", PP_OBJ);
    pingpong("mproc pipe pingpong into", PP_INTO);
    bandwidth("mproc pipe bw 1MiB", MIB, 0);
    bandwidth("mproc pipe bw 16MiB", 16 * MIB, 0);
    bandwidth("mproc pipe bw 1MiB into", MIB, 1);
    bandwidth("mproc pipe bw 16MiB into", 16 * MIB, 1);
    queue_bench("mproc queue small", 0, quick ? 10000 : 100000);
    queue_bench("mproc queue 1MiB", 1, quick ? 32 : 256);

    long lock_n = quick ? 400000 : 4000000;
    lock_bench("mproc lock 1proc", 1, lock_n);
    lock_bench("mproc lock 2proc", 2, lock_n / 2);
    value_bench("mproc value incr 1proc", 1, lock_n);
    value_bench("mproc value incr 2proc", 2, lock_n / 2);
    return 0;
}
