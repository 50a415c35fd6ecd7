/* worker_lease.c - a serving worker's lease thread: every lease / 3 it
 * renews the worker's presence, takes back the tasks of workers whose
 * presence has expired (each such task counts one more delivery: below
 * max_deliveries it goes back to the front of the queue, at it onto the
 * dead list), tells the callers of the dead list's tasks that they failed,
 * and notices mp_worker_stop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "redis/worker_serve.h"
#include "thread/thread_internal.h"

/* KEYS: workers, tasks, deliveries, dead. ARGV: the key prefix,
 * max_deliveries. The number of tasks taken back. A task's id is the first
 * item of its envelope (remote_pool.h), a str of at most 255 bytes, read
 * here from the bytes: Redis's cmsgpack does not take bin values. */
static const char reclaim[] = "local function id_of(v)\n"
                              "  local b = string.byte(v, 2)\n"
                              "  if b >= 0xa0 and b <= 0xbf then return string.sub(v, 3, 2 + b - 0xa0) end\n"
                              "  return string.sub(v, 4, 3 + string.byte(v, 3))\n"
                              "end\n"
                              "local max = tonumber(ARGV[2])\n"
                              "local moved = 0\n"
                              "for _, w in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
                              "  if redis.call('EXISTS', ARGV[1] .. 'alive:' .. w) == 0 then\n"
                              "    local taken = ARGV[1] .. 'taken:' .. w\n"
                              "    while true do\n"
                              "      local v = redis.call('LPOP', taken)\n"
                              "      if not v then break end\n"
                              "      local id = id_of(v)\n"
                              "      if redis.call('HINCRBY', KEYS[3], id, 1) >= max then\n"
                              "        redis.call('LPUSH', KEYS[4], v)\n"
                              "      else\n"
                              "        redis.call('RPUSH', KEYS[2], v)\n"
                              "      end\n"
                              "      moved = moved + 1\n"
                              "    end\n"
                              "    redis.call('SREM', KEYS[1], w)\n"
                              "  end\n"
                              "end\n"
                              "return moved\n";

/* Tell the callers of the dead list's tasks. */
static void bury(serve *sv, mp_redis *c)
{
    mp_resp_arg pop[] = {mp_resp_text("RPOP"), mp_resp_text(sv->k_dead)};
    for (;;) {
        mp_resp_reply *r;
        if (mp_redis_call_within(c, sv->o.timeout, 2, pop, &r) != MP_OK)
            return;
        if (r->type != MP_RESP_BULK) {
            mp_resp_free(r);
            return;
        }
        char message[MP_ERROR_MESSAGE_SIZE];
        snprintf(message, sizeof message,
                 "the task's worker died (its host stopped renewing its lease) %d times; "
                 "it is not delivered again",
                 sv->o.max_deliveries);
        /* it is on no taken list now: forgetting it there does nothing */
        mp_serve_fail_task(sv, c, r->str, r->len, true, MP_EWORKERDIED, message, 0);
        mp_resp_free(r);
    }
}

static int round_trip(serve *sv, mp_redis *c)
{
    char ms[32], max[16];
    snprintf(ms, sizeof ms, "%lld", (long long)(sv->o.lease * 1000));
    snprintf(max, sizeof max, "%d", sv->o.max_deliveries);
    mp_resp_arg add[] = {mp_resp_text("SADD"), mp_resp_text(sv->k_workers), mp_resp_text(sv->id)};
    mp_resp_arg set[] = {mp_resp_text("SET"), mp_resp_text(sv->k_alive), mp_resp_text("1"),
                         mp_resp_text("PX"), mp_resp_text(ms)};
    mp_resp_arg take_back[] = {
        mp_resp_text("EVAL"),        mp_resp_text(reclaim),     mp_resp_text("4"),
        mp_resp_text(sv->k_workers), mp_resp_text(sv->k_tasks), mp_resp_text(sv->k_deliveries),
        mp_resp_text(sv->k_dead),    mp_resp_text(sv->prefix),  mp_resp_text(max)};
    mp_resp_arg stop[] = {mp_resp_text("GET"), mp_resp_text(sv->k_stop)};
    mp_redis_cmd cmds[] = {{3, add}, {5, set}, {9, take_back}, {2, stop}};
    mp_resp_reply *replies[4];
    int rc = mp_redis_pipeline(c, 4, cmds, sv->o.timeout, replies);
    for (size_t i = 0; rc == MP_OK && i < 4; i++)
        rc = mp_redis_check(replies[i]);
    int64_t stop_now = 0;
    if (rc == MP_OK && replies[3]->type == MP_RESP_BULK)
        stop_now = strtoll(replies[3]->str, NULL, 10);
    if (replies[0] != NULL)
        for (size_t i = 0; i < 4; i++)
            mp_resp_free(replies[i]);
    if (rc != MP_OK)
        return rc;
    if (!sv->stop_known) {
        sv->stop_seen = stop_now; /* the first round: what a stop is measured from */
        sv->stop_known = true;
    } else if (stop_now != sv->stop_seen)
        atomic_store(&sv->stopping, true);
    bury(sv, c);
    return MP_OK;
}

static int lease_main(void *arg)
{
    serve *sv = arg;
    mp_redis *c = NULL;
    mp_redis_options ro = {.connect_timeout = sv->o.timeout, .command_timeout = sv->o.timeout};
    mp_os_mutex_lock(sv->lock);
    while (!atomic_load(&sv->stopping)) {
        mp_os_cond_wait(sv->wake, sv->lock, sv->o.lease / 3);
        if (atomic_load(&sv->stopping))
            break;
        mp_os_mutex_unlock(sv->lock);
        /* a round that fails is tried again next time */
        if (c != NULL || mp_redis_open(&c, sv->backend, &ro) == MP_OK)
            round_trip(sv, c);
        mp_os_mutex_lock(sv->lock);
    }
    mp_os_mutex_unlock(sv->lock);
    mp_redis_free(c);
    return 0;
}

int mp_serve_lease_start(serve *sv)
{
    mp_redis *c;
    mp_redis_options ro = {.connect_timeout = sv->o.timeout, .command_timeout = sv->o.timeout};
    int rc = mp_redis_open(&c, sv->backend, &ro);
    if (rc == MP_OK)
        rc = round_trip(sv, c);
    mp_redis_free(c);
    if (rc == MP_OK)
        rc = mp_thread_start_daemon(&sv->lease_thread, lease_main, sv, "mproc-worker-lease");
    return rc;
}

void mp_serve_lease_stop(serve *sv)
{
    mp_os_mutex_lock(sv->lock);
    atomic_store(&sv->stopping, true);
    mp_os_cond_signal(sv->wake);
    mp_os_mutex_unlock(sv->lock);
    mp_thread_join(sv->lease_thread, MP_FOREVER, NULL);
    sv->lease_thread = NULL;
    /* a worker that ends cleanly holds nothing: say it is gone at once */
    mp_redis *c;
    mp_redis_options ro = {.connect_timeout = sv->o.timeout, .command_timeout = sv->o.timeout};
    if (mp_redis_open(&c, sv->backend, &ro) != MP_OK)
        return;
    mp_resp_reply *r;
    if (mp_redis_callv(c, &r, "DEL", sv->k_alive, (const char *)NULL) == MP_OK)
        mp_resp_free(r);
    mp_redis_free(c);
}
