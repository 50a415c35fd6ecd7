/* program.h - one long-lived program of a program pool
 * (mproc/program_pool.h): its tasks framed onto its stdin, its replies
 * read off its stdout as packed values, its stderr drained into a tail.
 * A pool's slot (src/pool/pool_program_slot.c) drives one; nothing here
 * knows of pools. */
#ifndef MPROC_SUBPROCESS_PROGRAM_H
#define MPROC_SUBPROCESS_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>

#include "mproc/pack.h"
#include "mproc/program_pool.h"

/* ---- framing (program_framing.c) ---------------------------------------- */

/* Append the task v[0..len) (one well-formed packed value) to out in the
 * framing f; with out NULL, only check that f can carry it. MP_EINVAL
 * otherwise, the message starting with what. */
int mp_frame_task(mp_program_framing f, const unsigned char *v, size_t len, mp_buf *out, const char *what);

/* Replies as they come off a program's stdout, in pieces of any size. */
typedef struct mp_frame_reader {
    mp_program_framing framing;
    size_t max;     /* the longest reply */
    mp_buf pending; /* the start of a reply still coming */
    size_t seen;    /* LINE: the bytes of pending known to hold no '\n' */
} mp_frame_reader;

void mp_frame_reader_init(mp_frame_reader *r, mp_program_framing f, size_t max);
/* Take data[0..n): each reply it completes is appended to values as one
 * packed value, and counted in *count. MP_EPROTO once the stream is out of
 * the framing; the reader is of no more use then. */
int mp_frame_reader_feed(mp_frame_reader *r, const void *data, size_t n, mp_buf *values, size_t *count);
/* Whether a reply has begun and not ended. */
bool mp_frame_reader_midway(const mp_frame_reader *r);
void mp_frame_reader_free(mp_frame_reader *r);

/* ---- a program (program.c) ------------------------------------------------ */

typedef struct mp_program_spec {
    const char *const *argv;
    const char *cwd;
    mp_env_mode env_mode;
    const char *const *env;
    mp_program_framing framing;
    size_t max_reply;
    bool pass_stderr;
} mp_program_spec;

typedef struct mp_program mp_program;

/* Start it with its three streams piped; mp_popen_new's errors. */
int mp_program_start(mp_program **out, const mp_program_spec *spec);
long mp_program_pid(const mp_program *p);
/* Whether it has not ended yet. */
bool mp_program_running(mp_program *p);
/* Wait up to timeout for its first line on stdout and check that it is
 * line. MP_EPROTO for another line, MP_ETIMEDOUT, MP_EEOF when it ended
 * first. */
int mp_program_await_line(mp_program *p, const char *line, double timeout);
/* Write the count framed tasks in input[0..len) while reading their count
 * replies into values. Each reply has timeout seconds from the one before
 * (MP_FOREVER: no limit). MP_ETIMEDOUT; MP_EPROTO (out of framing, or the
 * stream ended in the middle of a reply); MP_EEOF (it ended, or closed
 * stdout, between replies). After an error the program is out of step:
 * only mp_program_reap is left to do. */
int mp_program_exchange(mp_program *p, const unsigned char *input, size_t len, size_t count, double timeout,
                        mp_buf *values);
/* Kill it now; safe while another thread is in one of the calls above,
 * which then ends. */
void mp_program_kill(mp_program *p);
/* Ask it to exit: write quit (quit_len bytes; NULL: nothing), close its
 * stdin and give it grace seconds to exit, then terminate it, then kill
 * it. Then reap it and read what is left of its stderr. Its returncode. */
int mp_program_retire(mp_program *p, const void *quit, size_t quit_len, double grace);
/* Kill it, reap it, read what is left of its stderr. Its returncode. */
int mp_program_reap(mp_program *p);
/* The last bytes of its stderr (at most MP_PROGRAM_STDERR_TAIL), as one
 * NUL-terminated string. */
const char *mp_program_stderr_tail(mp_program *p);
void mp_program_free(mp_program *p);

#endif
