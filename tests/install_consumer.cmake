# ctest script: install this build into a fresh prefix, then build and run a
# consumer program against it twice, through find_package(mproc CONFIG) and
# through pkg-config.
#   -DBUILD_DIR=<this build> -DSOURCE_DIR=<tests/consumer> -DWORK_DIR=<scratch>
#   -DC_COMPILER=<compiler> -DC_FLAGS=<flags the library was built with>
#   -DTOOLCHAIN=<toolchain file or empty>
#   -DEMULATOR=<command to run target programs, or empty> -DEXE_SUFFIX=<.exe or empty>
cmake_minimum_required(VERSION 3.25)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

foreach(file include/mproc.h include/mproc/process.h lib/libmproc.a lib/cmake/mproc/mprocConfig.cmake
             lib/pkgconfig/mproc.pc)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "install did not put ${file} in place")
  endif()
endforeach()

# 1. find_package(mproc CONFIG)
set(toolchain_arg "")
if(TOOLCHAIN)
  set(toolchain_arg -DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN})
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/cmake-build ${toolchain_arg}
    -DCMAKE_C_COMPILER=${C_COMPILER} "-DCMAKE_C_FLAGS=${C_FLAGS}" -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/cmake-build)
run(${EMULATOR} ${WORK_DIR}/cmake-build/consumer${EXE_SUFFIX})

# 2. pkg-config
find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} ${prefix}/lib/pkgconfig)
set(ENV{PKG_CONFIG_LIBDIR} ${prefix}/lib/pkgconfig)
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs mproc OUTPUT_VARIABLE flags RESULT_VARIABLE rc
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config does not know mproc")
endif()
separate_arguments(flags UNIX_COMMAND "${C_FLAGS} ${flags}")
set(static_arg "")
if(EXE_SUFFIX)
  set(static_arg -static)
endif()
run(${C_COMPILER} -std=c11 ${SOURCE_DIR}/main.c -o ${WORK_DIR}/pkgconfig-consumer${EXE_SUFFIX} ${flags}
    ${static_arg})
run(${EMULATOR} ${WORK_DIR}/pkgconfig-consumer${EXE_SUFFIX})
