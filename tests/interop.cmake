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
