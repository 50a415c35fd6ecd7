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

# redis_queue_interop: a Queue on Redis shared with a Python program that
# speaks RESP and msgpack (docs/redis.md's key layout), both ways.
add_executable(redis_queue_peer redis_queue_peer.c)
target_link_libraries(redis_queue_peer PRIVATE mproc)
if(WIN32)
  target_link_options(redis_queue_peer PRIVATE -static)
endif()
mproc_target_settings(redis_queue_peer)
add_test(NAME redis_queue_interop
  COMMAND ${MPROC_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/redis_queue_interop.py "${CMAKE_CROSSCOMPILING_EMULATOR}"
          $<TARGET_FILE:redis_queue_peer>)
set_tests_properties(redis_queue_interop PROPERTIES FIXTURES_REQUIRED redis TIMEOUT 300)
