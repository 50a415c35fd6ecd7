# Warnings for mproc's own targets: the same set for gcc, clang and MinGW-w64 gcc.
function(mproc_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wundef -Wvla -Wwrite-strings -Wpointer-arith -Wcast-align
    -Wold-style-definition -Wnull-dereference -Wdouble-promotion)
  if(MPROC_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
