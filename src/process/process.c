/* process.c - the Process object: creation, start, join, exit code, stop,
 * close. Starting is handed to the platform layer; the child's side is in
 * child.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/fork_path.h"
#include "base/str.h"
#include "object/object.h"
#include "process/handoff.h"
#include "process/process_internal.h"
#include "process/start_method.h"
#include "thread/thread_internal.h"

/* Handles a process may carry (frame.h bounds the handoff). */
#define MAX_PASSED_HANDLES 1024

static int check_target(const char *what, mp_target_fn target, const char **name)
{
    if (target == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL target", what);
    *name = mp_target_name(target);
    if (*name == NULL)
        return mp_fail(MP_ENOTREG, "%s: the target function is not registered; add MP_TARGET(fn) after its "
                                   "definition, or call mp_register(\"name\", fn) before mp_main",
                       what);
    return MP_OK;
}

static int make_process(const char *what, mp_process **out, mp_target_fn target, const mp_process_options *opts,
                        mp_buf *args)
{
    const char *target_name;
    int rc = check_target(what, target, &target_name);
    if (rc != MP_OK)
        return rc;
    /* malloc, not calloc: glibc's calloc bypasses its thread cache and
     * writes the arena, a page that the next fork makes the parent copy. */
    mp_process *p = malloc(sizeof *p);
    if (p == NULL)
        return mp_fail(MP_ENOMEM, "%s: out of memory", what);
    *p = (mp_process){.target = NULL};
    p->target = target;
    p->target_name = target_name;
    p->state = MP_PROCESS_NEW;
    if (opts) {
        p->daemon = opts->daemon;
        p->context = opts->context;
    }
    rc = mp_state_next_child(p->ident, &p->ident_len, &p->name);
    if (rc == MP_OK && opts && opts->name) {
        free(p->name);
        p->name = mp_strdup(opts->name);
        if (p->name == NULL)
            rc = mp_fail(MP_ENOMEM, "%s: out of memory", what);
    }
    if (rc != MP_OK) {
        free(p->name);
        free(p);
        return rc;
    }
    p->args = *args;
    *args = (mp_buf)MP_BUF_INIT;
    *out = p;
    return MP_OK;
}

int mp_process_newv(mp_process **out, mp_target_fn target, const mp_process_options *opts, const char *fmt,
                    va_list ap)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_process_new: NULL out");
    *out = NULL;

    mp_buf args = MP_BUF_INIT;
    mp_handle_list objects = {NULL, 0, 0};
    int rc = mp_object_pack_args(&args, fmt, ap, &objects);
    if (rc == MP_OK)
        rc = make_process("mp_process_new", out, target, opts, &args);
    else
        rc = mp_fail(rc, "mp_process_new: arguments: %s", mp_last_error());
    /* The objects' handles travel in the order their indices were packed. */
    for (size_t i = 0; rc == MP_OK && i < objects.len; i++) {
        size_t index;
        rc = mp_process_pass_handle(*out, objects.items[i], &index);
        if (rc != MP_OK) {
            mp_process_close(*out);
            *out = NULL;
        }
    }
    mp_handle_list_free(&objects);
    mp_buf_free(&args);
    return rc;
}

int mp_process_new(mp_process **out, mp_target_fn target, const mp_process_options *opts, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mp_process_newv(out, target, opts, fmt, ap);
    va_end(ap);
    return rc;
}

int mp_process_new_packed(mp_process **out, mp_target_fn target, const mp_process_options *opts,
                          const void *args, size_t args_len)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_process_new_packed: NULL out");
    *out = NULL;
    mp_value *tree = NULL;
    int rc = mp_decode(args, args_len, NULL, &tree);
    if (rc != MP_OK)
        return mp_fail(rc, "mp_process_new_packed: arguments: %s", mp_last_error());
    bool is_array = tree->type == MP_ARRAY;
    mp_value_free(tree);
    if (!is_array)
        return mp_fail(MP_EPROTO, "mp_process_new_packed: the arguments must be one MessagePack array");

    mp_buf copy = MP_BUF_INIT;
    rc = mp_buf_append(&copy, args, args_len);
    if (rc == MP_OK)
        rc = make_process("mp_process_new_packed", out, target, opts, &copy);
    mp_buf_free(&copy);
    return rc;
}

int mp_process_pass_handle(mp_process *p, mp_os_handle handle, size_t *index)
{
    if (p == NULL || index == NULL)
        return mp_fail(MP_EINVAL, "mp_process_pass_handle: NULL argument");
    if (p->state != MP_PROCESS_NEW)
        return mp_fail(MP_ESTATE, "mp_process_pass_handle: the process has started");
    if (p->nhandles == MAX_PASSED_HANDLES)
        return mp_fail(MP_ETOOBIG, "mp_process_pass_handle: at most %d handles travel", MAX_PASSED_HANDLES);
    mp_os_handle *more = realloc(p->handles, (p->nhandles + 1) * sizeof *more);
    if (more == NULL)
        return mp_fail(MP_ENOMEM, "mp_process_pass_handle: out of memory");
    p->handles = more;
    p->handles[p->nhandles] = handle;
    *index = p->nhandles++;
    return MP_OK;
}

/* ---- starting ---------------------------------------------------------- */

/* What a fork child starts from: its object, and its arguments decoded by
 * the parent before the fork, so that the child allocates nothing (a
 * malloc would write heap and arena pages it shares with the parent). */
typedef struct fork_start {
    const mp_process *p;
    mp_value *args;
} fork_start;

static _Noreturn MP_FORK_PATH void fork_entry(void *ctx)
{
    const fork_start *f = ctx;
    const mp_process *p = f->p;
    mp_os_child_init(p->parent_pid, p->daemon);
    mp_children_forget();
    mp_threads_forget();

    mp_self.phase = MP_PHASE_BOOTSTRAP;
    int rc = mp_state_become_child(p->name, mp_self.name, p->ident, p->ident_len, p->parent_pid, p->daemon);
    if (rc != MP_OK)
        mp_child_fail("fork child", rc);
    /* The arguments stay where the parent put them until the exit. */
    mp_child_run(p->target, p->target_name, f->args, NULL);
}

/* Refuse starts that would recurse or that this process may not make. */
static int check_may_start(mp_start_method method)
{
    if (mp_self.phase == MP_PHASE_BOOTSTRAP)
        return mp_fail(MP_EBOOTSTRAP,
                       "mp_process_start: this child is still bootstrapping (a child-init hook) and may not start "
                       "processes; start processes from the target");
    if (mp_self.phase == MP_PHASE_UNINIT &&
        (mp_os_cmdline_has(MP_CHILD_MARKER) || mp_os_cmdline_has(MP_FORKSERVER_MARKER)))
        return mp_fail(MP_EBOOTSTRAP,
                       "mp_process_start: this is a %s, running code before mp_main, and may not start "
                       "processes; call mp_main(argc, argv) first in main() and start processes after it",
                       mp_os_cmdline_has(MP_CHILD_MARKER) ? "spawned child" : "forkserver");
    if (mp_self.daemon)
        return mp_fail(MP_ESTATE, "mp_process_start: daemonic processes are not allowed to have children");
    if (method != MP_START_FORK && mp_self.phase == MP_PHASE_UNINIT)
        return mp_fail(MP_ESTATE,
                       "mp_process_start: the %s start method runs this program again, and mp_main never ran; "
                       "call mp_main(argc, argv) first in main()",
                       mp_start_method_name(method));
    if (!mp_os_supports(method))
        return mp_fail(MP_EUNSUPPORTED, "mp_process_start: the %s start method is not available on this system",
                       mp_start_method_name(method));
    return MP_OK;
}

static int encode_handoff(const mp_process *p, mp_start_method method, mp_buf *blob)
{
    mp_handoff h = {
        .parent_pid = p->parent_pid,
        .method = method,
        .target = p->target_name,
        .args_packed = p->args.data,
        .args_len = p->args.len,
        .argc = mp_self.argc,
        .argv = (const char *const *)mp_self.argv,
        .name = p->name,
        .parent_name = mp_current_process_name(),
        .ident_len = p->ident_len,
        .daemon = p->daemon,
        .authkey = mp_self.authkey,
        .authkey_len = mp_self.authkey_len,
        .nhandles = p->nhandles,
    };
    memcpy(h.ident, p->ident, p->ident_len * sizeof *p->ident);
    return mp_handoff_encode(blob, &h);
}

int mp_process_start(mp_process *p)
{
    if (p == NULL)
        return mp_fail(MP_EINVAL, "mp_process_start: NULL process");
    if (p->state != MP_PROCESS_NEW)
        return mp_fail(MP_ESTATE, "mp_process_start: %s has already been started; a process can start only once",
                       p->name);
    mp_start_method method = mp_resolve_start_method(p->context);
    int rc = check_may_start(method);
    if (rc == MP_OK)
        rc = mp_state_ensure_authkey();
    if (rc != MP_OK)
        return rc;

    p->parent_pid = mp_os_getpid();
    fork_start f = {p, NULL};
    mp_os_start req = {
        .method = method,
        .daemon = p->daemon,
        .fork_entry = fork_entry,
        .fork_ctx = &f,
        .handles = p->handles,
        .nhandles = p->nhandles,
    };
    mp_buf blob = MP_BUF_INIT;
    if (method == MP_START_FORK) {
        rc = mp_decode(p->args.data, p->args.len, NULL, &f.args);
        if (rc != MP_OK)
            return mp_fail(rc, "mp_process_start: arguments: %s", mp_last_error());
        /* The child's target takes its object arguments with 'O': a hook
         * installed now is inherited, not written into a copied page. */
        mp_object_install_hook();
        /* Output buffered now would be written twice, by both processes. */
        fflush(NULL);
    } else {
        rc = encode_handoff(p, method, &blob);
        req.handoff = blob.data;
        req.handoff_len = blob.len;
    }
    if (rc == MP_OK)
        rc = mp_os_child_start(&req, &p->child);
    mp_buf_free(&blob);
    mp_value_free(f.args);
    if (rc != MP_OK)
        return rc;

    p->pid = mp_os_child_pid(p->child);
    p->state = MP_PROCESS_STARTED;
    mp_children_add(p);
    return MP_OK;
}

/* ---- after start ------------------------------------------------------- */

static int check_started(const mp_process *p, const char *what)
{
    if (p == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL process", what);
    if (p->state == MP_PROCESS_NEW)
        return mp_fail(MP_ESTATE, "%s: %s has not been started", what, p->name);
    if (p->parent_pid != mp_os_getpid())
        return mp_fail(MP_ESTATE, "%s: %s is not a child of this process", what, p->name);
    return MP_OK;
}

/* Reap the child if it ended within timeout. */
static int wait_child(mp_process *p, double timeout)
{
    if (p->state == MP_PROCESS_ENDED)
        return MP_OK;
    int code;
    int rc = mp_os_child_wait(p->child, timeout, &code);
    if (rc == MP_OK) {
        p->exitcode = code;
        p->state = MP_PROCESS_ENDED;
    }
    return rc;
}

int mp_process_join(mp_process *p, double timeout)
{
    int rc = check_started(p, "mp_process_join");
    if (rc != MP_OK)
        return rc;
    rc = wait_child(p, timeout);
    if (rc == MP_ETIMEDOUT)
        return mp_fail(MP_ETIMEDOUT, "mp_process_join: %s (pid %ld) still runs after %g s", p->name, p->pid,
                       timeout);
    return rc;
}

int mp_process_is_alive(mp_process *p)
{
    if (p == NULL)
        return mp_fail(MP_EINVAL, "mp_process_is_alive: NULL process");
    if (p->state == MP_PROCESS_NEW)
        return 0;
    int rc = check_started(p, "mp_process_is_alive");
    if (rc != MP_OK)
        return rc;
    rc = wait_child(p, 0);
    if (rc == MP_ETIMEDOUT)
        return 1;
    return rc == MP_OK ? 0 : rc;
}

int mp_process_exitcode(mp_process *p, int *code)
{
    int rc = check_started(p, "mp_process_exitcode");
    if (rc == MP_OK && code == NULL)
        rc = mp_fail(MP_EINVAL, "mp_process_exitcode: NULL code");
    if (rc != MP_OK)
        return rc;
    rc = wait_child(p, 0);
    if (rc == MP_ETIMEDOUT)
        return mp_fail(MP_ERUNNING, "mp_process_exitcode: %s (pid %ld) has not exited yet", p->name, p->pid);
    if (rc == MP_OK)
        *code = p->exitcode;
    return rc;
}

static int stop(mp_process *p, bool kill, const char *what)
{
    int rc = check_started(p, what);
    if (rc != MP_OK || p->state == MP_PROCESS_ENDED)
        return rc;
    return mp_os_child_signal(p->child, kill);
}

int mp_process_terminate(mp_process *p)
{
    return stop(p, false, "mp_process_terminate");
}

int mp_process_kill(mp_process *p)
{
    return stop(p, true, "mp_process_kill");
}

int mp_process_close(mp_process *p)
{
    if (p == NULL)
        return MP_OK;
    if (p->state == MP_PROCESS_STARTED && p->parent_pid == mp_os_getpid() && wait_child(p, 0) == MP_ETIMEDOUT)
        return mp_fail(MP_ESTATE, "mp_process_close: %s (pid %ld) is still running; join or terminate it first",
                       p->name, p->pid);
    if (p->state != MP_PROCESS_NEW)
        mp_children_remove(p);
    if (p->child)
        mp_os_child_free(p->child);
    mp_buf_free(&p->args);
    free(p->handles);
    free(p->name);
    free(p);
    return MP_OK;
}

/* ---- attributes -------------------------------------------------------- */

long mp_process_pid(const mp_process *p)
{
    return p ? p->pid : -1;
}

const char *mp_process_name(const mp_process *p)
{
    return p ? p->name : NULL;
}

int mp_process_set_name(mp_process *p, const char *name)
{
    if (p == NULL || name == NULL)
        return mp_fail(MP_EINVAL, "mp_process_set_name: NULL argument");
    char *copy = mp_strdup(name);
    if (copy == NULL)
        return mp_fail(MP_ENOMEM, "mp_process_set_name: out of memory");
    free(p->name);
    p->name = copy;
    return MP_OK;
}

bool mp_process_daemon(const mp_process *p)
{
    return p ? p->daemon : false;
}

int mp_process_set_daemon(mp_process *p, bool daemon)
{
    if (p == NULL)
        return mp_fail(MP_EINVAL, "mp_process_set_daemon: NULL process");
    if (p->state != MP_PROCESS_NEW)
        return mp_fail(MP_ESTATE, "mp_process_set_daemon: %s has already been started", p->name);
    p->daemon = daemon;
    return MP_OK;
}

int mp_process_sentinel(const mp_process *p, mp_sentinel *out)
{
    int rc = check_started(p, "mp_process_sentinel");
    if (rc == MP_OK && out == NULL)
        rc = mp_fail(MP_EINVAL, "mp_process_sentinel: NULL out");
    if (rc == MP_OK)
        rc = mp_os_child_sentinel(p->child, out);
    return rc;
}

int mp_wait(const mp_sentinel *objects, size_t n, double timeout, bool *ready)
{
    if (objects == NULL || ready == NULL || n == 0)
        return mp_fail(MP_EINVAL, "mp_wait: NULL objects or ready, or n == 0");
    return mp_os_wait(objects, n, timeout, ready);
}
