# `cmake --install` puts headers, the static libraries and a CMake package config under the
# prefix, so that another project can say:
#   find_package(nanocaf REQUIRED)
#   target_link_libraries(game PRIVATE nanocaf::gateway nanocaf::cluster)
# (apps/external_example is such a project, built against an install in the tests).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(NANOCAF_LIBRARIES codec poller gateway actors cluster proto server)
foreach(lib IN LISTS NANOCAF_LIBRARIES)
  set_target_properties(nanocaf_${lib} PROPERTIES EXPORT_NAME ${lib})
  add_library(nanocaf::${lib} ALIAS nanocaf_${lib})
endforeach()
list(TRANSFORM NANOCAF_LIBRARIES PREPEND nanocaf_ OUTPUT_VARIABLE NANOCAF_LIBRARY_TARGETS)

install(TARGETS ${NANOCAF_LIBRARY_TARGETS} EXPORT nanocafTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY
    ${PROJECT_SOURCE_DIR}/proto/codec/include/
    ${PROJECT_SOURCE_DIR}/gateway/include/
    ${PROJECT_SOURCE_DIR}/actors/include/
    ${PROJECT_SOURCE_DIR}/cluster/include/
    ${PROJECT_SOURCE_DIR}/apps/server/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_BINARY_DIR}/proto/gen/nanocaf/proto
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nanocaf FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_SOURCE_DIR}/proto/cluster.proto ${PROJECT_SOURCE_DIR}/proto/nanocaf_cluster.proto
  DESTINATION ${CMAKE_INSTALL_DATADIR}/nanocaf/proto)
# The JavaScript client (browsers and Node), one file: share/nanocaf/js/nanocaf.js.
install(FILES ${PROJECT_SOURCE_DIR}/apps/client-js/nanocaf.js ${PROJECT_SOURCE_DIR}/apps/client-js/package.json
  DESTINATION ${CMAKE_INSTALL_DATADIR}/nanocaf/js)
install(TARGETS nanocaf-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS $<TARGET_FILE:master> DESTINATION ${CMAKE_INSTALL_BINDIR} RENAME nanocaf-master)

set(NANOCAF_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/nanocaf)
install(EXPORT nanocafTargets NAMESPACE nanocaf:: DESTINATION ${NANOCAF_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/nanocafConfig.cmake.in
  ${PROJECT_BINARY_DIR}/nanocafConfig.cmake INSTALL_DESTINATION ${NANOCAF_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nanocafConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
    ${PROJECT_BINARY_DIR}/nanocafConfig.cmake
    ${PROJECT_BINARY_DIR}/nanocafConfigVersion.cmake
    ${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake # CAF 0.17 ships no CMake config of its own
  DESTINATION ${NANOCAF_CMAKE_DIR})
