/* child_signals.c - the signals a fresh child gets before exec (posix.h). */
#define _GNU_SOURCE
#include <stdbool.h>
#include <string.h>

#include "child_signals.h"

void mp_posix_reset_signals(const sigset_t *defaults)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction now;
        if (sigaction(sig, NULL, &now) != 0)
            continue; /* SIGKILL, SIGSTOP and the C library's own */
        bool caught = now.sa_handler != SIG_DFL && now.sa_handler != SIG_IGN;
        if (caught || sigismember(defaults, sig) == 1)
            sigaction(sig, &dfl, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}
