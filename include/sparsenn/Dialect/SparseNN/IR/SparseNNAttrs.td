//===- SparseNNAttrs.td - sparsenn enums and attributes ---*- tablegen -*-===//

#ifndef SPARSENN_DIALECT_SPARSENN_IR_SPARSENNATTRS_TD
#define SPARSENN_DIALECT_SPARSENN_IR_SPARSENNATTRS_TD

include "sparsenn/Dialect/SparseNN/IR/SparseNNBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def SparseNN_KWinnersModeEnum : I32EnumAttr<"KWinnersMode",
    "selection domain of a k-winners activation", [
      I32EnumAttrCase<"global", 0>,
      I32EnumAttrCase<"group", 1>,
      I32EnumAttrCase<"local", 2>,
      I32EnumAttrCase<"channel", 3>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::sparsenn";
}

def SparseNN_PruneMethodEnum : I32EnumAttr<"PruneMethod",
    "how the pruner turns the sparsity parameter into a threshold", [
      I32EnumAttrCase<"quantile", 0>,
      I32EnumAttrCase<"gaussian", 1>,
      I32EnumAttrCase<"gumbel", 2>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::sparsenn";
}

def SparseNN_PruneGranularityEnum : I32EnumAttr<"PruneGranularity",
    "what one saliency value decides on", [
      I32EnumAttrCase<"element", 0>,
      I32EnumAttrCase<"group", 1>,
      I32EnumAttrCase<"input_channel", 2>,
      I32EnumAttrCase<"output_filter", 3>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::sparsenn";
}

def SparseNN_ReductionEnum : I32EnumAttr<"Reduction",
    "reduction of |w| over a pruning group", [
      I32EnumAttrCase<"max", 0>,
      I32EnumAttrCase<"mean", 1>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::sparsenn";
}

def SparseNN_NormalizationEnum : I32EnumAttr<"Normalization",
    "map from the raw sparsity parameter s to the normalised s^phi in [0,1]", [
      I32EnumAttrCase<"sigmoid", 0>,
      I32EnumAttrCase<"hard_sigmoid", 1>,
      I32EnumAttrCase<"none", 2>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::sparsenn";
}

def SparseNN_GroupLayoutEnum : I32EnumAttr<"GroupLayout",
    "how a group of 16 SPGC8 coefficients splits into two subsets of 8", [
      I32EnumAttrCase<"adjacent", 0>,
      I32EnumAttrCase<"interleaved", 1>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::sparsenn";
}

def SparseNN_KernelFormatEnum : I32EnumAttr<"KernelFormat",
    "weight storage format chosen for the native kernel of a layer", [
      I32EnumAttrCase<"dense", 0>,
      I32EnumAttrCase<"ell", 1>,
      I32EnumAttrCase<"block16", 2>,
      I32EnumAttrCase<"sparse_sparse", 3>,
      I32EnumAttrCase<"spgc8", 4>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::sparsenn";
}

class SparseNN_EnumAttr<EnumAttrInfo info, string mnemonic>
    : EnumAttr<SparseNN_Dialect, info, mnemonic> {
  let assemblyFormat = "`<` $value `>`";
}

def SparseNN_KWinnersModeAttr
    : SparseNN_EnumAttr<SparseNN_KWinnersModeEnum, "kwinners_mode">;
def SparseNN_PruneMethodAttr
    : SparseNN_EnumAttr<SparseNN_PruneMethodEnum, "prune_method">;
def SparseNN_PruneGranularityAttr
    : SparseNN_EnumAttr<SparseNN_PruneGranularityEnum, "granularity">;
def SparseNN_ReductionAttr
    : SparseNN_EnumAttr<SparseNN_ReductionEnum, "reduction">;
def SparseNN_NormalizationAttr
    : SparseNN_EnumAttr<SparseNN_NormalizationEnum, "normalization">;
def SparseNN_GroupLayoutAttr
    : SparseNN_EnumAttr<SparseNN_GroupLayoutEnum, "group_layout">;
def SparseNN_KernelFormatAttr
    : SparseNN_EnumAttr<SparseNN_KernelFormatEnum, "kernel">;

//===----------------------------------------------------------------------===//
// Weight sparsity facts
//===----------------------------------------------------------------------===//

def SparseNN_FractionParameter
    : AttrParameter<"::llvm::APFloat", "fraction of non-zero coefficients"> {
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    double value;
    if ($_parser.parseFloat(value))
      return ::mlir::failure();
    return ::llvm::APFloat(value);
  }() }];
  let printer = [{ $_printer.printFloat($_self) }];
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
}

// An optional integer, parsed by hand: the generic FieldParser of
// std::optional trips GCC 12's -Wmaybe-uninitialized.
def SparseNN_OptionalCountParameter
    : OptionalParameter<"std::optional<int64_t>", "non-zeros per output unit"> {
  let parser = [{ [&]() -> ::mlir::FailureOr<std::optional<int64_t>> {
    int64_t value = 0;
    if ($_parser.parseInteger(value))
      return ::mlir::failure();
    return std::optional<int64_t>(value);
  }() }];
  let printer = [{ $_printer << *$_self }];
}

def SparseNN_SparsityAttr : AttrDef<SparseNN_Dialect, "Sparsity"> {
  let mnemonic = "sparsity";
  let summary = "known sparsity of a layer's weights";
  let description = [{
    Facts about the weights of a layer that a kernel can rely on (seed 000
    [0041]-[0044], [0072]): `density` is the fraction of non-zero
    coefficients; `fan_in`, when present, states that every output unit
    (row of a linear weight, filter of a convolution) has exactly that many
    non-zero coefficients (fixed fan-in), which is what makes the ELL kernel
    format exact.

    ```mlir
    #sparsenn.sparsity<density = 1.000000e-01, fan_in = 410>
    ```
  }];
  let parameters = (ins
      SparseNN_FractionParameter:$density,
      SparseNN_OptionalCountParameter:$fan_in);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    double getDensityValue() const { return getDensity().convertToDouble(); }
  }];
}

#endif // SPARSENN_DIALECT_SPARSENN_IR_SPARSENNATTRS_TD
