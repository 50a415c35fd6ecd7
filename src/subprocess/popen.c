/* popen.c - Popen (mproc/subprocess.h): the options checked, the streams'
 * read-ahead buffers (readline), communicate's state across timeouts. The
 * OS side is platform.h's "external programs" section.
 *
 * Each stream has its own state, touched only by the calls on that stream,
 * so one thread may write stdin while another reads stdout; the process
 * state (wait, poll, signals) is the platform's, which locks it. */
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "base/timeout.h"
#include "mproc/subprocess.h"
#include "platform.h"
#include "subprocess_internal.h"

/* ---- growable bytes ---------------------------------------------------- */

static int bytes_reserve(mp_sp_bytes *b, size_t more)
{
    if (b->cap - b->len >= more + 1)
        return MP_OK;
    size_t cap = b->cap < 4096 ? 4096 : b->cap;
    while (cap - b->len < more + 1) {
        if (cap > ((size_t)-1) / 2)
            return mp_fail(MP_ENOMEM, "out of memory");
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (d == NULL)
        return mp_fail(MP_ENOMEM, "out of memory for %zu bytes", cap);
    b->data = d;
    b->cap = cap;
    return MP_OK;
}

int mp_sp_bytes_append(mp_sp_bytes *b, const void *data, size_t n)
{
    int rc = bytes_reserve(b, n);
    if (rc != MP_OK)
        return rc;
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return MP_OK;
}

/* Drop the first n bytes. */
static void bytes_consume(mp_sp_bytes *b, size_t n)
{
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

void mp_sp_bytes_free(mp_sp_bytes *b)
{
    free(b->data);
    *b = (mp_sp_bytes){0};
}

/* ---- new, free ---------------------------------------------------------- */

static bool stdio_valid(mp_stdio s, bool is_stderr)
{
    return s == MP_STDIO_INHERIT || s == MP_STDIO_PIPE || s == MP_STDIO_DEVNULL || (is_stderr && s == MP_STDIO_STDOUT);
}

static int check_env(const char *const *env)
{
    for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
        const char *eq = strchr(env[i], '=');
        if (eq == NULL || eq == env[i])
            return mp_fail(MP_EINVAL, "mp_popen_new: env[%zu] \"%s\" is not NAME=value", i, env[i]);
    }
    return MP_OK;
}

int mp_popen_new(mp_popen **out, const char *const *argv, const mp_popen_options *opts)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_popen_new: NULL out");
    *out = NULL;
    if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
        return mp_fail(MP_EINVAL, "mp_popen_new: argv is NULL or empty");
    static const mp_popen_options defaults = MP_POPEN_OPTIONS_INIT;
    if (opts == NULL)
        opts = &defaults;
    if (!stdio_valid(opts->stdin_, false) || !stdio_valid(opts->stdout_, false) || !stdio_valid(opts->stderr_, true))
        return mp_fail(MP_EINVAL, "mp_popen_new: bad stdin_/stdout_/stderr_ (MP_STDIO_STDOUT is for stderr only)");
    if (opts->env_mode != MP_ENV_INHERIT && opts->env_mode != MP_ENV_EXTEND && opts->env_mode != MP_ENV_REPLACE)
        return mp_fail(MP_EINVAL, "mp_popen_new: bad env_mode %d", (int)opts->env_mode);
    int rc = check_env(opts->env);
    if (rc != MP_OK)
        return rc;
    mp_popen *p = calloc(1, sizeof *p);
    if (p == NULL || (p->program = mp_strdup(argv[0])) == NULL) {
        free(p);
        return mp_fail(MP_ENOMEM, "mp_popen_new: out of memory");
    }
    mp_os_program_req req = {
        .argv = argv,
        .stdio = {opts->stdin_, opts->stdout_, opts->stderr_},
        .cwd = opts->cwd,
        .env_mode = opts->env_mode,
        .env = opts->env,
        .new_session = opts->new_session,
    };
    mp_os_handle pipes[3];
    rc = mp_os_program_start(&req, &p->os, pipes);
    if (rc != MP_OK) {
        free(p->program);
        free(p);
        return rc;
    }
    p->in = pipes[0];
    for (int i = 0; i < 2; i++)
        p->out[i].h = pipes[i + 1];
    *out = p;
    return MP_OK;
}

void mp_popen_free(mp_popen *p)
{
    if (p == NULL)
        return;
    /* The program first: a program blocked writing must not matter. */
    mp_os_program_free(p->os);
    if (p->in != MP_OS_NO_HANDLE)
        mp_os_handle_close(p->in);
    for (int i = 0; i < 2; i++) {
        if (p->out[i].h != MP_OS_NO_HANDLE)
            mp_os_handle_close(p->out[i].h);
        mp_sp_bytes_free(&p->out[i].ahead);
        mp_sp_bytes_free(&p->out[i].got);
    }
    free(p->pending);
    free(p->program);
    free(p);
}

long mp_popen_pid(const mp_popen *p)
{
    return p == NULL ? -1 : mp_os_program_pid(p->os);
}

/* ---- stdin -------------------------------------------------------------- */

int mp_popen_write(mp_popen *p, const void *data, size_t len, double timeout, size_t *written)
{
    size_t ignored;
    if (written == NULL)
        written = &ignored;
    *written = 0;
    if (p == NULL || (data == NULL && len > 0))
        return mp_fail(MP_EINVAL, "mp_popen_write: NULL argument");
    if (p->in == MP_OS_NO_HANDLE)
        return mp_fail(MP_ESTATE, "mp_popen_write: stdin is %s", p->in_closed ? "closed" : "not a pipe");
    if (p->comm_started)
        return mp_fail(MP_ESTATE, "mp_popen_write: communicate has taken stdin");
    if (len == 0)
        return MP_OK;
    return mp_os_stream_write(p->in, data, len, timeout, written);
}

int mp_popen_close_stdin(mp_popen *p)
{
    if (p == NULL)
        return mp_fail(MP_EINVAL, "mp_popen_close_stdin: NULL Popen");
    if (p->in != MP_OS_NO_HANDLE) {
        mp_os_handle_close(p->in);
        p->in = MP_OS_NO_HANDLE;
        p->in_closed = true;
    }
    return MP_OK;
}

/* ---- stdout, stderr ------------------------------------------------------ */

static int out_stream(mp_popen *p, mp_popen_stream s, const char *what, mp_sp_out **out)
{
    if (p == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL Popen", what);
    if (s != MP_POPEN_STDOUT && s != MP_POPEN_STDERR)
        return mp_fail(MP_EINVAL, "%s: stream %d is not MP_POPEN_STDOUT or MP_POPEN_STDERR", what, (int)s);
    *out = &p->out[s - 1];
    if ((*out)->h == MP_OS_NO_HANDLE && (*out)->ahead.len == 0 && !(*out)->eof)
        return mp_fail(MP_ESTATE, "%s: %s is not a pipe", what, s == MP_POPEN_STDOUT ? "stdout" : "stderr");
    if (p->comm_started)
        return mp_fail(MP_ESTATE, "%s: communicate has taken the output", what);
    return MP_OK;
}

int mp_popen_read(mp_popen *p, mp_popen_stream s, void *buf, size_t cap, double timeout, size_t *got)
{
    size_t ignored;
    if (got == NULL)
        got = &ignored;
    *got = 0;
    mp_sp_out *o = NULL;
    int rc = out_stream(p, s, "mp_popen_read", &o);
    if (rc != MP_OK)
        return rc;
    if (buf == NULL || cap == 0)
        return mp_fail(MP_EINVAL, "mp_popen_read: no buffer");
    if (o->ahead.len > 0) {
        size_t n = o->ahead.len < cap ? o->ahead.len : cap;
        memcpy(buf, o->ahead.data, n);
        bytes_consume(&o->ahead, n);
        *got = n;
        return MP_OK;
    }
    if (o->eof)
        return mp_fail(MP_EEOF, "mp_popen_read: end of file");
    rc = mp_os_stream_read(o->h, buf, cap, timeout, got);
    if (rc == MP_EEOF)
        o->eof = true;
    return rc;
}

static const char *find_newline(const char *s, size_t n)
{
    return memchr(s, '\n', n);
}

int mp_popen_readline(mp_popen *p, mp_popen_stream s, char *buf, size_t cap, double timeout, size_t *len)
{
    size_t ignored;
    if (len == NULL)
        len = &ignored;
    *len = 0;
    mp_sp_out *o = NULL;
    int rc = out_stream(p, s, "mp_popen_readline", &o);
    if (rc != MP_OK)
        return rc;
    if (buf == NULL || cap < 2)
        return mp_fail(MP_EINVAL, "mp_popen_readline: the buffer must hold at least 2 bytes");
    buf[0] = '\0';
    double deadline = mp_deadline(timeout);
    size_t searched = 0;
    for (;;) {
        size_t limit = o->ahead.len < cap - 1 ? o->ahead.len : cap - 1;
        const char *nl = limit > searched ? find_newline(o->ahead.data + searched, limit - searched) : NULL;
        size_t n = nl != NULL ? (size_t)(nl - o->ahead.data) + 1 : 0;
        if (nl == NULL && o->eof && o->ahead.len > 0 && o->ahead.len <= cap - 1)
            n = o->ahead.len; /* the last line, without its '\n' */
        if (n > 0) {
            memcpy(buf, o->ahead.data, n);
            buf[n] = '\0';
            bytes_consume(&o->ahead, n);
            *len = n;
            return MP_OK;
        }
        if (o->ahead.len >= cap - 1)
            return mp_fail(MP_ETOOBIG, "mp_popen_readline: no end of line in %zu bytes", cap - 1);
        if (o->eof)
            return mp_fail(MP_EEOF, "mp_popen_readline: end of file");
        searched = limit;
        rc = bytes_reserve(&o->ahead, 4096);
        if (rc != MP_OK)
            return rc;
        size_t got = 0;
        rc = mp_os_stream_read(o->h, o->ahead.data + o->ahead.len, o->ahead.cap - o->ahead.len - 1,
                               mp_time_left(deadline), &got);
        if (rc == MP_EEOF) {
            o->eof = true;
            continue;
        }
        if (rc == MP_ETIMEDOUT)
            return mp_fail(MP_ETIMEDOUT, "mp_popen_readline: no whole line after %g s", timeout);
        if (rc != MP_OK)
            return rc;
        o->ahead.len += got;
        o->ahead.data[o->ahead.len] = '\0';
    }
}

/* ---- communicate ---------------------------------------------------------- */

static int sink(void *ctx, int which, const void *data, size_t n)
{
    mp_popen *p = ctx;
    return mp_sp_bytes_append(&p->out[which].got, data, n);
}

/* Hand one stream's output to the caller: NULL if it was no pipe. */
static int hand_over(mp_sp_out *o, bool piped, char **dst, size_t *dst_len)
{
    size_t ignored;
    if (dst_len == NULL)
        dst_len = &ignored;
    *dst_len = 0;
    if (dst == NULL) {
        mp_sp_bytes_free(&o->got);
        return MP_OK;
    }
    *dst = NULL;
    if (!piped)
        return MP_OK;
    if (o->got.data == NULL) {
        int rc = bytes_reserve(&o->got, 0);
        if (rc != MP_OK)
            return rc;
        o->got.data[0] = '\0';
    }
    *dst = o->got.data;
    *dst_len = o->got.len;
    o->got = (mp_sp_bytes){0};
    return MP_OK;
}

int mp_popen_communicate(mp_popen *p, const void *input, size_t len, double timeout, char **out, size_t *out_len,
                         char **err, size_t *err_len)
{
    if (out != NULL)
        *out = NULL;
    if (err != NULL)
        *err = NULL;
    if (out_len != NULL)
        *out_len = 0;
    if (err_len != NULL)
        *err_len = 0;
    if (p == NULL || (input == NULL && len > 0))
        return mp_fail(MP_EINVAL, "mp_popen_communicate: NULL argument");
    double deadline = mp_deadline(timeout);
    if (!p->comm_started) {
        if (len > 0 && p->in == MP_OS_NO_HANDLE)
            return mp_fail(MP_ESTATE, "mp_popen_communicate: input given but stdin is %s",
                           p->in_closed ? "closed" : "not a pipe");
        p->comm_started = true;
        for (int i = 0; i < 2; i++) {
            p->out[i].piped = p->out[i].h != MP_OS_NO_HANDLE || p->out[i].ahead.len > 0 || p->out[i].eof;
            /* What readline read ahead comes first. */
            mp_sp_out *o = &p->out[i];
            int rc = o->ahead.len > 0 ? mp_sp_bytes_append(&o->got, o->ahead.data, o->ahead.len) : MP_OK;
            if (rc != MP_OK)
                return rc;
            mp_sp_bytes_free(&o->ahead);
        }
        p->input = input;
        p->input_len = len;
        p->input_done = 0;
    }
    mp_os_pump pump = {
        .in = p->in,
        .input = p->pending != NULL ? p->pending : p->input,
        .input_len = p->input_len,
        .input_done = p->input_done,
        .in_done = p->in == MP_OS_NO_HANDLE,
        .out = {p->out[0].h, p->out[1].h},
        .eof = {p->out[0].eof || p->out[0].h == MP_OS_NO_HANDLE, p->out[1].eof || p->out[1].h == MP_OS_NO_HANDLE},
        .sink = sink,
        .ctx = p,
    };
    int rc = MP_OK;
    if (!(pump.in_done && pump.eof[0] && pump.eof[1]))
        rc = mp_os_stream_pump(&pump, mp_time_left(deadline));
    p->input_done = pump.input_done;
    for (int i = 0; i < 2; i++)
        p->out[i].eof = pump.eof[i];
    if (p->in != MP_OS_NO_HANDLE && pump.in == MP_OS_NO_HANDLE) {
        p->in = MP_OS_NO_HANDLE; /* the pump closed it */
        p->in_closed = true;
    }
    if (rc != MP_OK && p->pending == NULL && p->input_done < p->input_len) {
        /* The caller's input need not outlive this call: keep what is left. */
        size_t left = p->input_len - p->input_done;
        unsigned char *copy = malloc(left);
        if (copy == NULL)
            return mp_fail(MP_ENOMEM, "mp_popen_communicate: out of memory");
        memcpy(copy, (const unsigned char *)p->input + p->input_done, left);
        p->pending = copy;
        p->input_len = left;
        p->input_done = 0;
    }
    if (rc == MP_ETIMEDOUT)
        return mp_fail(MP_ETIMEDOUT, "mp_popen_communicate: '%s' was not done after %g s", p->program,
                       timeout);
    if (rc != MP_OK)
        return mp_fail(rc, "mp_popen_communicate: %s", mp_last_error());
    /* Python closes the pipes once they are read to their end. */
    for (int i = 0; i < 2; i++)
        if (p->out[i].h != MP_OS_NO_HANDLE) {
            mp_os_handle_close(p->out[i].h);
            p->out[i].h = MP_OS_NO_HANDLE;
        }
    free(p->pending);
    p->pending = NULL;
    p->input = NULL;
    int code;
    rc = mp_os_program_wait(p->os, mp_time_left(deadline), &code);
    if (rc == MP_ETIMEDOUT)
        return mp_fail(MP_ETIMEDOUT, "mp_popen_communicate: '%s' has closed its output but still runs after %g s",
                       p->program, timeout);
    if (rc != MP_OK)
        return rc;
    rc = hand_over(&p->out[0], p->out[0].piped, out, out_len);
    if (rc == MP_OK)
        rc = hand_over(&p->out[1], p->out[1].piped, err, err_len);
    if (rc != MP_OK && out != NULL) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* ---- the process ---------------------------------------------------------- */

int mp_popen_poll(mp_popen *p, int *returncode)
{
    return mp_popen_wait(p, 0, returncode);
}

int mp_popen_wait(mp_popen *p, double timeout, int *returncode)
{
    if (p == NULL)
        return mp_fail(MP_EINVAL, "mp_popen_wait: NULL Popen");
    int code;
    int rc = mp_os_program_wait(p->os, timeout, &code);
    if (rc == MP_OK && returncode != NULL)
        *returncode = code;
    return rc;
}

int mp_popen_send_signal(mp_popen *p, int sig)
{
    if (p == NULL)
        return mp_fail(MP_EINVAL, "mp_popen_send_signal: NULL Popen");
    if (sig <= 0)
        return mp_fail(MP_EINVAL, "mp_popen_send_signal: bad signal %d", sig);
    return mp_os_program_signal(p->os, sig);
}

int mp_popen_terminate(mp_popen *p)
{
    return mp_popen_send_signal(p, MP_OS_SIGTERM);
}

int mp_popen_kill(mp_popen *p)
{
    return mp_popen_send_signal(p, MP_OS_SIGKILL);
}

int mp_popen_sentinel(const mp_popen *p, mp_sentinel *out)
{
    if (p == NULL || out == NULL)
        return mp_fail(MP_EINVAL, "mp_popen_sentinel: NULL argument");
    return mp_os_program_sentinel(p->os, out);
}
