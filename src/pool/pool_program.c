/* pool_program.c - making a program pool (mproc/program_pool.h): its
 * options checked and copied, and what a call's job asks of it (the
 * program's name, whether the framing carries a task). */
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "pool/pool_internal.h"

#define DEFAULT_START_TIMEOUT 60.0
#define DEFAULT_MAX_REPLY ((size_t)16 << 20)
#define DEFAULT_QUIT_GRACE 5.0
#define DEFAULT_MAX_FAILURES 3

void mp_pool_programs_free(pool_programs *pp)
{
    if (pp == NULL)
        return;
    free(pp->argv);
    free(pp->env);
    free(pp->cwd);
    free(pp->ready_line);
    free(pp->quit);
    free(pp);
}

static const char *string_at(const void *v, size_t i)
{
    return ((const char *const *)v)[i];
}

static size_t count_strings(const char *const *v)
{
    size_t n = 0;
    while (v != NULL && v[n] != NULL)
        n++;
    return n;
}

/* A timeout option: 0 is the default; negative or NaN is an error. */
static int seconds(double v, double dflt, double *out, const char *name)
{
    if (!(v >= 0))
        return mp_fail(MP_EINVAL, "mp_program_pool_new: %s is %g; it must be 0 (the default) or more", name,
                       v);
    *out = v == 0 ? dflt : v;
    return MP_OK;
}

static int check(const mp_program_pool_options *o)
{
    if (o->argv == NULL || o->argv[0] == NULL || o->argv[0][0] == '\0')
        return mp_fail(MP_EINVAL, "mp_program_pool_new: argv names no program");
    if (o->programs < 0 || o->maxtasksperchild < 0 || o->max_start_failures < 0)
        return mp_fail(MP_EINVAL, "mp_program_pool_new: programs, maxtasksperchild and max_start_failures "
                                  "are 0 (the default) or more");
    if (o->framing != MP_FRAME_LINE && o->framing != MP_FRAME_LENGTH && o->framing != MP_FRAME_MSGPACK)
        return mp_fail(MP_EINVAL, "mp_program_pool_new: bad framing %d", (int)o->framing);
    if (o->ready_line != NULL && strchr(o->ready_line, '\n') != NULL)
        return mp_fail(MP_EINVAL, "mp_program_pool_new: the ready line holds a '\\n'");
    if (o->quit == NULL && o->quit_len != 0)
        return mp_fail(MP_EINVAL, "mp_program_pool_new: NULL quit with a length");
    return MP_OK;
}

static int copy(pool_programs *pp, const mp_program_pool_options *o)
{
    int rc = seconds(o->start_timeout, DEFAULT_START_TIMEOUT, &pp->start_timeout, "start_timeout");
    if (rc == MP_OK)
        rc = seconds(o->task_timeout, MP_FOREVER, &pp->task_timeout, "task_timeout");
    if (rc == MP_OK)
        rc = seconds(o->quit_grace, DEFAULT_QUIT_GRACE, &pp->quit_grace, "quit_grace");
    if (rc != MP_OK)
        return rc;
    pp->argv = mp_strv_dup(count_strings(o->argv), string_at, o->argv);
    bool ok = pp->argv != NULL;
    if (o->env != NULL)
        ok = ok && (pp->env = mp_strv_dup(count_strings(o->env), string_at, o->env)) != NULL;
    if (o->cwd != NULL)
        ok = ok && (pp->cwd = mp_strdup(o->cwd)) != NULL;
    if (o->ready_line != NULL)
        ok = ok && (pp->ready_line = mp_strdup(o->ready_line)) != NULL;
    if (o->quit_len > 0 && ok && (pp->quit = malloc(o->quit_len)) != NULL) {
        memcpy(pp->quit, o->quit, o->quit_len);
        pp->quit_len = o->quit_len;
    }
    if (!ok || (o->quit_len > 0 && pp->quit == NULL))
        return mp_fail(MP_ENOMEM, "mp_program_pool_new: out of memory");
    pp->max_failures = o->max_start_failures ? o->max_start_failures : DEFAULT_MAX_FAILURES;
    pp->spec = (mp_program_spec){
        .argv = (const char *const *)pp->argv,
        .cwd = pp->cwd,
        .env_mode = o->env_mode,
        .env = (const char *const *)pp->env,
        .framing = o->framing,
        .max_reply = o->max_reply ? o->max_reply : DEFAULT_MAX_REPLY,
        .pass_stderr = o->pass_stderr,
    };
    return MP_OK;
}

int mp_program_pool_new(mp_pool **out, const mp_program_pool_options *opts)
{
    if (out == NULL || opts == NULL)
        return mp_fail(MP_EINVAL, "mp_program_pool_new: NULL %s", out == NULL ? "out" : "options");
    *out = NULL;
    int rc = check(opts);
    if (rc != MP_OK)
        return rc;
    pool_programs *pp = calloc(1, sizeof *pp);
    if (pp == NULL)
        return mp_fail(MP_ENOMEM, "mp_program_pool_new: out of memory");
    if ((rc = copy(pp, opts)) != MP_OK) {
        mp_pool_programs_free(pp);
        return rc;
    }
    mp_pool_options po = {.processes = opts->programs, .maxtasksperchild = opts->maxtasksperchild};
    return mp_pool_create(out, &po, false, pp, NULL, "mp_program_pool_new");
}

/* ---- what a job asks (pool_chunk.h) ----------------------------------------- */

const char *mp_pool_program_name(const mp_pool *pool)
{
    return pool->programs ? pool->programs->argv[0] : NULL;
}

int mp_pool_check_task(const mp_pool *pool, const unsigned char *v, size_t len, const char *what)
{
    return mp_frame_task(pool->programs->spec.framing, v, len, NULL, what);
}
