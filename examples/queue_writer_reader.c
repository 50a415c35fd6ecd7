/* Seed 003, "inter-process communication with a Queue": a writer process
 * puts three values, a reader process gets and prints them forever; the
 * parent waits for the writer and then terminates the reader.
 *
 *   def write(q):
 *       for value in ['a', 'b', 'c']:
 *           q.put(value)
 *           time.sleep(random.random())
 *   def read(q):
 *       while True:
 *           value = q.get(True)
 *           print('read process get value:%s' % value)
 *   q = Queue()
 *   pw = Process(target=write, args=(q,)); pr = Process(target=read, args=(q,))
 *   pw.start(); pr.start(); pw.join()
 *   pr.terminate()     # pr loops forever: it can only be stopped
 */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mproc.h>

#ifdef _WIN32
#include <windows.h>
static void sleep_seconds(double seconds)
{
    Sleep((DWORD)(seconds * 1000));
}
#else
static void sleep_seconds(double seconds)
{
    struct timespec t = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&t, NULL);
}
#endif

static const char *const values[] = {"a", "b", "c"};

static int write(const mp_value *args)
{
    mp_queue *q;
    unsigned seed;
    int rc = mp_args(args, "OI", &q, &seed);
    if (rc < 0)
        return rc;
    srand(seed);
    for (int i = 0; i < 3; i++) {
        if ((rc = mp_queue_put(q, MP_FOREVER, "s", values[i])) != MP_OK)
            return rc;
        /* The seed sleeps up to a second; up to 0.3 s keeps the example
         * quick and still leaves the reader waiting on an empty queue. */
        sleep_seconds((double)rand() / RAND_MAX * 0.3);
    }
    return 0;
}
MP_TARGET(write)

static int read(const mp_value *args)
{
    mp_queue *q;
    mp_conn *report;
    int rc = mp_args(args, "OO", &q, &report);
    if (rc < 0)
        return rc;
    for (;;) {
        mp_value *item;
        const char *value;
        if ((rc = mp_queue_get(q, MP_FOREVER, &item)) != MP_OK)
            return rc;
        if ((rc = mp_unpack(item, "s", &value)) == MP_OK) {
            printf("read process get value:%s\n", value);
            fflush(stdout);
            /* Not in the seed: tell the parent what arrived, so it can check
             * before it terminates this process. */
            rc = mp_conn_send(report, "s", value);
        }
        mp_value_free(item);
        if (rc != MP_OK)
            return rc;
    }
}
MP_TARGET(read)

int main(int argc, char **argv)
{
    mp_main(argc, argv);

    mp_queue *q;
    mp_conn *got = NULL, *report = NULL;
    mp_process *pw = NULL, *pr = NULL;
    int rc = mp_queue_new(&q, NULL);
    if (rc == MP_OK)
        rc = mp_pipe(false, &got, &report);
    if (rc == MP_OK)
        rc = mp_process_new(&pw, write, NULL, "OI", q, (unsigned)time(NULL));
    if (rc == MP_OK)
        rc = mp_process_new(&pr, read, NULL, "OO", q, report);
    if (rc == MP_OK)
        rc = mp_process_start(pw);
    if (rc == MP_OK)
        rc = mp_process_start(pr);
    /* Only the reader sends: a reader that died would then read as end of
     * file here rather than as a timeout. */
    mp_conn_close(report);
    if (rc == MP_OK)
        rc = mp_process_join(pw, MP_FOREVER);
    if (rc != MP_OK) {
        fprintf(stderr, "queue_writer_reader: %s\n", mp_last_error());
        return 1;
    }
    int writer_code = 1;
    mp_process_exitcode(pw, &writer_code);

    /* The writer is done, but the reader may still be printing the last
     * value; the seed's terminate() right away could cut it off. */
    bool ok = writer_code == 0;
    for (int i = 0; i < 3 && ok; i++) {
        mp_value *v = NULL;
        const char *value = NULL;
        ok = mp_conn_poll(got, 10) == MP_OK && mp_conn_recv(got, &v) == MP_OK &&
             mp_unpack(v, "s", &value) == MP_OK && strcmp(value, values[i]) == 0;
        mp_value_free(v);
    }
    if (!ok)
        fprintf(stderr, "queue_writer_reader: the reader did not get a, b, c in order\n");

    int reader_code = 0;
    if (mp_process_terminate(pr) == MP_OK && mp_process_join(pr, MP_FOREVER) == MP_OK)
        mp_process_exitcode(pr, &reader_code);
    printf("reader terminated, exit code %d\n", reader_code);
    ok = ok && reader_code == -15;

    mp_process_close(pw);
    mp_process_close(pr);
    mp_conn_close(got);
    mp_queue_free(q);
    return ok ? 0 : 1;
}
