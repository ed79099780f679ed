//===- SparseNNTypes.td - sparsenn types -------------------*- tablegen -*-===//

#ifndef SPARSENN_DIALECT_SPARSENN_IR_SPARSENNTYPES_TD
#define SPARSENN_DIALECT_SPARSENN_IR_SPARSENNTYPES_TD

include "sparsenn/Dialect/SparseNN/IR/SparseNNAttrs.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

def SparseNN_SPGC8Type : TypeDef<SparseNN_Dialect, "SPGC8"> {
  let mnemonic = "spgc8";
  let summary = "weights compressed with the SPGC8 scheme";
  let description = [{
    A weight tensor of logical shape `shape` whose signed integer coefficients
    of `elementType` (i8 or i16, the SPGC8 bit depth D) are stored as one SPGC8
    raw stream (seed 003 [0100]-[0109], docs/spgc8.md): subsets of 8 sign-folded
    coefficients, each a 3-bit (D = 8) or 4-bit (D = 16) header naming the bit
    depth b followed by b bit-planes; groups of 16 coefficients are two subsets,
    `adjacent` (V0-V7, V8-V15) or `interleaved` (even then odd positions).

    Groups run along the input-channel axis (docs/spgc8.md §2, seed 003
    [0138]): a rank-2 `[out, in]` weight is traversed row by row, a rank-4
    `[C_out, C_in, kH, kW]` weight as vectors of `C_in` coefficients at every
    `(o, kh, kw)`; rank 1 is one vector. Every vector is zero-padded to a
    multiple of 16. The subset size (8) and group size (16) are fixed by the
    format.

    ```mlir
    !sparsenn.spgc8<64x128xi8>
    !sparsenn.spgc8<32x16x3x3xi16, interleaved>
    ```
  }];
  let parameters = (ins
      ArrayRefParameter<"int64_t", "logical shape">:$shape,
      "::mlir::IntegerType":$elementType,
      DefaultValuedParameter<"::mlir::sparsenn::GroupLayout",
                             "::mlir::sparsenn::GroupLayout::adjacent",
                             "subset split of a group">:$layout);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Number of logical coefficients.
    int64_t getNumElements() const;
    /// Bit depth D of the coefficients (8 or 16).
    unsigned getBits() const { return getElementType().getWidth(); }
    /// Length of one traversal vector (the input-channel extent).
    int64_t getVectorLength() const;
    /// Number of traversal vectors.
    int64_t getNumVectors() const;
    /// Vector length rounded up to a whole number of 16-coefficient groups.
    int64_t getPaddedVectorLength() const;
    /// Number of values in the raw stream (all padded vectors).
    int64_t getNumStreamValues() const {
      return getNumVectors() * getPaddedVectorLength();
    }
    /// Position in the raw stream of the coefficient at row-major logical
    /// index `logicalIndex` (the docs/spgc8.md §2 traversal).
    int64_t getStreamIndex(int64_t logicalIndex) const;
    /// Number of output channels (per-output-channel scales).
    int64_t getNumOutputChannels() const { return getShape().front(); }
  }];
}

#endif // SPARSENN_DIALECT_SPARSENN_IR_SPARSENNTYPES_TD
