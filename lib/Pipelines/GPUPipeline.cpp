//===- GPUPipeline.cpp - sparsenn-lower-to-nvvm ---------------------------===//

#include "sparsenn/Pipelines/GPUPipeline.h"

#include "sparsenn/Conversion/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using mlir::sparsenn::GPUPipelineOptions;

static const char *formatName(GPUPipelineOptions::Format format) {
  switch (format) {
  case GPUPipelineOptions::Format::isa:
    return "isa";
  case GPUPipelineOptions::Format::bin:
    return "bin";
  case GPUPipelineOptions::Format::fatbin:
    return "fatbin";
  }
  llvm_unreachable("unknown format");
}

std::string
mlir::sparsenn::getLowerToNVVMPipeline(const GPUPipelineOptions &options) {
  return llvm::formatv(
      // Kernels for the sparse layers and k-winners, dense layers to linalg
      // (as in sparsenn-lower-to-llvm), bufferization without the
      // deallocation pipeline (sparsenn-place-gpu-buffers frees). Dense
      // layers and pooling stay loops (mapped to the GPU), not CPU runtime
      // calls.
      "canonicalize,"
      "func.func(sparsenn-select-kernels),"
      "convert-sparsenn-to-gpu{{warps-per-block={0}},"
      "convert-sparsenn-to-linalg{{runtime-weight-kernels=false pooling-kernels=false},"
      "func.func(tosa-to-linalg-named,tosa-to-linalg),"
      "tosa-to-arith,"
      "tosa-to-tensor,"
      "func.func(convert-elementwise-to-linalg),"
      "canonicalize,"
      "one-shot-bufferize{{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map},"
      "convert-bufferization-to-memref,"
      // Dense loops to kernels.
      "func.func(convert-linalg-to-parallel-loops),"
      "canonicalize,"
      "func.func(sparsenn-tile-gpu-loops{{block-size={1}}),"
      "func.func(gpu-map-parallel-loops),"
      "func.func(convert-parallel-loops-to-gpu),"
      "canonicalize,"
      "sparsenn-place-gpu-buffers,"
      "func.func(gpu-launch-sink-index-computations),"
      "gpu-kernel-outlining,"
      "func.func(gpu-async-region),"
      // Device code to NVVM, host code to LLVM, device code to PTX.
      "convert-scf-to-cf,"
      "nvvm-attach-target{{chip={2} features={3} O={4}},"
      "expand-strided-metadata,"
      "lower-affine,"
      "gpu.module(convert-gpu-to-nvvm,canonicalize,cse,"
      "reconcile-unrealized-casts),"
      "convert-math-to-llvm,"
      "finalize-memref-to-llvm,"
      "convert-arith-to-llvm,"
      "convert-index-to-llvm,"
      "convert-func-to-llvm,"
      "convert-cf-to-llvm,"
      "gpu-to-llvm,"
      "reconcile-unrealized-casts,"
      "gpu-module-to-binary{{format={5}{6}}",
      options.warpsPerBlock.getValue(), options.blockSize.getValue(),
      options.chip.getValue(), options.features.getValue(),
      options.optLevel.getValue(), formatName(options.format),
      options.toolkit.empty() ? std::string()
                              : " toolkit=" + options.toolkit.getValue());
}

LogicalResult
mlir::sparsenn::buildLowerToNVVMPipeline(OpPassManager &pm,
                                         const GPUPipelineOptions &options) {
  return parsePassPipeline(getLowerToNVVMPipeline(options), pm);
}

void mlir::sparsenn::registerSparseNNGPUPipelines() {
  registerTransformsPasses();
  registerConversionPasses();
  registerLinalgPasses();
  registerGPUPasses();
  registerSCFPasses();
  memref::registerMemRefPasses();
  bufferization::registerBufferizationPasses();
  registerSparseNNConversionPasses();

  PassPipelineRegistration<GPUPipelineOptions>(
      "sparsenn-lower-to-nvvm",
      "Lower sparsenn (and linalg/tensor) IR on tensors to NVIDIA GPU code: "
      "hand-written kernels for sparse layers and k-winners, mapped loops "
      "for dense layers, device buffers, NVVM, a gpu.binary with PTX (or "
      "cubin) for sm_90, host code in the LLVM dialect",
      [](OpPassManager &pm, const GPUPipelineOptions &options) {
        if (failed(buildLowerToNVVMPipeline(pm, options)))
          llvm::report_fatal_error("invalid sparsenn-lower-to-nvvm pipeline");
      });
}
