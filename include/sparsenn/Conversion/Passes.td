//===- Passes.td - sparsenn conversion passes --------------*- tablegen -*-===//

#ifndef SPARSENN_CONVERSION_PASSES_TD
#define SPARSENN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertSparseNNToLinalgPass
    : Pass<"convert-sparsenn-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower sparsenn inference ops to linalg, tensor and runtime "
                "calls";
  let description = [{
    Lowers the inference ops of the sparsenn dialect on value-semantic
    tensors:

    * `linear`, `conv2d` → `linalg.generic` (bias broadcast into the init;
      groups through expand/collapse shapes; padding through `tensor.pad`).
      Layers whose weights are `compressed_constant`s are decoded at compile
      time (the folder of `sparsenn.decompress`), and packed for the selected
      kernel; a `linear` with `#sparsenn.kernel<spgc8>` instead passes the
      SPGC8 stream, its scales and a per-row body index to the fused runtime
      kernel `sparsenn_rt_linear_spgc8_f32`.
    * `kwinners` → a call to the runtime's `sparsenn_rt_kwinners_f32` through
      the `_mlir_ciface_` ABI (selection, not sorting; seed 000 [0047]),
      wrapped in `bufferization.to_buffer` / `to_tensor`.
    * `threshold`, `apply_mask`, `quantize`, `dequantize`,
      `duty_cycle_update` → `linalg.generic`.

    Layers whose f32 weights are run-time values (function arguments, the
    weights of a training step, the output of a learnable prune) call the
    runtime's dense kernels (`sparsenn_rt_linear_f32` /
    `sparsenn_rt_conv2d_f32`, format dense) on the weight buffer as it is,
    unless `runtime-weight-kernels=false` asks for linalg loops.

    Epilogue fusion (`fuse-epilogues`, default on): when the only user of a
    conv2d lowered to a runtime kernel is a ReLU (`linalg.generic` or
    `arith.maximumf` with 0 on tensors), or a tensor `arith.addf` with
    another value of the same type (a residual connection) optionally
    followed by a ReLU that is its only user, the call
    `sparsenn_rt_conv2d_fused_f32` computes `relu(conv + bias + residual)`
    in one pass: the sparse kernel while it stores, the dense library as a
    post-op. It is emitted where the last fused op was.

    Pooling (`pooling-kernels`, default on): `linalg.pooling_nchw_max` and
    `linalg.pooling_nchw_sum` on static f32 tensors whose init is a
    `linalg.fill` of a constant become calls of the runtime's vectorised,
    threaded `sparsenn_rt_pool2d_f32`; a `tensor.pad` of the input by a
    constant on H and W folds into the call. Other poolings stay linalg.

    GEMM (`gemm-kernels`, default on): `linalg.matmul` on static f32
    tensors whose indexing maps are the plain ones or have A and/or B
    transposed becomes a call of `sparsenn_rt_gemm_f32` (no transpose is
    materialised; a zero-filled init is not read). The training step's
    linear-layer gradients are such matmuls.

    The conv2d gradients (`conv2d_backward_input`, `conv2d_backward_weight`)
    on static f32 tensors become the runtime's gradient kernels (with
    `runtime-weight-kernels`), else linalg: one contraction per tap into a
    strided window of the padded input gradient, and one contraction over
    (n, y, x) for the weights, masked after.

    Training-only ops (`prune` on non-constant operands, `sparsity_loss`) are
    refused with a diagnostic; run `--sparsenn-prune-weights` first to
    evaluate constant prunes. Shapes must be static.
  }];
  let options = [
    Option<"runtimeWeightKernels", "runtime-weight-kernels", "bool",
           /*default=*/"true",
           "Lower linear / conv2d layers with run-time f32 weights to the "
           "runtime's dense kernels (false: linalg loops)">,
    Option<"fuseEpilogues", "fuse-epilogues", "bool", /*default=*/"true",
           "Fold the residual add (arith.addf) and the ReLU (max with 0) "
           "that follow a conv2d lowered to a runtime kernel into its call">,
    Option<"poolingKernels", "pooling-kernels", "bool", /*default=*/"true",
           "Lower linalg.pooling_nchw_max/_sum on static f32 tensors (and a "
           "constant tensor.pad of their input) to the runtime's vector "
           "pooling kernel">,
    Option<"gemmKernels", "gemm-kernels", "bool", /*default=*/"true",
           "Lower linalg.matmul on static f32 tensors (plain or transposed "
           "operand maps) to the runtime's GEMM (the dense library's sgemm)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

//===----------------------------------------------------------------------===//
// The GPU path (docs/architecture.md, "The GPU path")
//===----------------------------------------------------------------------===//

def ConvertSparseNNToGPUPass
    : Pass<"convert-sparsenn-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower sparse linear layers and k-winners to hand-written "
                "GPU kernels (gpu.launch)";
  let description = [{
    Runs on sparsenn IR on tensors, before `convert-sparsenn-to-linalg`.
    Weights are packed at compile time by the runtime's packers (as for the
    CPU) and become constants:

    * `linear` with `#sparsenn.kernel<ell>` (fixed fan-in): values and
      16-bit column indices; one warp per (output row, sample), lanes stride
      over the row's non-zeros, warp-shuffle reduction (`sparsenn_ell_linear`).
    * `linear` with `block16`: one warp per (row, sample), half-warps take
      alternate 1x16 blocks (`sparsenn_block16_linear`).
    * `linear` with `sparse_sparse`: CSC columns; one warp per (input,
      sample) skips zero inputs and scatters with atomic adds after a bias
      initialisation kernel (`sparsenn_sparse_sparse_{init,linear}`).
    * `linear` with `spgc8` on a `compressed_constant`: the raw stream stays
      compressed in device memory and is decoded per warp inside the product
      (`sparsenn_spgc8_linear`).
    * `conv2d` with `ell` (sparse taps): one thread per output element over
      the filter's non-zero taps (`sparsenn_conv2d_taps`).
    * `kwinners`, every mode, boosting, ties, relu: one block per selection
      domain (256 threads, 1024 from 8192 elements); the k-th largest
      ranking key by a 4-pass MSB radix select in
      shared memory, then ties kept in index order (`sparsenn_kwinners`).
      The boost factor's `math.exp` is expanded to a polynomial, so kernels
      need no libdevice.

    Layers with another kernel format, or whose weights are not constant,
    lose their `kernel` attribute and take the dense linalg path. Compressed
    weights of `ell`/`block16`/`sparse_sparse` layers are decoded at compile
    time and packed.
    Results are `memref.alloc` buffers wrapped in `bufferization.to_tensor`.
  }];
  let options = [
    Option<"warpsPerBlock", "warps-per-block", "int64_t", /*default=*/"4",
           "Warps per thread block of the linear kernels">,
    Option<"kwinnersThreads", "kwinners-threads", "int64_t",
           /*default=*/"0",
           "Threads per k-winners block (a multiple of 32, at most 1024; "
           "0: 256, or 1024 for domains of 8192 or more)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def SparseNNTileGPULoopsPass
    : Pass<"sparsenn-tile-gpu-loops", "::mlir::func::FuncOp"> {
  let summary = "Collapse and tile host parallel loops for GPU mapping";
  let description = [{
    Each outermost `scf.parallel` outside GPU kernels (the dense layers,
    after `convert-linalg-to-parallel-loops`) is collapsed to one dimension
    and tiled by `block-size`, so that `gpu-map-parallel-loops` maps tiles to
    blocks and the intra-tile loop to threads, whatever the rank of the
    nest. Loops with results are left alone.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block for mapped parallel loops">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def SparseNNPlaceGPUBuffersPass
    : Pass<"sparsenn-place-gpu-buffers", "::mlir::ModuleOp"> {
  let summary = "Put the buffers GPU kernels use in device memory, keeping "
                "the function's host ABI";
  let description = [{
    For each function that contains `gpu.launch` ops (after bufferization):
    leftover host loops that touch memory become single-thread kernels;
    `memref.copy` becomes `gpu.memcpy` or a copy kernel; allocations that
    kernels use become `gpu.alloc`; arguments kernels read are copied to
    the device at entry; constants kernels read become the runtime's cached
    device copy (`_mlir_ciface_sparsenn_gpu_constant_<T>`); device results
    are copied to new host buffers before the return; device buffers are
    freed after their last use. Functions must be a single block. Host code
    that would still touch device memory is an error.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

#endif // SPARSENN_CONVERSION_PASSES_TD
