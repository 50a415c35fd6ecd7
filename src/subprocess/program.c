/* program.c - one long-lived program of a program pool (program.h): a
 * Popen with its three streams piped, pumped all at once whenever the
 * pool waits for it, so that neither its stdout nor its stderr can fill
 * while we write its stdin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "subprocess/program.h"
#include "subprocess/subprocess_internal.h"

/* How long reaping waits for a killed program's last stderr bytes. */
#define DRAIN_SECONDS 0.2
/* How long a terminated program has before it is killed. */
#define TERMINATE_SECONDS 1.0
/* How long a chunk's replies gather between reads (mp_os_pump's
 * coalesce). Nobody sees them before the chunk's last one, so this costs
 * no latency; it spares the program and us a wake-up per reply. */
#define COALESCE_SECONDS 200e-6

/* What the program's stdout is read for, in the current pump. */
typedef enum { STDOUT_DROP, STDOUT_LINE, STDOUT_REPLIES } stdout_use;

struct mp_program {
    mp_popen *popen;
    bool pass_stderr;
    mp_frame_reader reader;
    mp_sentinel sentinel;
    bool has_sentinel;
    bool eof[2];
    bool reaped;
    int returncode;
    char tail[MP_PROGRAM_STDERR_TAIL + 1];
    size_t tail_len;
    /* the current pump's */
    stdout_use use;
    mp_buf line; /* STDOUT_LINE: the line so far; after it, what followed */
    bool line_done;
    mp_buf *values; /* STDOUT_REPLIES */
    size_t got, want, got_at_start;
    bool stop_each; /* stop at every reply, so that each has its own deadline */
};

static void keep_stderr(mp_program *p, const char *data, size_t n)
{
    if (p->pass_stderr) {
        fwrite(data, 1, n, stderr);
        fflush(stderr);
    }
    if (n >= MP_PROGRAM_STDERR_TAIL) {
        memcpy(p->tail, data + n - MP_PROGRAM_STDERR_TAIL, MP_PROGRAM_STDERR_TAIL);
        p->tail_len = MP_PROGRAM_STDERR_TAIL;
    } else {
        size_t keep = p->tail_len + n > MP_PROGRAM_STDERR_TAIL ? MP_PROGRAM_STDERR_TAIL - n : p->tail_len;
        memmove(p->tail, p->tail + p->tail_len - keep, keep);
        memcpy(p->tail + keep, data, n);
        p->tail_len = keep + n;
    }
    p->tail[p->tail_len] = '\0';
}

/* The pump's sink: a positive return ends the pump. */
static int sink(void *ctx, int which, const void *data, size_t n)
{
    mp_program *p = ctx;
    if (which == 1) {
        keep_stderr(p, data, n);
        return MP_OK;
    }
    if (p->use == STDOUT_LINE) {
        int rc = mp_buf_append(&p->line, data, n);
        p->line_done = rc == MP_OK && memchr(p->line.data, '\n', p->line.len) != NULL;
        return rc != MP_OK ? rc : p->line_done;
    }
    if (p->use == STDOUT_REPLIES) {
        int rc = mp_frame_reader_feed(&p->reader, data, n, p->values, &p->got);
        if (rc != MP_OK)
            return rc;
        if (p->got > p->want)
            return mp_fail(MP_EPROTO, "the program wrote more replies than it had tasks");
        return p->got == p->want || (p->stop_each && p->got > p->got_at_start);
    }
    return MP_OK;
}

/* Pump with nothing to write: read both outputs until stop, timeout or
 * their end. */
static int pump_outputs(mp_program *p, double timeout)
{
    mp_os_pump pump = {
        .in = MP_OS_NO_HANDLE,
        .in_done = true,
        .out = {p->popen->out[0].h, p->popen->out[1].h},
        .eof = {p->eof[0], p->eof[1]},
        .sink = sink,
        .ctx = p,
        .watch = p->has_sentinel && !p->reaped ? &p->sentinel : NULL,
    };
    int rc = mp_os_stream_pump(&pump, timeout);
    p->eof[0] = pump.eof[0];
    p->eof[1] = pump.eof[1];
    return rc;
}

int mp_program_start(mp_program **out, const mp_program_spec *spec)
{
    *out = NULL;
    mp_program *p = calloc(1, sizeof *p);
    if (p == NULL)
        return mp_fail(MP_ENOMEM, "mp_program_pool_new: out of memory");
    mp_popen_options o = {.stdin_ = MP_STDIO_PIPE,
                          .stdout_ = MP_STDIO_PIPE,
                          .stderr_ = MP_STDIO_PIPE,
                          .cwd = spec->cwd,
                          .env_mode = spec->env_mode,
                          .env = spec->env};
    int rc = mp_popen_new(&p->popen, spec->argv, &o);
    if (rc != MP_OK) {
        free(p);
        return rc;
    }
    p->pass_stderr = spec->pass_stderr;
    p->has_sentinel = mp_popen_sentinel(p->popen, &p->sentinel) == MP_OK;
    mp_frame_reader_init(&p->reader, spec->framing, spec->max_reply);
    p->line = (mp_buf)MP_BUF_INIT;
    *out = p;
    return MP_OK;
}

long mp_program_pid(const mp_program *p)
{
    return mp_popen_pid(p->popen);
}

bool mp_program_running(mp_program *p)
{
    return mp_popen_poll(p->popen, NULL) == MP_ETIMEDOUT;
}

int mp_program_await_line(mp_program *p, const char *line, double timeout)
{
    p->use = STDOUT_LINE;
    int rc = pump_outputs(p, timeout);
    p->use = STDOUT_DROP;
    if (!p->line_done) {
        if (rc == MP_ETIMEDOUT)
            return mp_fail(MP_ETIMEDOUT, "no ready line after %g s", timeout);
        return rc == MP_OK || rc == MP_ECHILD ? mp_fail(MP_EEOF, "it ended before its ready line") : rc;
    }
    size_t n = (size_t)((unsigned char *)memchr(p->line.data, '\n', p->line.len) - p->line.data);
    size_t len = n > 0 && p->line.data[n - 1] == '\r' ? n - 1 : n;
    if (len != strlen(line) || memcmp(p->line.data, line, len) != 0)
        return mp_fail(MP_EPROTO, "its first line was '%.*s', not the ready line '%s'",
                       (int)(len > 200 ? 200 : len), (const char *)p->line.data, line);
    /* What came after the line is the start of the replies. */
    memmove(p->line.data, p->line.data + n + 1, p->line.len - n - 1);
    p->line.len -= n + 1;
    return MP_OK;
}

int mp_program_exchange(mp_program *p, const unsigned char *input, size_t len, size_t count, double timeout,
                        mp_buf *values)
{
    p->values = values;
    p->got = 0;
    p->want = count;
    p->stop_each = timeout != MP_FOREVER;
    int rc = MP_OK;
    if (p->line.len > 0) {
        rc = mp_frame_reader_feed(&p->reader, p->line.data, p->line.len, values, &p->got);
        mp_buf_clear(&p->line);
        if (rc == MP_OK && p->got > count)
            rc = mp_fail(MP_EPROTO, "the program wrote more replies than it had tasks");
    }
    mp_os_pump pump = {
        .in = p->popen->in,
        .input = input,
        .input_len = len,
        .keep_in = true,
        .out = {p->popen->out[0].h, p->popen->out[1].h},
        .eof = {p->eof[0], p->eof[1]},
        .sink = sink,
        .ctx = p,
        .watch = p->has_sentinel ? &p->sentinel : NULL,
        .coalesce = COALESCE_SECONDS,
    };
    p->use = STDOUT_REPLIES;
    while (rc == MP_OK && p->got < count) {
        p->got_at_start = p->got;
        rc = mp_os_stream_pump(&pump, timeout);
        if (rc == MP_OK && p->got == p->got_at_start)
            rc = MP_EEOF; /* its stdout ended */
    }
    p->use = STDOUT_DROP;
    p->eof[0] = pump.eof[0];
    p->eof[1] = pump.eof[1];
    if (rc == MP_EEOF || rc == MP_ECHILD)
        return mp_frame_reader_midway(&p->reader)
                   ? mp_fail(MP_EPROTO, "its stdout ended in the middle of a reply")
                   : mp_fail(MP_EEOF, "it ended, or closed its stdout, while it held the task");
    if (rc == MP_ETIMEDOUT)
        return mp_fail(MP_ETIMEDOUT, "no reply within the task timeout of %g s", timeout);
    return rc;
}

void mp_program_kill(mp_program *p)
{
    mp_popen_kill(p->popen);
}

/* Wait for it to end and reap it. */
static int reap(mp_program *p, double timeout)
{
    if (!p->reaped && mp_popen_wait(p->popen, timeout, &p->returncode) == MP_OK)
        p->reaped = true;
    return p->reaped ? MP_OK : MP_ETIMEDOUT;
}

int mp_program_retire(mp_program *p, const void *quit, size_t quit_len, double grace)
{
    double deadline = mp_deadline(grace);
    if (quit != NULL && quit_len > 0)
        mp_popen_write(p->popen, quit, quit_len, grace, NULL);
    mp_popen_close_stdin(p->popen);
    /* Read on meanwhile: a program that writes as it exits must not block. */
    pump_outputs(p, grace);
    if (reap(p, mp_time_left(deadline)) != MP_OK) {
        mp_popen_terminate(p->popen);
        if (reap(p, TERMINATE_SECONDS) != MP_OK)
            mp_program_reap(p);
    }
    pump_outputs(p, DRAIN_SECONDS);
    return p->returncode;
}

int mp_program_reap(mp_program *p)
{
    mp_popen_kill(p->popen);
    reap(p, MP_FOREVER);
    pump_outputs(p, DRAIN_SECONDS);
    return p->returncode;
}

const char *mp_program_stderr_tail(mp_program *p)
{
    return p->tail;
}

void mp_program_free(mp_program *p)
{
    if (p == NULL)
        return;
    mp_popen_free(p->popen);
    mp_frame_reader_free(&p->reader);
    mp_buf_free(&p->line);
    free(p);
}
