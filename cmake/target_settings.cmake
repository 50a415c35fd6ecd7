# Settings for mproc's own targets (the library, tests, examples, benchmarks):
# the same warnings for gcc, clang and MinGW-w64 gcc, and on MinGW C99 printf
# (%zu, %lld) instead of msvcrt's. Consumers need neither: the public headers
# print nothing.
function(mproc_target_settings target)
  if(WIN32)
    target_compile_definitions(${target} PRIVATE __USE_MINGW_ANSI_STDIO=1)
  endif()
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wundef -Wvla -Wwrite-strings -Wpointer-arith -Wcast-align
    -Wold-style-definition -Wnull-dereference -Wdouble-promotion)
  if(MPROC_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
