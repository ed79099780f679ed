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

def SparseNNPruneWeightsPass
    : Pass<"sparsenn-prune-weights", "::mlir::ModuleOp"> {
  let summary = "Apply the pruner logic to constant layer weights";
  let description = [{
    Prunes the constant weights of `sparsenn.linear` and `sparsenn.conv2d`
    with the pruner semantics of `sparsenn.prune` (seed 003 FIG. 7a-7d,
    eq. 1-10) and replaces them with pruned constants; the layer's
    `sparsity` attribute is updated with the measured density (and the fan-in
    when every output unit has the same number of non-zeros).

    The target sparsity s^φ of a layer is its entry in `layer-sparsity`
    (layers in module order) when that option is given, else its
    discardable attribute `sparsenn.target_sparsity` (a float in [0, 1]) if
    present, else the `sparsity` option; layers with none are left alone. `spgc8-aligned`
    selects the preset of seed 003 [0135]-[0175]: quantile pruning of 1×16
    groups along the input-channel axis (max reduction), exactly the SPGC8
    codec's traversal, so every pruned group becomes two all-zero subsets.

    `sparsenn.prune` ops whose weights and sparsity parameter are constants
    are evaluated too (with their own method, granularity and
    normalisation) and replaced by the pruned weights and mask constants.
  }];
  let options = [
    Option<"sparsity", "sparsity", "double", /*default=*/"-1.0",
           "Target sparsity s^phi in [0, 1] for layers without "
           "sparsenn.target_sparsity (negative: only annotated layers)">,
    ListOption<"layerSparsity", "layer-sparsity", "double",
               "Per-layer target sparsity, one entry per sparsenn.linear / "
               "sparsenn.conv2d in the module's order (a negative entry "
               "leaves that layer alone); overrides `sparsity` and the "
               "attribute">,
    Option<"method", "method", "::mlir::sparsenn::PruneMethod",
           /*default=*/"::mlir::sparsenn::PruneMethod::quantile",
           "Pruner (EP 21216321.6 FIG. 7a-7d)", [{::llvm::cl::values(
             clEnumValN(::mlir::sparsenn::PruneMethod::quantile, "quantile",
                        "the quantile of |w| (FIG. 7a/7b)"),
             clEnumValN(::mlir::sparsenn::PruneMethod::gaussian, "gaussian",
                        "the Gaussian threshold (FIG. 7c, eq. 3-4)"),
             clEnumValN(::mlir::sparsenn::PruneMethod::gumbel, "gumbel",
                        "the Gumbel threshold (FIG. 7d, eq. 7-10)"))}]>,
    Option<"granularity", "granularity", "::mlir::sparsenn::PruneGranularity",
           /*default=*/"::mlir::sparsenn::PruneGranularity::element",
           "What is pruned as one unit", [{::llvm::cl::values(
             clEnumValN(::mlir::sparsenn::PruneGranularity::element,
                        "element", "single coefficients"),
             clEnumValN(::mlir::sparsenn::PruneGranularity::group, "group",
                        "groups of group-shape"),
             clEnumValN(::mlir::sparsenn::PruneGranularity::input_channel,
                        "input_channel", "whole input channels"),
             clEnumValN(::mlir::sparsenn::PruneGranularity::output_filter,
                        "output_filter", "whole output filters"))}]>,
    ListOption<"groupShape", "group-shape", "int64_t",
               "Group shape for granularity=group (one entry per weight "
               "dimension; a shorter shape is padded with 1s, so 1,16 on "
               "conv weights is 1x16x1x1)">,
    Option<"reduction", "reduction", "::mlir::sparsenn::Reduction",
           /*default=*/"::mlir::sparsenn::Reduction::max",
           "Group saliency reduction", [{::llvm::cl::values(
             clEnumValN(::mlir::sparsenn::Reduction::max, "max",
                        "largest |w| of the group"),
             clEnumValN(::mlir::sparsenn::Reduction::mean, "mean",
                        "mean |w| of the group"))}]>,
    Option<"spgc8Aligned", "spgc8-aligned", "bool", /*default=*/"false",
           "Preset: quantile pruning of SPGC8-aligned 1x16 input-channel "
           "groups">,
    Option<"verbose", "verbose", "bool", /*default=*/"false",
           "Emit a remark per pruned layer (weights zeroed, new density)">,
  ];
}

def SparseNNCompressWeightsPass
    : Pass<"sparsenn-compress-weights", "::mlir::ModuleOp"> {
  let summary = "Quantise and SPGC8-encode constant layer weights";
  let description = [{
    Replaces the constant float weights of `sparsenn.linear` and
    `sparsenn.conv2d` by a `sparsenn.compressed_constant`: symmetric
    per-output-channel quantisation to D = 8 (default) or 16 bits, then the
    SPGC8 raw stream of the docs/spgc8.md §2 traversal (seed 003
    [0100]-[0109]).
    Layers consume the compressed weights directly, or through a
    `sparsenn.decompress` with `decompress=true` (which `-canonicalize` folds
    back to the dequantised dense constant, so numerics can be checked).

    `report` writes one line per layer: fp32 bytes, raw int8/16 bytes,
    SPGC8 bytes and the ratio against raw integers.
  }];
  let options = [
    Option<"bits", "bits", "unsigned", /*default=*/"8",
           "Coefficient bit depth D: 8 or 16">,
    Option<"interleave", "interleave", "bool", /*default=*/"false",
           "Interleaved groups (even then odd positions) instead of adjacent">,
    Option<"decompress", "decompress", "bool", /*default=*/"false",
           "Feed layers through sparsenn.decompress instead of directly">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Write a per-layer size report to this file ('-' for stdout)">,
  ];
}

def SparseNNPropagateChannelPruningPass
    : Pass<"sparsenn-propagate-channel-pruning", "::mlir::ModuleOp"> {
  let summary = "Remove unused data channels and the filters producing them";
  let description = [{
    Channel pruning of seed 003 [0176]-[0193] (FIG. 11a, 11b, 12): a data
    channel is removed when no layer reads it (an all-zero input-coefficient
    channel of every consuming `sparsenn.linear` / `sparsenn.conv2d`) or when
    it is zero everywhere (an all-zero output filter with a zero bias). The
    channel disappears from the producing layer (its filter and bias), from
    every per-channel op in between (element-wise arith and linalg.generic
    ops, per-channel affine constants, pooling, padding, k-winners, concat,
    flatten) and from the consuming layers (their coefficient channels).

    Channels are grouped across residual adds and concats into dependency
    groups (a channel goes only if it goes on every branch), and across
    grouped / depthwise convolutions (tied channels). A removed channel whose
    value is a known non-zero constant is folded into the consumers' biases
    when that is exact (linear layers, convolutions without padding); else it
    is kept. The network's outputs never change.

    `sparsenn.kwinners`: in `<channel>` mode (domain H·W) k is unchanged; in
    `<global>` and `<local>` mode a channel goes only with `relu` and when it
    is a constant <= 0 (it never wins nor moves the k-th value), and k
    becomes the original effective k as an explicit count, clamped to the new
    domain size; `<group>` is refused (group boundaries would shift). A duty
    cycle is sliced when it is a constant; one that is a function argument
    is caller-owned state, so the channel stays (the signature never changes).

    The analysis stops at ops and function boundaries it does not model and
    says so in a remark on the blocking op. Run `--sparsenn-prune-weights`
    first so that `sparsenn.prune` ops with `input_channel` / `output_filter`
    granularity are constants. `report` writes the channels removed per layer
    and the parameters and MACs before and after (Debian's LLVM has no pass
    statistics).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect"];
  let options = [
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Write a per-layer report to this file ('-' for stdout)">,
    Option<"verbose", "verbose", "bool", /*default=*/"false",
           "Emit a remark per rewritten layer (channels removed)">,
  ];
}

def SparseNNSelectKernelsPass
    : Pass<"sparsenn-select-kernels", "::mlir::func::FuncOp"> {
  let summary = "Choose the native kernel format of each layer";
  let description = [{
    Sets `kernel = #sparsenn.kernel<...>` on `sparsenn.linear` layers with
    constant f32 or compressed weights, from the weight density measured on
    the constant
    and the activation density known from a producing `sparsenn.kwinners`
    (seed 000 [0035], [0044], [0047]: sparse weights and sparse activations
    exist to skip work):

    * weight density > `dense-above` → `dense`;
    * input from k-winners with k/n ≤ `sparse-input-below` → `sparse_sparse`
      (only the weight columns of active inputs are touched);
    * non-zeros filling ≥ `block-fill` of their 1×16 blocks (SPGC8-aligned
      pruning) → `block16`;
    * otherwise `ell` (fixed fan-in: values + 16-bit column indices), when
      `in` ≤ 65536.

    Weights that are a `sparsenn.compressed_constant` are decoded here to
    measure them and, by default, decoded at load (compile) time into the
    format above. `spgc8` (the fused kernel that decodes the SPGC8 stream
    row by row inside the product and keeps the weights compressed in
    memory) is chosen instead where it measured at least as fast
    (docs/performance.md): D = 8 weights whose decoded format would be
    `block16` or `ell`, and at least `spgc8-min-batch` samples.

    Layers that already carry a `kernel` keep it; `force` picks one format
    for every layer (`force=spgc8`: every linear layer with compressed
    weights, the others as in `auto`). `convert-sparsenn-to-linalg`
    then packs the weights at compile time and calls the runtime kernel.
  }];
  let options = [
    Option<"denseAbove", "dense-above", "double", /*default=*/"0.5",
           "Weight density above which the dense kernel is used">,
    Option<"sparseInputBelow", "sparse-input-below", "double",
           /*default=*/"0.2",
           "k-winners density at or below which sparse_sparse is used">,
    Option<"blockFill", "block-fill", "double", /*default=*/"0.75",
           "Fraction of 1x16 block slots that must be non-zero for block16">,
    Option<"force", "force", "::mlir::sparsenn::ForcedKernel",
           /*default=*/"::mlir::sparsenn::ForcedKernel::automatic",
           "Kernel format for every layer", [{::llvm::cl::values(
             clEnumValN(::mlir::sparsenn::ForcedKernel::automatic, "auto",
                        "chosen per layer from the measured weights"),
             clEnumValN(::mlir::sparsenn::ForcedKernel::dense, "dense",
                        "dense kernels"),
             clEnumValN(::mlir::sparsenn::ForcedKernel::ell, "ell",
                        "fixed fan-in rows (ELL) / sparse taps"),
             clEnumValN(::mlir::sparsenn::ForcedKernel::block16, "block16",
                        "1x16 blocks"),
             clEnumValN(::mlir::sparsenn::ForcedKernel::sparse_sparse,
                        "sparse_sparse", "sparse weights x sparse inputs"),
             clEnumValN(::mlir::sparsenn::ForcedKernel::spgc8, "spgc8",
                        "the fused SPGC8 kernel for compressed weights"))}]>,
    Option<"spgc8MinBatch", "spgc8-min-batch", "int64_t", /*default=*/"32",
           "Fewest samples for which compressed weights use the fused "
           "SPGC8 kernel">,
  ];
}

def SparseNNImportPass : Pass<"sparsenn-import", "::mlir::func::FuncOp"> {
  let summary = "Raise dense layers of linalg / TOSA model IR to sparsenn";
  let description = [{
    Recognises the dense layers that other ML compilers emit and turns them
    into `sparsenn` layers, so that pruning, SPGC8 compression, channel
    propagation and kernel selection apply to them:

    * linalg on tensors: any contraction (`linalg.matmul` with or without
      transposing `indexing_maps`, `linalg.batch_matmul` whose constant
      weights are the same for every batch, or the equivalent
      `linalg.generic`) with one constant operand → `sparsenn.linear`
      (weights transposed to `[out, in]` at compile time); a bias that is
      the matmul's init (`linalg.fill`, `linalg.broadcast`, a broadcasting
      `linalg.generic`) or a following per-feature add is folded in;
    * `linalg.conv_2d_nchw_fchw`, `conv_2d_nhwc_hwcf`, `conv_2d_nhwc_fhwc`,
      `depthwise_conv_2d_nchw_chw`, `depthwise_conv_2d_nhwc_hwc` →
      `sparsenn.conv2d` (NCHW / OIHW; a zero `tensor.pad` of the input
      becomes the conv's padding; the init's bias becomes the conv's bias);
    * relu written as `arith.cmpf` + `arith.select` becomes
      `arith.maximumf` / `arith.maxnumf` (same NaN behaviour);
      `linalg.pooling_nhwc_max` → `linalg.pooling_nchw_max`;
    * TOSA: `tosa.conv2d`, `tosa.depthwise_conv2d`, `tosa.matmul` with
      constant weights, `tosa.clamp` with min 0 and no upper bound (relu),
      `tosa.max_pool2d`, `tosa.reshape` (to collapse/expand when it is one),
      `tosa.transpose`.

    Layouts: NHWC layers get `linalg.transpose` ops around them; the pass
    then moves transposes through element-wise ops, padding and pooling and
    cancels inverse pairs, so that a chain of NHWC layers runs in NCHW with
    one transpose at each end. Anything not recognised stays as it is, and
    the result verifies. `verbose` emits a remark per raised layer.
  }];
  let dependentDialects = ["::mlir::sparsenn::SparseNNDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect"];
  let options = [
    Option<"verbose", "verbose", "bool", /*default=*/"false",
           "Emit a remark per raised layer">,
  ];
}

def SparseNNLowerTrainingOpsPass
    : Pass<"sparsenn-lower-training-ops", "::mlir::func::FuncOp"> {
  let summary = "Lower learnable pruning and the sparsity loss to upstream ops";
  let description = [{
    Seed 003 [0194]-[0219]: with a sparsity parameter that is a value (a
    function argument during training), `sparsenn.prune` and
    `sparsenn.sparsity_loss` are computed at run time. Lowers to linalg /
    arith / math / scf on tensors, with the statistics in f64:
    `prune <quantile>` (FIG. 7a/7b, any granularity: exactly
    round_half_even(s^φ·G) of the G groups with the smallest saliency
    Reduction(|w|) are pruned, ties to the lower row-major group index, as
    python/sparsenn/pruning.py; no sort: the k-th smallest saliency is found
    by bisection over its IEEE bit pattern, one counting reduction per bit,
    and ties by a bisection over the group index), `prune <gaussian>`
    (FIG. 7c, eq. 3-4: mean and population std of the weights, threshold
    Ψ·√2·erfinv(s^φ)), `prune <gumbel>` of any granularity (FIG. 7d,
    eq. 7-10, on the elements' or the zero-padded groups' reductions of
    |w − μ|) and `sparsity_loss` (eq. 13-15). Quantile pruners on weights
    other than f16 / bf16 / f32 / f64 are refused with an error naming the
    op. `sparsenn-lower-to-llvm` runs this
    pass, so `sparse-run` executes these ops.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def SparseNNGenerateTrainStepPass
    : Pass<"sparsenn-generate-train-step", "::mlir::ModuleOp"> {
  let summary = "Generate a compiled SGD training step from a forward function";
  let description = [{
    Seed 000 [0053]-[0067], seed 003 [0194]-[0219]. From the forward
    function `function` (arguments marked `sparsenn.trainable` — weights,
    biases — and `sparsenn.duty_cycle` — k-winners state — one result, the
    logits [B, C]) generates

    ```
    @<function>_train_step(<forward's arguments>..., %targets: [B, C],
                           %momenta (one per trainable argument)...)
        -> (%loss, %new_trainables..., %new_momenta..., %new_duty_cycles...)
    ```

    loss = mean softmax cross-entropy against the targets (rows summing to
    1) + `l1`·Σ|W| over weights of rank ≥ 2 (eq. 11); an analytic backward
    pass (sparsenn.linear on [B, in], sparsenn.conv2d with groups 1,
    stride 1, dilation 1 and any padding, relu as max(x, 0) in arith or
    linalg.generic, sparsenn.kwinners with the gradient through the winners
    only, linalg.pooling_nchw_max with non-overlapping windows, flatten as
    tensor.collapse_shape, arith.addf, and sparsenn.prune with a learnable
    sparsity parameter (seed 003 [0063], [0214]): straight-through for the
    kept weights, plus for the Gaussian (eq. 3-4) and Gumbel (eq. 7-10, any
    granularity) pruners the gradient of the sigmoid relaxation
    σ((score − τ)/(`temperature`·scale)) through the differentiable
    threshold τ to w and s (python/sparsenn/pruning.py prune_ste); the
    quantile pruners' s is updated directly by the gradient of the sparsity
    loss alone, [0214]); the optional sparsity loss of eq. 13/15 (`alpha`,
    `theta`); SGD with momentum, v' = μ·v + g, w' = w − lr·v', for weights
    and sparsity parameters.
    Weights read by a layer with a `sparsity` fact keep their zeros (fixed
    fan-in, seed 000 [0057]); duty cycles are updated with eq. 1 (`duty-alpha`)
    from the batch's k-winners outputs. Any other op on the gradient path is
    refused with an error naming it.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect"];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"forward\"",
           "The forward function">,
    Option<"lr", "lr", "double", /*default=*/"0.01", "Learning rate">,
    Option<"momentum", "momentum", "double", /*default=*/"0.9",
           "SGD momentum">,
    Option<"l1", "l1", "double", /*default=*/"0.0",
           "L1 penalty on weights of rank >= 2 (seed 003 eq. 11)">,
    Option<"dutyAlpha", "duty-alpha", "double", /*default=*/"0.001",
           "alpha of the duty-cycle update (seed 000 eq. 1)">,
    Option<"alpha", "alpha", "double", /*default=*/"-1.0",
           "Sparsity-loss weighting alpha of seed 003 eq. 13 (negative: no "
           "sparsity loss)">,
    Option<"theta", "theta", "double", /*default=*/"0.0",
           "Maximum sparsity theta of eq. 15 (0: eq. 13)">,
    Option<"temperature", "temperature", "double", /*default=*/"0.1",
           "Temperature of the Gaussian pruner's sigmoid relaxation, "
           "relative to the weights' std">,
  ];
}

def SparseNNFinalizeTrainingPass
    : Pass<"sparsenn-finalize-training", "::mlir::ModuleOp"> {
  let summary = "Bind trained parameters and freeze the learned sparsity";
  let description = [{
    Seed 003 step 1014 (FIG. 10): binds the trained values of the forward
    function's arguments marked `sparsenn.trainable` / `sparsenn.duty_cycle`
    / `sparsenn.running_stat` (`<params>/arg<i>.npy`, f32, the argument's
    shape: what a training driver writes) as constants, removes those
    arguments and the generated `<function>_train_step`, then evaluates the
    now-constant `sparsenn.prune` ops into pruned constant weights (with the
    learned s) and canonicalises. Every `sparsenn.batch_norm` takes its
    running statistics (inference form) and, when the layer before it
    (linear or conv2d) has constant f32 weights and feeds only it, folds
    into that layer's weights and bias (W·γ/√(v + ε), (b − m)·γ/√(v + ε) + β;
    zeros stay zeros). The result is inference IR ready for group pruning,
    SPGC8 compression and channel propagation. A missing or mismatching file is
    an error naming the argument and the file.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"forward\"",
           "The forward function">,
    Option<"params", "params", "std::string", /*default=*/"\".\"",
           "Directory of the trained values (arg<i>.npy)">,
  ];
}

#endif // SPARSENN_DIALECT_SPARSENN_TRANSFORMS_PASSES_TD
