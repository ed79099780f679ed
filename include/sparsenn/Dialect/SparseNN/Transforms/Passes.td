//===- Passes.td - sparsenn transformation passes ----------*- tablegen -*-===//

#ifndef SPARSENN_DIALECT_SPARSENN_TRANSFORMS_PASSES_TD
#define SPARSENN_DIALECT_SPARSENN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def SparseNNPrintSummaryPass
    : Pass<"sparsenn-print-summary", "::mlir::ModuleOp"> {
  let summary = "Print a table of the sparse layers and their sparsity";
  let description = [{
    Walks every function and prints, for each sparsenn layer and activation,
    one line with its shapes, parameter count, the weight density measured on
    constant weights (or the declared `sparsity` fact), the fan-in range per
    output unit (a fixed fan-in shows as a single number, seed 000 [0041]),
    and for k-winners the mode, k / n and boosting strength. Ends with a
    total. The IR is not changed.
  }];
  let options = [
    Option<"outputFile", "output", "std::string", /*default=*/"\"-\"",
           "Where to write the summary ('-' for stdout)">,
  ];
}

#endif // SPARSENN_DIALECT_SPARSENN_TRANSFORMS_PASSES_TD
