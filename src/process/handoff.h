/* handoff.h - what a spawned (or forkserver) child is told at start: one
 * MessagePack map, documented byte by byte in docs/protocol.md §3.
 *
 *   "v"        1                       protocol version
 *   "ppid"     int                     the parent's pid
 *   "method"   "spawn" | "forkserver"
 *   "target"   str                     registered target name
 *   "args"     array                   the target's arguments
 *   "globals"  map str -> bin          registered globals, by value
 *   "argv"     array of str            the main process's argv
 *   "name"     str                     the child's process name
 *   "pname"    str                     the parent's process name
 *   "ident"    array of int            the child's identity (Process-1:2)
 *   "daemon"   bool
 *   "authkey"  bin (0 to 256 bytes)
 *   "handles"  int                     how many handles travel (frame.h)
 */
#ifndef MPROC_HANDOFF_H
#define MPROC_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/pack.h"
#include "mproc/process.h"
#include "process/state.h"

#define MP_HANDOFF_VERSION 2

typedef struct mp_handoff {
    long parent_pid;
    mp_start_method method;
    const char *target;
    /* Encoding takes the arguments packed; decoding yields the tree. */
    const unsigned char *args_packed;
    size_t args_len;
    const mp_value *args;
    const mp_value *globals; /* decoding only; encoding asks the registry */
    int argc;
    const char *const *argv; /* encoding only; decoding leaves argv_value */
    const mp_value *argv_value;
    const char *name;
    const char *parent_name;
    uint32_t ident[MP_MAX_IDENT];
    size_t ident_len;
    bool daemon;
    const unsigned char *authkey; /* authkey_len bytes, at most MP_AUTHKEY_MAX */
    size_t authkey_len;
    size_t nhandles;
} mp_handoff;

int mp_handoff_encode(mp_buf *out, const mp_handoff *h);

/* Check a decoded handoff and point h into it. MP_EPROTO with a message for
 * a missing or mistyped field or another version. */
int mp_handoff_parse(const mp_value *tree, mp_handoff *h);

/* Copy the argv of a parsed handoff into one malloc'd block, as
 * mp_os_own_argv makes it. */
int mp_handoff_copy_argv(const mp_value *argv_value, int *argc, char ***argv);

#endif
