/* bench_redis_resp.h - the raw baseline of the Redis pool's round trip: two
 * processes ping-pong one byte through two Redis lists, speaking RESP by
 * hand over plain TCP sockets (no mproc, no client library). The pinger
 * (this process) does LPUSH req x, then BRPOP resp 0; the ponger (a forked
 * child) BRPOP req 0, then LPUSH resp x. That is the least any call through
 * Redis costs: one push and one blocking pop each way. POSIX only; any
 * failure ends the run. */
#ifndef MPROC_BENCH_REDIS_RESP_H
#define MPROC_BENCH_REDIS_RESP_H

typedef struct raw_pingpong raw_pingpong;

/* Fork the ponger and connect to the server on loopback port. Call it
 * before this process starts threads: the ponger is forked. */
raw_pingpong *raw_pingpong_start(int port);
/* rounds round trips; the time per round trip in us. */
double raw_pingpong_batch(raw_pingpong *p, int rounds);
/* End the ponger, reap it and free p. */
void raw_pingpong_stop(raw_pingpong *p);

#endif
