#===- SparseNNInstall.cmake - cmake --install and find_package(SparseNN) --===#
#
# `cmake --install build --prefix P` yields
#   P/bin                 sparse-opt, sparse-run, sparse-compile, spgc8
#                         (install rules next to each tool, tools/*)
#   P/include/sparsenn    the public headers (.h), the ODS sources (.td), the
#                         TableGen-generated .h.inc/.cpp.inc they include, and
#                         Runtime/*.h (rule in runtime/CMakeLists.txt)
#   P/lib                 the static libraries
#   P/lib/cmake/sparsenn  SparseNNConfig.cmake, SparseNNConfigVersion.cmake and
#                         SparseNNTargets.cmake (imported targets SparseNN::*)
# so that a downstream compiler does find_package(SparseNN) (see
# examples/downstream). Included at the end of the top-level CMakeLists.txt,
# once every library target exists.
#
#===----------------------------------------------------------------------===#

include(CMakePackageConfigHelpers)

set(SPARSENN_INSTALL_PACKAGE_DIR lib/cmake/sparsenn)

# Every add_mlir_library / add_mlir_dialect_library / add_mlir_conversion_library
# of the project: AddMLIR records them in MLIR_EXPORTS even though
# LLVM_INSTALL_TOOLCHAIN_ONLY (top-level CMakeLists.txt) keeps it from
# installing them into MLIR's export set. A library added later is picked up
# here without a change. SparseNNRuntime joins the same export set in
# runtime/CMakeLists.txt.
get_property(SPARSENN_MLIR_LIBRARIES GLOBAL PROPERTY MLIR_EXPORTS)
if(NOT SPARSENN_MLIR_LIBRARIES)
  message(FATAL_ERROR "SparseNNInstall: no MLIR libraries recorded in MLIR_EXPORTS")
endif()
install(TARGETS ${SPARSENN_MLIR_LIBRARIES}
  EXPORT SparseNNTargets
  ARCHIVE DESTINATION lib
  LIBRARY DESTINATION lib
  RUNTIME DESTINATION bin
  INCLUDES DESTINATION include)
set(SPARSENN_EXPORTED_TARGETS ${SPARSENN_MLIR_LIBRARIES} SparseNNRuntime)

# Headers: the sources, then what TableGen generated for them in the build
# tree (SparseNNOps.h includes SparseNNOps.h.inc, Passes.h Passes.h.inc, ...).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/sparsenn
  DESTINATION include
  FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
install(DIRECTORY ${PROJECT_BINARY_DIR}/include/sparsenn
  DESTINATION include
  FILES_MATCHING PATTERN "*.h.inc" PATTERN "*.cpp.inc"
  PATTERN CMakeFiles EXCLUDE)

# The package: targets, config and version.
install(EXPORT SparseNNTargets
  NAMESPACE SparseNN::
  FILE SparseNNTargets.cmake
  DESTINATION ${SPARSENN_INSTALL_PACKAGE_DIR})

set(SPARSENN_INCLUDE_INSTALL_DIR include)
set(SPARSENN_TOOLS_INSTALL_DIR bin)
list(JOIN SPARSENN_EXPORTED_TARGETS ", " SPARSENN_EXPORTED_TARGETS_TEXT)
set(_pkg ${PROJECT_BINARY_DIR}/cmake/install)
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/SparseNNConfig.cmake.in
  ${_pkg}/SparseNNConfig.cmake
  INSTALL_DESTINATION ${SPARSENN_INSTALL_PACKAGE_DIR}
  PATH_VARS SPARSENN_INCLUDE_INSTALL_DIR SPARSENN_TOOLS_INSTALL_DIR)
write_basic_package_version_file(${_pkg}/SparseNNConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES ${_pkg}/SparseNNConfig.cmake ${_pkg}/SparseNNConfigVersion.cmake
  DESTINATION ${SPARSENN_INSTALL_PACKAGE_DIR})
