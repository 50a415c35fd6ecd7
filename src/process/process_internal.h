/* process_internal.h - the process object's fields, shared by the files that
 * start, list and run processes. */
#ifndef MPROC_PROCESS_INTERNAL_H
#define MPROC_PROCESS_INTERNAL_H

#include "mproc/process.h"
#include "platform.h"
#include "process/state.h"

typedef enum mp_process_state {
    MP_PROCESS_NEW,     /* made, not started */
    MP_PROCESS_STARTED, /* started, not known to have ended */
    MP_PROCESS_ENDED    /* reaped; exitcode is known */
} mp_process_state;

struct mp_process {
    mp_target_fn target;
    const char *target_name; /* the registry's copy */
    mp_buf args;             /* one packed array */
    char *name;
    bool daemon;
    const mp_context *context;
    uint32_t ident[MP_MAX_IDENT];
    size_t ident_len;
    /* Handles that travel with the arguments, in order (mp_os_start). */
    mp_os_handle *handles;
    size_t nhandles;

    mp_process_state state;
    long parent_pid; /* who started it: only that process may wait for it */
    mp_os_child *child;
    long pid;
    int exitcode;

    struct mp_process *prev, *next; /* the started-children list */
};

/* Make p carry an OS handle to its child (duplicated there under every start
 * method); *index is its position in mp_os_child_handles() in the child.
 * MP_ESTATE after start. The handle stays the caller's. */
int mp_process_pass_handle(mp_process *p, mp_os_handle handle, size_t *index);

/* The list of started children of this process (children.c). */
void mp_children_add(mp_process *p);
void mp_children_remove(mp_process *p);
/* In a fork child: the parent's children are not this process's. */
void mp_children_forget(void);
/* At exit, as Python does: terminate daemonic children, join the others. */
void mp_children_finish(void);

/* Run a child's target and exit with its code (child.c). The child's
 * identity is already in mp_self. args lies in the tree owner, which is
 * freed before exit; a NULL owner leaves args to the exit. */
_Noreturn void mp_child_run(mp_target_fn fn, const char *target_name, const mp_value *args, mp_value *owner);

/* A spawned or forkserver child: take the handoff blob apart and run. */
_Noreturn void mp_child_run_handoff(const unsigned char *blob, size_t len);

/* Report a failed child start-up on stderr and exit with code 1. */
_Noreturn void mp_child_fail(const char *what, int rc);

#endif
