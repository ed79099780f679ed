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
      time (the folder of `sparsenn.decompress`).
    * `kwinners` → a call to the runtime's `sparsenn_rt_kwinners_f32` through
      the `_mlir_ciface_` ABI (selection, not sorting; seed 000 [0047]),
      wrapped in `bufferization.to_buffer` / `to_tensor`.
    * `threshold`, `apply_mask`, `quantize`, `dequantize`,
      `duty_cycle_update` → `linalg.generic`.

    Training-only ops (`prune` on non-constant operands, `sparsity_loss`) are
    refused with a diagnostic; run `--sparsenn-prune-weights` first to
    evaluate constant prunes. Shapes must be static.
  }];
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

#endif // SPARSENN_CONVERSION_PASSES_TD
