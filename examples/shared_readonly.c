/* Seed 001, "a large read-only object shared by workers": eight workers
 * read the same big array. The seed found its Python program used eight
 * copies of the array, and recommends sharedctypes instead: the array lives
 * once, in shared memory, and every worker maps it.
 *
 *   data = RawArray('Q', N)                  # 256 MiB, filled once
 *   def worker(i, data, sums):
 *       sums[i] = checksum(data)             # reads all of it
 *   ps = [Process(target=worker, args=(i, data, sums)) for i in range(8)]
 *   for p in ps: p.start()
 *   for p in ps: p.join()
 *
 * (The seed uses Pool(8); eight Processes do the same work here.)
 *
 * On Linux each worker also reports its proportional set size (PSS: every
 * shared page counted as 1/n in each of the n processes mapping it), and
 * the workers' total must stay under 1.2 copies of the array. Windows has
 * no PSS, so there only the checksums are checked.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <mproc.h>

#define NWORKERS 8
#define DATA_BYTES ((size_t)256 << 20)

static uint64_t element(size_t i)
{
    uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15u;
    return x ^ (x >> 29);
}

#ifdef __linux__
/* This process's PSS in KiB, or -1. */
static long pss_kib(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
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
#endif

static int worker(const mp_value *args)
{
    int i;
    mp_shared *data, *sums, *pss;
    mp_barrier *all_read;
    int rc = mp_args(args, "iOOOO", &i, &data, &sums, &pss, &all_read);
    if (rc < 0)
        return rc;

    const uint64_t *d = mp_shared_ptr(data);
    uint64_t sum = 0;
    for (size_t k = 0, n = mp_shared_len(data); k < n; k++)
        sum += d[k];
    ((uint64_t *)mp_shared_ptr(sums))[i] = sum;

    /* PSS divides a page among the processes mapping it at that moment:
     * measured before the others have read the data, or after some have
     * exited, a worker would be charged more than its share. So all read,
     * then all measure, then all may go. */
    if ((rc = mp_barrier_wait(all_read, MP_FOREVER, NULL)) != MP_OK)
        return rc;
#ifdef __linux__
    ((int64_t *)mp_shared_ptr(pss))[i] = pss_kib();
#endif
    return mp_barrier_wait(all_read, MP_FOREVER, NULL);
}
MP_TARGET(worker)

int main(int argc, char **argv)
{
    mp_main(argc, argv);

    /* spawn everywhere, as on Windows: the children share the array only
     * through shared memory, never through fork's copy-on-write. */
    mp_shared *data, *sums, *pss;
    mp_barrier *all_read;
    int rc = mp_set_start_method(MP_START_SPAWN, false);
    if (rc == MP_OK)
        rc = mp_shared_array_new(&data, 'Q', DATA_BYTES / sizeof(uint64_t), false);
    if (rc == MP_OK)
        rc = mp_shared_array_new(&sums, 'Q', NWORKERS, false);
    if (rc == MP_OK)
        rc = mp_shared_array_new(&pss, 'q', NWORKERS, false);
    if (rc == MP_OK)
        rc = mp_barrier_new(&all_read, NWORKERS, &(mp_barrier_options){.timeout = 60});
    if (rc != MP_OK) {
        fprintf(stderr, "shared_readonly: %s\n", mp_last_error());
        return 1;
    }

    uint64_t *d = mp_shared_ptr(data), expected = 0;
    for (size_t k = 0, n = mp_shared_len(data); k < n; k++) {
        d[k] = element(k);
        expected += d[k];
    }
    printf("%u MiB of data in shared memory, checksum %016llx\n", (unsigned)(DATA_BYTES >> 20),
           (unsigned long long)expected);
    fflush(stdout);

    mp_process *p[NWORKERS] = {NULL};
    for (int i = 0; i < NWORKERS && rc == MP_OK; i++) {
        rc = mp_process_new(&p[i], worker, NULL, "iOOOO", i, data, sums, pss, all_read);
        if (rc == MP_OK)
            rc = mp_process_start(p[i]);
    }
    if (rc != MP_OK) {
        fprintf(stderr, "shared_readonly: %s\n", mp_last_error());
        /* The workers started wait at the barrier for the rest. */
        mp_barrier_abort(all_read);
    }
    bool ok = rc == MP_OK;
    for (int i = 0; i < NWORKERS; i++) {
        int code = 1;
        if (p[i] != NULL && mp_process_join(p[i], MP_FOREVER) == MP_OK)
            mp_process_exitcode(p[i], &code);
        ok = ok && code == 0;
        mp_process_close(p[i]);
    }

    const uint64_t *sum = mp_shared_ptr(sums);
#ifdef __linux__
    const int64_t *kib = mp_shared_ptr(pss);
    int64_t total = 0;
#endif
    for (int i = 0; i < NWORKERS; i++) {
        printf("worker %d: checksum %016llx", i, (unsigned long long)sum[i]);
#ifdef __linux__
        printf(", PSS %.1f MiB", (double)kib[i] / 1024);
        ok = ok && kib[i] > 0;
        total += kib[i];
#endif
        printf("\n");
        ok = ok && sum[i] == expected;
    }
#ifdef __linux__
    /* One copy, shared, plus each worker's own few pages; eight private
     * copies would be 8 x 256 MiB. */
    double limit = 1.2 * (double)(DATA_BYTES >> 10);
    printf("total PSS of %d workers: %.1f MiB (limit %.1f MiB; %d copies would be %u MiB)\n", NWORKERS,
           (double)total / 1024, limit / 1024, NWORKERS, (unsigned)(NWORKERS * (DATA_BYTES >> 20)));
    ok = ok && (double)total < limit;
#endif

    mp_barrier_free(all_read);
    mp_shared_free(pss);
    mp_shared_free(sums);
    mp_shared_free(data);
    printf("%s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
