/* redis_server.h - real Redis servers for a test, from the supervisor that
 * the redis fixture runs (tests/redis_supervisor.py, tests/redis.cmake).
 *
 * A test that uses these needs FIXTURES_REQUIRED redis: ctest then starts
 * the supervisor first, which writes its control port to
 * MPT_REDIS_STATE_FILE in the tests' working directory. Without it (the
 * fixture failed, or the program runs outside ctest) the test fails, it is
 * never skipped. Native and Wine programs alike reach the supervisor on
 * 127.0.0.1. Each request opens and closes its own socket, so the leak
 * checks see nothing of them.
 */
#ifndef MPROC_TESTS_REDIS_SERVER_H
#define MPROC_TESTS_REDIS_SERVER_H

#define MPT_REDIS_STATE_FILE "redis_supervisor.state"

typedef struct mpt_redis {
    unsigned port;
    char url[64]; /* "redis://127.0.0.1:PORT" */
} mpt_redis;

/* A fresh server of the test's own: empty, no password, persistence off.
 * Fails the test if there is none to be had. */
void mpt_redis_start(mpt_redis *r);

/* Ask the supervisor to do verb to the server ("stop": SIGSTOP, "cont",
 * "kill": SIGKILL, "restart": kill if running and start again on the same
 * port, empty; "close": end it for good). Fails the test on an error. */
void mpt_redis_do(const mpt_redis *r, const char *verb);

#endif
