/* state.h - who this process is: main process or child, its name and
 * identity, its parent, the phase of its start-up, and the main process's
 * argv. One instance per process (mp_self); children get theirs from the
 * handoff (spawn, forkserver) or from the parent's process object (fork). */
#ifndef MPROC_STATE_H
#define MPROC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/process.h"

#define MP_AUTHKEY_SIZE 32 /* the main process's own: 32 random bytes */
#define MP_AUTHKEY_MAX 256 /* the longest one mp_set_authkey takes */
#define MP_MAX_IDENT 32 /* nesting depth of children's children */

typedef enum mp_phase {
    MP_PHASE_UNINIT,    /* mp_main has not run (yet) */
    MP_PHASE_MAIN,      /* the main process, after mp_main */
    MP_PHASE_BOOTSTRAP, /* a child before its target runs */
    MP_PHASE_CHILD      /* a child running its target */
} mp_phase;

/* Names shorter than this are kept in mp_state itself: a fork child then
 * takes its name without writing a heap page (longer ones are malloc'd). */
#define MP_NAME_INLINE 48

typedef struct mp_state {
    mp_phase phase;
    bool daemon;
    long parent_pid; /* 0 in the main process */
    char *name;      /* NULL means "MainProcess"; name_inline or malloc'd */
    /* NULL in the main process and its children (the parent is
     * "MainProcess"); else parent_inline or malloc'd. */
    char *parent_name;
    char name_inline[MP_NAME_INLINE];
    char parent_inline[MP_NAME_INLINE];
    /* Python's _identity: (1, 3) is the 3rd child of the 1st child. */
    uint32_t ident[MP_MAX_IDENT];
    size_t ident_len;
    uint32_t children_made; /* counter for the next child's identity */
    /* The started children (children.c). Here, beside the counter, so that
     * starting a child writes one page of this state, not two. */
    struct mp_process *children;
    unsigned char authkey[MP_AUTHKEY_MAX];
    size_t authkey_len;
    bool authkey_ready;
    /* The main process's argv, UTF-8, one malloc'd block. */
    int argc;
    char **argv;
} mp_state;

extern mp_state mp_self;

/* Make the authkey if this process has none yet (main process). */
int mp_state_ensure_authkey(void);

/* Become a child: the identity (ident_len numbers of a full array), name,
 * parent and daemon flag it was given. Copies both names; a NULL
 * parent_name is the main process. MP_ENOMEM. */
int mp_state_become_child(const char *name, const char *parent_name, const uint32_t ident[MP_MAX_IDENT],
                          size_t ident_len, long parent_pid, bool daemon);

/* The identity and default name of this process's next child. */
int mp_state_next_child(uint32_t *ident, size_t *ident_len, char **name);

/* Install the main process's argv (one malloc'd block; ownership passes). */
void mp_state_set_argv(int argc, char **argv);

#endif
