/* global_lock.c - the core's process-wide lock. It is taken around fork()
 * so that a forked child never inherits it locked by a thread that does not
 * exist in the child. */
#define _GNU_SOURCE
#include <pthread.h>

#include "base/fork_path.h"
#include "platform.h"
#include "posix.h"

static pthread_mutex_t global = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void before_fork(void)
{
    pthread_mutex_lock(&global);
}

static void after_fork_parent(void)
{
    pthread_mutex_unlock(&global);
}

static MP_FORK_PATH void after_fork_child(void)
{
    pthread_mutex_unlock(&global);
    mp_posix_forkserver_forget();
    mp_posix_child_side_after_fork();
}

static void install_atfork(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

MP_FORK_PATH void mp_os_global_lock(void)
{
    pthread_once(&atfork_once, install_atfork);
    pthread_mutex_lock(&global);
}

MP_FORK_PATH void mp_os_global_unlock(void)
{
    pthread_mutex_unlock(&global);
}

MP_FORK_PATH void mp_posix_prepare_fork(void)
{
    pthread_once(&atfork_once, install_atfork);
}
