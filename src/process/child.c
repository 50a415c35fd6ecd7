/* child.c - the child's side: take the handoff apart, restore the globals,
 * run the child-init hooks and the target, and end as Python's children do
 * (process.h, "How a child ends"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/fork_path.h"
#include "object/object.h"
#include "pack/pack_internal.h"
#include "process/handoff.h"
#include "process/process_internal.h"
#include "base/registry_internal.h"
#include "thread/thread_internal.h"

/* The arguments sit one level below the handoff's top map: one more level
 * gives them the default depth of any decoded message. */
#define HANDOFF_DEPTH (MP_DEFAULT_DEPTH + 1)

/* Reached by exit() after the handlers the child registered itself. */
static MP_FORK_PATH void child_cleanup(void)
{
    mp_children_finish();
    fflush(NULL);
}

_Noreturn void mp_child_fail(const char *what, int rc)
{
    fprintf(stderr, "mproc: %s (pid %ld): %s: %s: %s\n", mp_current_process_name(), mp_os_getpid(), what,
            mp_errname(rc), mp_last_error());
    /* A start-up that failed ran nothing of the user's: it ends at once. */
    mp_children_finish();
    fflush(NULL);
    _Exit(1);
}

_Noreturn MP_FORK_PATH void mp_child_run(mp_target_fn fn, const char *target_name, const mp_value *args,
                                         mp_value *owner)
{
    /* The target takes its object arguments with 'O'. */
    mp_object_install_hook();
    int rc = mp_os_child_at_exit(child_cleanup);
    if (rc != MP_OK)
        mp_child_fail("arranging the exit", rc);
    if ((rc = mp_registry_run_child_inits()) < 0)
        mp_child_fail("a child-init hook failed", rc);

    mp_self.phase = MP_PHASE_CHILD;
    int code = fn(args);
    if (code < 0) {
        fprintf(stderr, "mproc: %s (pid %ld): target '%s' raised %s: %s\n", mp_current_process_name(),
                mp_os_getpid(), target_name, mp_errname(code), mp_last_error());
        code = 1;
    }
    /* Imported objects stay mapped until the exit itself: a robust mutex
     * the target still holds must be in memory when the kernel marks it
     * owner-dead. A fork child has no owner: its arguments are the
     * parent's memory, and not even free(NULL) is worth its code page. */
    if (owner != NULL)
        mp_value_free(owner);
    mp_threads_wait_non_daemon();
    exit(code);
}

_Noreturn void mp_child_run_handoff(const unsigned char *blob, size_t len)
{
    mp_self.phase = MP_PHASE_BOOTSTRAP;
    mp_limits limits = {.max_depth = HANDOFF_DEPTH, .max_nodes = len + 1, .max_bytes = len};
    mp_value *tree = NULL;
    int rc = mp_decode(blob, len, &limits, &tree);
    if (rc != MP_OK)
        mp_child_fail("bad handoff", rc);

    mp_handoff h;
    if ((rc = mp_handoff_parse(tree, &h)) != MP_OK)
        mp_child_fail("bad handoff", rc);
    if ((rc = mp_state_become_child(h.name, h.parent_name, h.ident, h.ident_len, h.parent_pid, h.daemon)) != MP_OK)
        mp_child_fail("handoff", rc);
    mp_os_child_init(h.parent_pid, h.daemon);

    int argc;
    char **argv;
    if ((rc = mp_handoff_copy_argv(h.argv_value, &argc, &argv)) != MP_OK)
        mp_child_fail("handoff", rc);
    mp_state_set_argv(argc, argv);
    memcpy(mp_self.authkey, h.authkey, h.authkey_len);
    mp_self.authkey_len = h.authkey_len;
    mp_self.authkey_ready = true;

    if ((rc = mp_registry_restore_globals(h.globals)) != MP_OK)
        mp_child_fail("restoring globals", rc);
    mp_target_fn fn = mp_registry_find(h.target);
    if (fn == NULL)
        mp_child_fail("handoff", mp_fail(MP_ENOTREG, "target '%s' is not registered in this program; register it "
                                                     "before mp_main runs (MP_TARGET does)",
                                         h.target));
    mp_child_run(fn, h.target, h.args, tree);
}
