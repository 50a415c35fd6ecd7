/* bench_children.h - what the mproc-side benchmarks share: a failed call
 * ends the run with mproc's message, and children are started under the
 * fork start method (Python's side uses its fork context too, and fork is
 * what lets the raw side's CPU pinning reach its children). */
#ifndef MPROC_BENCH_CHILDREN_H
#define MPROC_BENCH_CHILDREN_H

#include <mproc.h>

/* Name the program in messages and look up the fork context; call first. */
void bench_children_init(const char *program);
/* The fork context. */
const mp_context *bench_fork_context(void);
/* Exit with 1 and "<program>: <what>: <mproc's message> (<code name>)"
 * unless rc is MP_OK. */
void bench_ok(int rc, const char *what);
/* Start target under fork with fmt's arguments; any failure exits. */
mp_process *bench_start(mp_target_fn target, const char *fmt, ...);
/* Join p (forever) and close it; a child that did not exit with 0 exits
 * the run. */
void bench_finish(mp_process *p);

#endif
