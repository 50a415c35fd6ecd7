# Tests against real Redis servers (Debian's redis-server, which ci/setup
# installs). The redis fixture runs tests/redis_supervisor.py natively on
# every leg: it starts a supervisor that starts servers on demand, each on a
# free loopback port with persistence off, for native test programs and
# .exe files under Wine alike (redis_server.h). A test that needs Redis
# says FIXTURES_REQUIRED redis: when redis-server is missing the fixture
# fails, and ctest counts the test as failed (not run), never as skipped.
set(mproc_redis_state ${CMAKE_CURRENT_BINARY_DIR}/redis_supervisor.state)
add_test(NAME redis_supervisor_start
  COMMAND ${MPROC_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/redis_supervisor.py start ${mproc_redis_state})
set_tests_properties(redis_supervisor_start PROPERTIES FIXTURES_SETUP redis TIMEOUT 60)
add_test(NAME redis_supervisor_stop
  COMMAND ${MPROC_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/redis_supervisor.py stop ${mproc_redis_state})
set_tests_properties(redis_supervisor_stop PROPERTIES FIXTURES_CLEANUP redis TIMEOUT 60)

set_tests_properties(test_redis_client test_redis_pool test_redis_queue PROPERTIES FIXTURES_REQUIRED redis)
