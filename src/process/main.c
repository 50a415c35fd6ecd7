/* main.c - mp_main, the C form of freeze_support(): a spawned child or the
 * forkserver never returns from it; the main process records its argv. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "process/process_internal.h"
#include "base/registry_internal.h"
#include "thread/thread_internal.h"

static _Noreturn void run_spawned_child(const char *token)
{
    mp_self.phase = MP_PHASE_BOOTSTRAP;
    mp_buf blob = MP_BUF_INIT;
    int rc = mp_os_read_handoff(token, &blob);
    if (rc != MP_OK)
        mp_child_fail("reading the handoff", rc);
    mp_child_run_handoff(blob.data, blob.len);
}

int mp_main(int argc, char **argv)
{
    if (mp_self.phase != MP_PHASE_UNINIT)
        return MP_OK;
    mp_thread_note_main();

    int own_argc;
    char **own_argv;
    int rc = mp_os_own_argv(argc, argv, &own_argc, &own_argv);
    if (rc != MP_OK)
        return rc;
    if (own_argc == 3 && strcmp(own_argv[1], MP_CHILD_MARKER) == 0)
        run_spawned_child(own_argv[2]);
    if (own_argc == 3 && strcmp(own_argv[1], MP_FORKSERVER_MARKER) == 0)
        mp_os_forkserver_main(own_argv[2], mp_child_run_handoff);

    mp_state_set_argv(own_argc, own_argv);
    mp_self.phase = MP_PHASE_MAIN;
    atexit(mp_children_finish);

    if ((rc = mp_state_ensure_authkey()) != MP_OK)
        return mp_fail(rc, "mp_main: no random source for the authkey: %s", mp_last_error());
    const char *message;
    if ((rc = mp_registry_load_error(&message)) != MP_OK) {
        fprintf(stderr, "mproc: mp_main: a registration at load time failed: %s\n", message);
        return mp_fail(rc, "mp_main: a registration at load time failed: %s", message);
    }
    return MP_OK;
}
