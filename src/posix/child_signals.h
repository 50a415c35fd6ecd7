/* child_signals.h - the signals a fresh child gets before exec
 * (child_signals.c), for spawn_self.c and popen.c. Its includer defines
 * _GNU_SOURCE, as they do. */
#ifndef MPROC_POSIX_CHILD_SIGNALS_H
#define MPROC_POSIX_CHILD_SIGNALS_H

#include <signal.h>

/* In a fresh child before exec: every caught signal, and those in
 * defaults, back to SIG_DFL (a caught one would be reset by exec anyway,
 * but not before a signal arrives in between); an empty mask.
 * Async-signal-safe. */
void mp_posix_reset_signals(const sigset_t *defaults);

#endif
