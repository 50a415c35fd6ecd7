/* bench_children.c - failures and children of the mproc-side benchmarks
 * (bench_children.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_children.h"

static const char *name = "bench";
static const mp_context *fork_ctx;

void bench_ok(int rc, const char *what)
{
    if (rc == MP_OK)
        return;
    fprintf(stderr, "%s: %s: %s (%s)\n", name, what, mp_last_error(), mp_errname(rc));
    exit(1);
}

void bench_children_init(const char *program)
{
    name = program;
    bench_ok(mp_get_context(MP_START_FORK, &fork_ctx), "mp_get_context(fork)");
}

const mp_context *bench_fork_context(void)
{
    return fork_ctx;
}

mp_process *bench_start(mp_target_fn target, const char *fmt, ...)
{
    mp_process_options opts = {.context = fork_ctx};
    mp_process *p;
    va_list ap;
    va_start(ap, fmt);
    int rc = mp_process_newv(&p, target, &opts, fmt, ap);
    va_end(ap);
    bench_ok(rc, "mp_process_new");
    bench_ok(mp_process_start(p), "mp_process_start");
    return p;
}

void bench_finish(mp_process *p)
{
    int code = -1;
    bench_ok(mp_process_join(p, MP_FOREVER), "mp_process_join");
    bench_ok(mp_process_exitcode(p, &code), "mp_process_exitcode");
    if (code != 0) {
        fprintf(stderr, "%s: child exited with %d\n", name, code);
        exit(1);
    }
    mp_process_close(p);
}
