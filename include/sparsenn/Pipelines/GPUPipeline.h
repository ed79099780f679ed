//===- GPUPipeline.h - the sparsenn GPU (NVVM/PTX) pipeline -----*- C++ -*-===//
//
// `sparsenn-lower-to-nvvm` (docs/architecture.md, "The GPU path"): sparsenn
// on tensors → hand-written kernels (convert-sparsenn-to-gpu) and linalg →
// parallel loops → gpu.launch → device buffers (sparsenn-place-gpu-buffers)
// → outlined gpu.func → NVVM → PTX/cubin in a gpu.binary, host code in the
// LLVM dialect calling the mgpu* runtime (runtime/include/sparsenn/Runtime/
// GPU.h).
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_PIPELINES_GPUPIPELINE_H
#define SPARSENN_PIPELINES_GPUPIPELINE_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
namespace sparsenn {

struct GPUPipelineOptions : public PassPipelineOptions<GPUPipelineOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("GPU architecture (sm_90: H100)"),
                           llvm::cl::init("sm_90")};
  Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features (+ptx80: PTX ISA 8.0, CUDA 12.0 drivers)"),
      llvm::cl::init("+ptx80")};
  enum class Format { isa, bin, fatbin };
  Option<Format> format{
      *this, "format",
      llvm::cl::desc("gpu.binary contents: isa (PTX text, JIT-compiled by the "
                     "driver at load; needs no CUDA toolkit), bin (cubin) or "
                     "fatbin (both need ptxas from a CUDA toolkit)"),
      llvm::cl::init(Format::isa),
      llvm::cl::values(clEnumValN(Format::isa, "isa", "PTX text"),
                       clEnumValN(Format::bin, "bin", "cubin"),
                       clEnumValN(Format::fatbin, "fatbin", "fatbinary"))};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit directory for libdevice and ptxas (empty: "
                     "MLIR's default, /usr/local/cuda)"),
      llvm::cl::init("")};
  Option<int> optLevel{*this, "opt-level",
                       llvm::cl::desc("Optimisation level of device code"),
                       llvm::cl::init(3)};
  Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Threads per block of the mapped dense loops"),
      llvm::cl::init(256)};
  Option<int64_t> warpsPerBlock{
      *this, "warps-per-block",
      llvm::cl::desc("Warps per block of the sparse linear kernels"),
      llvm::cl::init(4)};
};

/// Textual form of `sparsenn-lower-to-nvvm` for a module pass manager
/// (without the builtin.module anchor).
std::string getLowerToNVVMPipeline(const GPUPipelineOptions &options);

/// Appends `sparsenn-lower-to-nvvm` to a module-level pass manager.
LogicalResult buildLowerToNVVMPipeline(OpPassManager &pm,
                                       const GPUPipelineOptions &options);

/// Registers `sparsenn-lower-to-nvvm` and the upstream passes it names.
void registerSparseNNGPUPipelines();

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_PIPELINES_GPUPIPELINE_H
