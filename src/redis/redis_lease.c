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

/* Say this handle lives for another lease, and reclaim the dead's items:
 * one round trip. */
static int renew(mp_rqueue *q)
{
    char ms[32];
    snprintf(ms, sizeof ms, "%lld", (long long)(q->opts.lease * 1000));
    mp_resp_arg add[] = {mp_resp_text("SADD"), mp_resp_text(q->k_getters), mp_resp_text(q->id)};
    mp_resp_arg set[] = {mp_resp_text("SET"), mp_resp_text(q->k_alive), mp_resp_text("1"), mp_resp_text("PX"),
                         mp_resp_text(ms)};
    mp_resp_arg reclaim[] = {mp_resp_text("EVAL"),     mp_resp_text(mp_rq_script_reclaim),
                             mp_resp_text("2"),        mp_resp_text(q->k_getters),
                             mp_resp_text(q->k_items), mp_resp_text(q->prefix)};
    mp_redis_cmd cmds[] = {{3, add}, {5, set}, {6, reclaim}};
    mp_redis *c;
    bool idle;
    int rc = mp_rq_conn(q, &c, &idle);
    if (rc != MP_OK)
        return rc;
    rc = mp_redis_run(c, 3, cmds, q->opts.timeout);
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
    mp_resp_arg give[] = {mp_resp_text("EVAL"),     mp_resp_text(mp_rq_script_give_back),
                          mp_resp_text("4"),        mp_resp_text(q->k_getters),
                          mp_resp_text(q->k_items), mp_resp_text(q->k_taken),
                          mp_resp_text(q->k_alive), mp_resp_text(q->id)};
    mp_resp_reply *r;
    if (mp_rq_call(q, 0, sizeof give / sizeof give[0], give, &r) == MP_OK)
        mp_resp_free(r);
}
