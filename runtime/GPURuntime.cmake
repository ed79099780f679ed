# The CUDA launch runtime of the GPU path (runtime/include/sparsenn/Runtime/
# GPU.h): the mgpu* entry points that MLIR's gpu-to-llvm lowering calls, on
# the CUDA driver API loaded with dlopen. No CUDA headers or libraries are
# needed to build it, so it is always built; included from the top-level
# CMakeLists.txt after runtime/.
add_library(SparseNNGPURuntime STATIC
  ${CMAKE_CURRENT_LIST_DIR}/lib/CudaRuntime.cpp)
set_target_properties(SparseNNGPURuntime PROPERTIES
  POSITION_INDEPENDENT_CODE ON)
target_include_directories(SparseNNGPURuntime PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_LIST_DIR}/include>
  $<INSTALL_INTERFACE:include>)
target_compile_options(SparseNNGPURuntime PRIVATE -Wall -Wextra)
target_compile_features(SparseNNGPURuntime PUBLIC cxx_std_17)
target_link_libraries(SparseNNGPURuntime PUBLIC ${CMAKE_DL_LIBS})
install(TARGETS SparseNNGPURuntime EXPORT SparseNNTargets
  ARCHIVE DESTINATION lib)

add_subdirectory(${CMAKE_CURRENT_LIST_DIR}/../test/unit/RuntimeGPU
  ${CMAKE_BINARY_DIR}/test/unit/RuntimeGPU)
