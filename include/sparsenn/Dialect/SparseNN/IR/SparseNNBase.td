//===- SparseNNBase.td - sparsenn dialect definition ------*- tablegen -*-===//
//
// The `sparsenn` dialect: sparse neural-network layers, k-winners activations
// with boosting and duty cycles (Numenta, US 2025/0252312 A1, "seed 000"),
// pruner logic with learnable sparsity, the sparsity loss and SPGC8-compressed
// weights (Imagination, EP 21216321.6, "seed 003").
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_DIALECT_SPARSENN_IR_SPARSENNBASE_TD
#define SPARSENN_DIALECT_SPARSENN_IR_SPARSENNBASE_TD

include "mlir/IR/OpBase.td"

def SparseNN_Dialect : Dialect {
  let name = "sparsenn";
  let cppNamespace = "::mlir::sparsenn";
  let summary = "Sparse neural networks: sparse layers, k-winners, learned "
                "pruning and SPGC8-compressed weights";
  let description = [{
    The `sparsenn` dialect models the two sparsity mechanisms this project
    implements on value-semantic tensors (NCHW activations, linear weights
    `[out, in]`, conv weights `[C_out, C_in/groups, kH, kW]`):

    * Numenta's sparse networks (seed 000): layers whose weights have a fixed
      fan-in ([0041]-[0044]), k-winners activations with boosting and duty
      cycles ([0045]-[0047], [0060]-[0077], eq. 1-4).
    * Imagination's learned sparsity (seed 003): pruner logic with a learnable
      per-layer sparsity parameter (FIG. 7a-7d, eq. 1-10), the sparsity loss
      (eq. 11-15), and structured sparsity aligned to the SPGC8 coefficient
      compression scheme ([0100]-[0109], [0135]-[0175]).
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

class SparseNN_Op<string mnemonic, list<Trait> traits = []>
    : Op<SparseNN_Dialect, mnemonic, traits>;

#endif // SPARSENN_DIALECT_SPARSENN_IR_SPARSENNBASE_TD
