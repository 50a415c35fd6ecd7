/* redis_lease.c - a joinable Queue on Redis's leases: the items a handle
 * got and has not marked done wait in its taken list, for as long as its
 * alive key lives. A thread renews that key every lease / 3 and, at the
 * same time, hands back to the queue the taken items of every getter whose
 * key has expired: any live handle does for the dead what they cannot. A
 * handle that ends gives its own back at once. */
#include <stdio.h>
#include <string.h>

#include "base/error_internal.h"
#include "redis/redis_queue.h"
#include "thread/thread_internal.h"

static mp_resp_arg text(const char *s)
{
    return (mp_resp_arg){s, strlen(s)};
}

/* Say this handle lives for another lease, and reclaim the dead's items:
 * one round trip. */
static int renew(mp_rqueue *q)
{
    char ms[32];
    snprintf(ms, sizeof ms, "%lld", (long long)(q->opts.lease * 1000));
    mp_resp_arg add[] = {text("SADD"), text(q->k_getters), text(q->id)};
    mp_resp_arg set[] = {text("SET"), text(q->k_alive), text("1"), text("PX"), text(ms)};
    mp_resp_arg reclaim[] = {text("EVAL"),       text(mp_rq_script_reclaim), text("2"),
                             text(q->k_getters), text(q->k_items),           text(q->prefix)};
    mp_redis_cmd cmds[] = {{3, add}, {5, set}, {6, reclaim}};
    mp_resp_reply *replies[3];
    mp_redis *c;
    bool idle;
    int rc = mp_rq_conn(q, &c, &idle);
    if (rc != MP_OK)
        return rc;
    rc = mp_redis_pipeline(c, 3, cmds, q->opts.timeout, replies);
    for (size_t i = 0; rc == MP_OK && i < 3; i++)
        rc = mp_redis_check(replies[i]);
    if (replies[0] != NULL)
        for (size_t i = 0; i < 3; i++)
            mp_resp_free(replies[i]);
    mp_rq_release(q, c);
    return rc;
}

static int lease_main(void *arg)
{
    mp_rqueue *q = arg;
    mp_os_mutex_lock(q->lock);
    while (!q->stopping) {
        mp_os_cond_wait(q->wake, q->lock, q->opts.lease / 3);
        if (q->stopping)
            break;
        mp_os_mutex_unlock(q->lock);
        /* A failed renewal is tried again next time; if Redis stays away
         * longer than a lease, our items go to others, as they should. */
        renew(q);
        mp_os_mutex_lock(q->lock);
    }
    mp_os_mutex_unlock(q->lock);
    return 0;
}

int mp_rq_lease_start(mp_rqueue *q)
{
    int rc = renew(q);
    if (rc == MP_OK)
        rc = mp_thread_start_daemon(&q->lease_thread, lease_main, q, "mproc-redis-lease");
    return rc;
}

void mp_rq_lease_stop(mp_rqueue *q)
{
    mp_os_mutex_lock(q->lock);
    q->stopping = true;
    mp_os_cond_signal(q->wake);
    mp_os_mutex_unlock(q->lock);
    mp_thread_join(q->lease_thread, MP_FOREVER, NULL);
    q->lease_thread = NULL;
    mp_resp_arg give[] = {text("EVAL"),     text(mp_rq_script_give_back),
                          text("4"),        text(q->k_getters),
                          text(q->k_items), text(q->k_taken),
                          text(q->k_alive), text(q->id)};
    mp_resp_reply *r;
    if (mp_rq_call(q, 0, sizeof give / sizeof give[0], give, &r) == MP_OK)
        mp_resp_free(r);
}
