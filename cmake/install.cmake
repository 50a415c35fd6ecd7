# install(): headers, libmproc.a, a CMake package (find_package(mproc CONFIG))
# and mproc.pc for pkg-config. The library is static only, so its system
# libraries go in Libs, not Libs.private.
include(CMakePackageConfigHelpers)

install(TARGETS mproc EXPORT mprocTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(mproc_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/mproc)
install(EXPORT mprocTargets NAMESPACE mproc:: DESTINATION ${mproc_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mprocConfig.cmake.in
  ${PROJECT_BINARY_DIR}/mprocConfig.cmake INSTALL_DESTINATION ${mproc_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mprocConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/mprocConfig.cmake ${PROJECT_BINARY_DIR}/mprocConfigVersion.cmake
  DESTINATION ${mproc_cmake_dir})

if(WIN32)
  list(TRANSFORM mproc_os_libs PREPEND "-l" OUTPUT_VARIABLE mproc_pc_libs)
  list(JOIN mproc_pc_libs " " MPROC_PC_LIBS)
else()
  set(MPROC_PC_LIBS "-pthread")
endif()
# Relative to the .pc file, so the installed tree can move (cmake --install --prefix).
file(RELATIVE_PATH MPROC_PC_PREFIX_FROM_PCDIR /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(${PROJECT_SOURCE_DIR}/cmake/mproc.pc.in ${PROJECT_BINARY_DIR}/mproc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/mproc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
