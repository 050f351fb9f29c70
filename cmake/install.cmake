# Installs lockmesh as a CMake package, so that an application can write
#
#   find_package(lockmesh REQUIRED)
#   target_link_libraries(app PRIVATE lockmesh::lockmesh)
#
# Installed: the public headers (lib/include/lockmesh -> include/lockmesh), the four static
# libraries (the runtime links core, wire and crypto privately, which a static library still
# passes on as link-only dependencies), and lib/cmake/lockmesh with the config, version and
# targets files. Nothing from tests/, bench/ or sim/ is installed. Checked by the ctest
# "package_consumer" (tests/package).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(LOCKMESH_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/lockmesh)

install(TARGETS lockmesh lockmesh_runtime lockmesh_core lockmesh_wire lockmesh_crypto
  EXPORT lockmeshTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/include/lockmesh
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
install(EXPORT lockmeshTargets
  NAMESPACE lockmesh::
  DESTINATION ${LOCKMESH_INSTALL_CMAKEDIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/lockmeshConfig.cmake.in
  ${PROJECT_BINARY_DIR}/lockmeshConfig.cmake
  INSTALL_DESTINATION ${LOCKMESH_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lockmeshConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/lockmeshConfig.cmake
              ${PROJECT_BINARY_DIR}/lockmeshConfigVersion.cmake
  DESTINATION ${LOCKMESH_INSTALL_CMAKEDIR})
