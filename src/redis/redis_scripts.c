/* redis_scripts.c - the Lua scripts a Queue on Redis runs with EVAL, so
 * that each step that reads and then writes is one atomic step on the
 * server. */
#include "redis/redis_queue.h"

/* KEYS: items, unfinished. ARGV: maxsize (0: none), joinable ("1"), item.
 * 1 if put, 0 if full. */
const char mp_rq_script_put[] = "local max = tonumber(ARGV[1])\n"
                                "if max > 0 and redis.call('LLEN', KEYS[1]) >= max then return 0 end\n"
                                "redis.call('LPUSH', KEYS[1], ARGV[3])\n"
                                "if ARGV[2] == '1' then redis.call('INCR', KEYS[2]) end\n"
                                "return 1\n";

/* KEYS: this handle's taken list, unfinished. The unfinished count left,
 * or -1 when nothing was unfinished. The handle's oldest lease ends. */
const char mp_rq_script_task_done[] = "local n = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
                                      "if n <= 0 then return -1 end\n"
                                      "redis.call('RPOP', KEYS[1])\n"
                                      "return redis.call('DECR', KEYS[2])\n";

/* KEYS: getters, items. ARGV: the key prefix. Every getter whose alive key
 * expired gives its taken items back, at the front of the queue in the
 * order they were got; the number of items moved. */
const char mp_rq_script_reclaim[] = "local moved = 0\n"
                                    "for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
                                    "  if redis.call('EXISTS', ARGV[1] .. 'alive:' .. h) == 0 then\n"
                                    "    local taken = ARGV[1] .. 'taken:' .. h\n"
                                    "    while true do\n"
                                    "      local v = redis.call('LPOP', taken)\n"
                                    "      if not v then break end\n"
                                    "      redis.call('RPUSH', KEYS[2], v)\n"
                                    "      moved = moved + 1\n"
                                    "    end\n"
                                    "    redis.call('SREM', KEYS[1], h)\n"
                                    "  end\n"
                                    "end\n"
                                    "return moved\n";

/* KEYS: getters, items, this handle's taken list, its alive key. ARGV:
 * its id. A handle that ends gives its taken items back at once. */
const char mp_rq_script_give_back[] = "local moved = 0\n"
                                      "while true do\n"
                                      "  local v = redis.call('LPOP', KEYS[3])\n"
                                      "  if not v then break end\n"
                                      "  redis.call('RPUSH', KEYS[2], v)\n"
                                      "  moved = moved + 1\n"
                                      "end\n"
                                      "redis.call('DEL', KEYS[4])\n"
                                      "redis.call('SREM', KEYS[1], ARGV[1])\n"
                                      "return moved\n";
