# Cross-compile for 64-bit Windows with MinGW-w64; run the .exe files (ctest,
# try_run) under Wine. Debian's wine64 package installs /usr/lib/wine/wine64
# without a `wine` on PATH; the `wine` package adds one. Either will do.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(MINGW_PREFIX x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${MINGW_PREFIX}-gcc)
set(CMAKE_CXX_COMPILER ${MINGW_PREFIX}-g++)
set(CMAKE_RC_COMPILER ${MINGW_PREFIX}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# ONLY re-roots every search path under the MinGW root, which would hide a
# package installed elsewhere for this target (-DCMAKE_PREFIX_PATH=<prefix>,
# as for a native build). A path under a root is searched as it is, so each
# prefix becomes a root of its own.
list(APPEND CMAKE_FIND_ROOT_PATH ${CMAKE_PREFIX_PATH})

find_program(MPROC_WINE NAMES wine64 wine PATHS /usr/lib/wine /usr/lib64/wine NO_CMAKE_FIND_ROOT_PATH)
if(MPROC_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MPROC_WINE})
endif()
