/* subprocess_internal.h - what the files of src/subprocess share: the
 * Popen object and its buffers. */
#ifndef MPROC_SUBPROCESS_INTERNAL_H
#define MPROC_SUBPROCESS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "mproc/subprocess.h"
#include "platform.h"

/* Growable bytes, always NUL-terminated once data is not NULL. */
typedef struct mp_sp_bytes {
    char *data;
    size_t len, cap;
} mp_sp_bytes;

int mp_sp_bytes_append(mp_sp_bytes *b, const void *data, size_t n);
void mp_sp_bytes_free(mp_sp_bytes *b);

/* One output stream (stdout or stderr). */
typedef struct mp_sp_out {
    mp_os_handle h; /* this process's read end; MP_OS_NO_HANDLE: no pipe, or closed */
    bool eof;
    mp_sp_bytes ahead; /* read by readline past its line: the next read's */
    mp_sp_bytes got;   /* communicate's output so far */
    bool piped;        /* communicate: a pipe at its start */
} mp_sp_out;

struct mp_popen {
    mp_os_program *os;
    char *program; /* argv[0], for messages */
    mp_os_handle in;
    bool in_closed;
    mp_sp_out out[2];
    /* communicate, across timeouts */
    bool comm_started;
    const void *input;      /* the first call's input, while that call runs */
    unsigned char *pending; /* a copy of what was left of it after a timeout */
    size_t input_len, input_done;
};

#endif
