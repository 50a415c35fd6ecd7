/* start_method.c - the global start method and the contexts (process.h). */
#include <string.h>

#include "base/error_internal.h"
#include "platform.h"
#include "process/start_method.h"

struct mp_context {
    mp_start_method method;
};

static const mp_context contexts[] = {
    {MP_START_DEFAULT}, {MP_START_FORK}, {MP_START_SPAWN}, {MP_START_FORKSERVER}};

static const char *const names[] = {"default", "fork", "spawn", "forkserver"};

static mp_start_method global_method; /* MP_START_DEFAULT until set or asked */

static bool known(mp_start_method m)
{
    return m >= MP_START_DEFAULT && m <= MP_START_FORKSERVER;
}

static mp_start_method system_default(void)
{
    return mp_os_supports(MP_START_FORK) ? MP_START_FORK : MP_START_SPAWN;
}

static int check_supported(const char *what, mp_start_method m)
{
    if (!known(m) || m == MP_START_DEFAULT)
        return mp_fail(MP_EINVAL, "%s: %d is not a start method", what, (int)m);
    if (!mp_os_supports(m))
        return mp_fail(MP_EUNSUPPORTED, "%s: the %s start method is not available on this system%s", what, names[m],
                       mp_os_supports(MP_START_FORK) ? "" : "; Windows has spawn only");
    return MP_OK;
}

int mp_set_start_method(mp_start_method method, bool force)
{
    int rc = check_supported("mp_set_start_method", method);
    if (rc != MP_OK)
        return rc;
    mp_os_global_lock();
    if (global_method != MP_START_DEFAULT && !force)
        rc = mp_fail(MP_ESTATE, "mp_set_start_method: the start method is already %s (set, or fixed by asking for it); "
                                "pass force to change it",
                     names[global_method]);
    else
        global_method = method;
    mp_os_global_unlock();
    return rc;
}

mp_start_method mp_get_start_method(void)
{
    mp_os_global_lock();
    if (global_method == MP_START_DEFAULT)
        global_method = system_default();
    mp_start_method m = global_method;
    mp_os_global_unlock();
    return m;
}

size_t mp_get_all_start_methods(mp_start_method out[3])
{
    mp_start_method first = system_default();
    size_t n = 0;
    out[n++] = first;
    for (mp_start_method m = MP_START_FORK; m <= MP_START_FORKSERVER; m++)
        if (m != first && mp_os_supports(m))
            out[n++] = m;
    return n;
}

const char *mp_start_method_name(mp_start_method method)
{
    return known(method) ? names[method] : NULL;
}

int mp_start_method_parse(const char *name, mp_start_method *out)
{
    if (name == NULL || out == NULL)
        return mp_fail(MP_EINVAL, "mp_start_method_parse: NULL argument");
    for (mp_start_method m = MP_START_DEFAULT; m <= MP_START_FORKSERVER; m++) {
        if (strcmp(name, names[m]) == 0) {
            *out = m;
            return MP_OK;
        }
    }
    return mp_fail(MP_EINVAL, "mp_start_method_parse: unknown start method \"%s\"", name);
}

int mp_get_context(mp_start_method method, const mp_context **out)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_get_context: NULL out");
    *out = NULL;
    if (method != MP_START_DEFAULT) {
        int rc = check_supported("mp_get_context", method);
        if (rc != MP_OK)
            return rc;
    }
    *out = &contexts[method];
    return MP_OK;
}

mp_start_method mp_context_start_method(const mp_context *ctx)
{
    return ctx ? ctx->method : MP_START_DEFAULT;
}

mp_start_method mp_resolve_start_method(const mp_context *ctx)
{
    mp_start_method m = mp_context_start_method(ctx);
    return m == MP_START_DEFAULT ? mp_get_start_method() : m;
}
