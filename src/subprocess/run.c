/* run.c - subprocess.run: start, communicate, wait; CompletedProcess. */
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "mproc/subprocess.h"
#include "subprocess_internal.h"

/* After a timeout: what came so far, taken from communicate's buffers. */
static void take_partial(mp_sp_out *o, bool want, char **dst, size_t *len)
{
    if (!want || o->got.data == NULL) {
        if (want && (*dst = malloc(1)) != NULL)
            (*dst)[0] = '\0';
        *len = 0;
        return;
    }
    *dst = o->got.data;
    *len = o->got.len;
    o->got = (mp_sp_bytes){0};
}

int mp_run(const char *const *argv, const mp_run_options *opts, const void *input, size_t len, double timeout,
           mp_completed *result)
{
    if (result == NULL)
        return mp_fail(MP_EINVAL, "mp_run: NULL result");
    *result = (mp_completed){0};
    if (input == NULL && len > 0)
        return mp_fail(MP_EINVAL, "mp_run: NULL input of %zu bytes", len);
    static const mp_run_options defaults = {MP_POPEN_OPTIONS_INIT, false, false};
    if (opts == NULL)
        opts = &defaults;
    mp_popen_options po = opts->popen;
    if (opts->capture_output) {
        po.stdout_ = MP_STDIO_PIPE;
        if (po.stderr_ != MP_STDIO_STDOUT)
            po.stderr_ = MP_STDIO_PIPE;
    }
    if (input != NULL) {
        if (po.stdin_ != MP_STDIO_INHERIT && po.stdin_ != MP_STDIO_PIPE)
            return mp_fail(MP_EINVAL, "mp_run: input and stdin_ may not both be set");
        po.stdin_ = MP_STDIO_PIPE;
    }
    mp_popen *p;
    int rc = mp_popen_new(&p, argv, &po);
    if (rc != MP_OK)
        return rc;
    bool want_out = po.stdout_ == MP_STDIO_PIPE, want_err = po.stderr_ == MP_STDIO_PIPE;
    rc = mp_popen_communicate(p, input, len, timeout, want_out ? &result->out : NULL, &result->out_len,
                              want_err ? &result->err : NULL, &result->err_len);
    if (rc == MP_ETIMEDOUT) {
        /* TimeoutExpired: kill, reap, keep what came. */
        mp_popen_kill(p);
        mp_popen_wait(p, MP_FOREVER, &result->returncode);
        take_partial(&p->out[0], want_out, &result->out, &result->out_len);
        take_partial(&p->out[1], want_err, &result->err, &result->err_len);
        mp_popen_free(p);
        return mp_fail(MP_ETIMEDOUT, "mp_run: '%s' timed out after %g s and was killed", argv[0], timeout);
    }
    if (rc != MP_OK) {
        mp_popen_free(p);
        mp_completed_free(result);
        return rc;
    }
    rc = mp_popen_wait(p, MP_FOREVER, &result->returncode);
    mp_popen_free(p);
    if (rc != MP_OK)
        return rc;
    if (opts->check && result->returncode != 0)
        return mp_fail(MP_ECALLEDPROCESS, "mp_run: '%s' exited with %d", argv[0], result->returncode);
    return MP_OK;
}

void mp_completed_free(mp_completed *c)
{
    if (c == NULL)
        return;
    free(c->out);
    free(c->err);
    *c = (mp_completed){0};
}
