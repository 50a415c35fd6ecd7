# pack_interop: our bytes against Python's msgpack (Debian's python3-msgpack,
# installed for the system Python by ci/setup). The MinGW .exe runs under Wine.
add_executable(pack_echo pack_echo.c)
target_link_libraries(pack_echo PRIVATE mproc)
if(WIN32)
  target_link_options(pack_echo PRIVATE -static)
endif()
mproc_target_settings(pack_echo)
find_program(MPROC_SYSTEM_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
add_test(NAME pack_interop
  COMMAND ${MPROC_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/pack_interop.py "${CMAKE_CROSSCOMPILING_EMULATOR}"
          $<TARGET_FILE:pack_echo>)
set_tests_properties(pack_interop PROPERTIES TIMEOUT 300)

# digest_interop: our SHA-256, MD5 and HMACs against Python's hashlib and hmac
# on random inputs. digest_echo reaches into the core's crypto/digest.h,
# which is not public.
add_executable(digest_echo digest_echo.c)
target_include_directories(digest_echo PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(digest_echo PRIVATE mproc)
if(WIN32)
  target_link_options(digest_echo PRIVATE -static)
endif()
mproc_target_settings(digest_echo)
add_test(NAME digest_interop
  COMMAND ${MPROC_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/digest_interop.py "${CMAKE_CROSSCOMPILING_EMULATOR}"
          $<TARGET_FILE:digest_echo>)
set_tests_properties(digest_interop PROPERTIES TIMEOUT 300)

# auth_interop: the authkey handshake against Python's Listener and Client.
add_executable(auth_peer auth_peer.c)
target_link_libraries(auth_peer PRIVATE mproc)
if(WIN32)
  target_link_options(auth_peer PRIVATE -static)
endif()
mproc_target_settings(auth_peer)
add_test(NAME auth_interop
  COMMAND ${MPROC_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/auth_interop.py "${CMAKE_CROSSCOMPILING_EMULATOR}"
          $<TARGET_FILE:auth_peer>)
set_tests_properties(auth_interop PROPERTIES TIMEOUT 300)

# python_manager: python/mproc_manager.py (Python's Client and msgpack)
# against our manager's server, started by manager_serve; TCP loopback, which
# also joins a Linux Python to a Windows .exe under Wine.
add_executable(manager_serve manager_serve.c)
target_link_libraries(manager_serve PRIVATE mproc)
if(WIN32)
  target_link_options(manager_serve PRIVATE -static)
endif()
mproc_target_settings(manager_serve)
add_test(NAME python_manager
  COMMAND ${MPROC_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/python_manager.py "${CMAKE_CROSSCOMPILING_EMULATOR}"
          $<TARGET_FILE:manager_serve>)
set_tests_properties(python_manager PROPERTIES TIMEOUT 300)
