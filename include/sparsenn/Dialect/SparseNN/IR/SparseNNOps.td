//===- SparseNNOps.td - sparsenn operations ----------------*- tablegen -*-===//

#ifndef SPARSENN_DIALECT_SPARSENN_IR_SPARSENNOPS_TD
#define SPARSENN_DIALECT_SPARSENN_IR_SPARSENNOPS_TD

include "sparsenn/Dialect/SparseNN/IR/SparseNNTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/OpAsmInterface.td"
include "sparsenn/Interfaces/ChannelPropagationOpInterface.td"
include "sparsenn/Interfaces/DifferentiableOpInterface.td"
include "sparsenn/Interfaces/LayerOpInterface.td"

def SparseNN_FloatTensor : RankedTensorOf<[AnyFloat]>;
def SparseNN_FloatScalar : 0DTensorOf<[AnyFloat]>;
def SparseNN_MaskTensor : RankedTensorOf<[I1]>;
def SparseNN_Weights : AnyTypeOf<[SparseNN_FloatTensor, SparseNN_SPGC8Type],
    "float tensor or SPGC8-compressed weights">;

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

def SparseNN_LinearOp : SparseNN_Op<"linear", [Pure,
    DeclareOpInterfaceMethods<SparseNN_LayerOpInterface,
                              ["describeOpaqueWeights"]>]> {
  let summary = "fully connected layer with optionally sparse weights";
  let description = [{
    `y = x Wᵀ + b` over the last axis of `input` (`[..., in]` → `[..., out]`)
    with weights `[out, in]`. The weights may be a float tensor or
    SPGC8-compressed weights (their dequantised value is used).

    `sparsity` records facts about the weights (density, fixed fan-in, seed
    000 [0041]-[0044]); `kernel` is the storage format the kernel-selection
    pass chose for the native kernel. Neither changes the value computed.

    ```mlir
    %y = sparsenn.linear %x, %w, %b {sparsity = #sparsenn.sparsity<density = 1.000000e-01, fan_in = 8>}
        : tensor<4x80xf32>, tensor<32x80xf32>, tensor<32xf32> -> tensor<4x32xf32>
    ```
  }];
  let arguments = (ins SparseNN_FloatTensor:$input,
                       SparseNN_Weights:$weight,
                       Optional<RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[1]>]>>:$bias,
                       OptionalAttr<SparseNN_SparsityAttr>:$sparsity,
                       OptionalAttr<SparseNN_KernelFormatAttr>:$kernel);
  let results = (outs SparseNN_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,`
    type($weight) (`,` type($bias)^)? `->` type($output)
  }];
  let hasVerifier = 1;
}

def SparseNN_Conv2DOp : SparseNN_Op<"conv2d", [Pure,
    DeclareOpInterfaceMethods<SparseNN_LayerOpInterface,
                              ["describeOpaqueWeights", "getLayerGroups",
                               "setLayerGroups"]>]> {
  let summary = "2-D convolution (NCHW) with optionally sparse filters";
  let description = [{
    PyTorch-convention convolution: input `[N, C_in, H, W]`, weights
    `[C_out, C_in/groups, kH, kW]`, optional bias `[C_out]`, result
    `[N, C_out, H_out, W_out]` with
    `H_out = (H + pad_top + pad_bottom - dil_h·(kH-1) - 1) / stride_h + 1`.
    `padding` is `[top, bottom, left, right]`. Weights may be SPGC8-compressed
    (groups of 16 run along C_in, seed 003 [0138]).

    ```mlir
    %y = sparsenn.conv2d %x, %w {padding = array<i64: 1, 1, 1, 1>}
        : tensor<1x1x28x28xf32>, tensor<64x1x5x5xf32> -> tensor<1x64x26x26xf32>
    ```
  }];
  let arguments = (ins
      RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[4]>]>:$input,
      SparseNN_Weights:$weight,
      Optional<RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[1]>]>>:$bias,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$padding,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
      DefaultValuedAttr<I64Attr, "1">:$groups,
      OptionalAttr<SparseNN_SparsityAttr>:$sparsity,
      OptionalAttr<SparseNN_KernelFormatAttr>:$kernel);
  let results = (outs RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[4]>]>:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,`
    type($weight) (`,` type($bias)^)? `->` type($output)
  }];
  let hasVerifier = 1;
}

def SparseNN_Conv2DBackwardInputOp : SparseNN_Op<"conv2d_backward_input",
    [Pure]> {
  let summary = "input gradient of a 2-D convolution (groups 1)";
  let description = [{
    The gradient of `sparsenn.conv2d` (groups 1) with respect to its input,
    for a training step: `output_grad` `[N, C_out, OH, OW]`, the layer's
    `weight` `[C_out, C_in, kH, kW]`, result `[N, C_in, H, W]` with

    `dx[n, c, y·s_h + i·d_h − p_top, x·s_w + j·d_w − p_left] +=
     dy[n, o, y, x] · w[o, c, i, j]`

    (terms outside the input dropped). `strides`, `padding` (`[top, bottom,
    left, right]`) and `dilations` are the forward convolution's; the
    result type gives H and W (several sizes give one OH when the stride is
    above 1). Lowered to the runtime's GEMM + col2im kernel.

    ```mlir
    %dx = sparsenn.conv2d_backward_input %dy, %w {padding = array<i64: 1, 1, 1, 1>}
        : tensor<8x64x28x28xf32>, tensor<64x32x3x3xf32> -> tensor<8x32x28x28xf32>
    ```
  }];
  let arguments = (ins
      RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[4]>]>:$output_grad,
      RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[4]>]>:$weight,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$padding,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations);
  let results = (outs RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[4]>]>:$input_grad);
  let assemblyFormat = [{
    $output_grad `,` $weight attr-dict `:` type($output_grad) `,`
    type($weight) `->` type($input_grad)
  }];
  let hasVerifier = 1;
}

def SparseNN_Conv2DBackwardWeightOp : SparseNN_Op<"conv2d_backward_weight",
    [Pure]> {
  let summary = "weight gradient of a 2-D convolution (groups 1)";
  let description = [{
    The gradient of `sparsenn.conv2d` (groups 1) with respect to its weights,
    for a training step: the layer's `input` `[N, C_in, H, W]`,
    `output_grad` `[N, C_out, OH, OW]`, result `[C_out, C_in, kH, kW]` with

    `dw[o, c, i, j] = Σ_(n, y, x) dy[n, o, y, x] ·
                      x[n, c, y·s_h + i·d_h − p_top, x·s_w + j·d_w − p_left]`

    (terms outside the input are 0). With `mask` (the weights' shape), the
    result is that sum where `mask` ≠ 0 and 0 elsewhere: a fixed fan-in
    layer (US 2025/0252312 A1 [0057]) needs no gradient for its zero
    weights, and the runtime kernel then does only the mask's work
    (stride 1, dilation 1). The result type gives kH and kW.

    ```mlir
    %dw = sparsenn.conv2d_backward_weight %x, %dy mask %w
        : tensor<64x64x12x12xf32>, tensor<64x64x8x8xf32>, tensor<64x64x5x5xf32>
          -> tensor<64x64x5x5xf32>
    ```
  }];
  let arguments = (ins
      RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[4]>]>:$input,
      RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[4]>]>:$output_grad,
      Optional<RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[4]>]>>:$mask,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$padding,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations);
  let results = (outs RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[4]>]>:$weight_grad);
  let assemblyFormat = [{
    $input `,` $output_grad (`mask` $mask^)? attr-dict `:` type($input) `,`
    type($output_grad) (`,` type($mask)^)? `->` type($weight_grad)
  }];
  let hasVerifier = 1;
}

def SparseNN_BatchNormOp : SparseNN_Op<"batch_norm", [Pure,
    AllTypesMatch<["gamma", "beta", "running_mean", "running_var"]>,
    AllTypesMatch<["input", "output"]>]> {
  let summary = "batch normalisation over the batch and spatial axes";
  let description = [{
    Per channel c (axis 1 of a `[N, C]` or `[N, C, H, W]` input),
    `y = (x − m_c) / √(v_c + ε) · γ_c + β_c` as PyTorch's `BatchNorm1d/2d`:
    with `training`, m and v are the batch's mean and population variance
    over every axis but 1; otherwise the `running_mean` / `running_var`
    operands. The running statistics are operands so that a train step can
    update them (`sparsenn-generate-train-step`: with `momentum` μ,
    `m ← (1 − μ)·m + μ·mean`, `v ← (1 − μ)·v + μ·var·M/(M − 1)` with M the
    elements per channel, PyTorch's update) and the inference form can use
    them. Seed 000 and Numenta's sparse CNNs put one after each sparse
    conv2d and linear layer. Lowered by `sparsenn-lower-training-ops`
    (per-channel arithmetic in f64).

    ```mlir
    %y = sparsenn.batch_norm %x, %gamma, %beta, %mean, %var {epsilon = 1.0e-05, momentum = 0.1, training}
        : tensor<64x32x12x12xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins
      SparseNN_FloatTensor:$input,
      RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[1]>]>:$gamma,
      RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[1]>]>:$beta,
      RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[1]>]>:$running_mean,
      RankedTensorOf<[AnyFloat], [HasAnyRankOfPred<[1]>]>:$running_var,
      DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon,
      DefaultValuedAttr<F64Attr, "0.1">:$momentum,
      UnitAttr:$training);
  let results = (outs SparseNN_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta `,` $running_mean `,` $running_var attr-dict
    `:` type($input) `,` type($gamma)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// k-winners (seed 000)
//===----------------------------------------------------------------------===//

def SparseNN_KWinnersOp : SparseNN_Op<"kwinners", [Pure,
    DeclareOpInterfaceMethods<SparseNN_ChannelPropagationOpInterface,
                              ["shrinkToKeptChannels"]>]> {
  let summary = "k-winners-take-all activation with boosting";
  let description = [{
    Keeps the `k` largest values of each selection domain and zeros the rest
    (seed 000 [0045]-[0047], [0060]-[0065], [0073]-[0077]). Input `[B, F]` or
    `[B, C, H, W]`; dimension 0 is the batch. Selection domains by `mode`:

    | mode      | domain                                           | n       |
    |-----------|--------------------------------------------------|---------|
    | `global`  | all non-batch elements of a sample               | ∏ dims[1:] |
    | `group`   | consecutive blocks of `group_size` of a sample ([0046]) | group_size |
    | `local`   | the channels at one (h, w) (rank 4)              | C       |
    | `channel` | the H×W positions of one channel (FIG. 9B, rank 4) | H·W   |

    `k` is a count or, with `density`, `round_half_even(density · n)`.

    Boosting (eq. 2, 4): with `boost_strength` β > 0 and the `duty_cycle`
    operand d (`[F]` for rank 2, `[C]` for rank 4; per channel in 2-D, eq. 3),
    winners are ranked by `x · exp(β(â − d))` with target density `â = k / n`;
    the output keeps the unboosted `x` of the winners.

    Ties: with `break_ties` exactly `k` winners and the lower flat index wins
    a tie; otherwise every value ≥ the k-th largest (ranking) value wins.
    With `relu`, values ≤ 0 never win.

    ```mlir
    %y = sparsenn.kwinners <global> %x duty_cycle %d k = 8 boost = 1.5 break_ties
        : tensor<2x64xf32>, tensor<64xf32> -> tensor<2x64xf32>
    ```
  }];
  let arguments = (ins SparseNN_FloatTensor:$input,
                       Optional<SparseNN_FloatTensor>:$duty_cycle,
                       SparseNN_KWinnersModeAttr:$mode,
                       OptionalAttr<I64Attr>:$k,
                       OptionalAttr<F64Attr>:$density,
                       OptionalAttr<I64Attr>:$group_size,
                       OptionalAttr<F64Attr>:$boost_strength,
                       UnitAttr:$break_ties,
                       UnitAttr:$relu);
  let results = (outs SparseNN_FloatTensor:$output);
  let assemblyFormat = [{
    $mode $input (`duty_cycle` $duty_cycle^)?
    (`k` `=` $k^)? (`density` `=` $density^)?
    (`group_size` `=` $group_size^)? (`boost` `=` $boost_strength^)?
    (`break_ties` $break_ties^)? (`relu` $relu^)?
    attr-dict `:` type($input) (`,` type($duty_cycle)^)? `->` type($output)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let extraClassDeclaration = [{
    /// Size n of one selection domain.
    int64_t getDomainSize();
    /// Number of selection domains per sample.
    int64_t getNumDomainsPerSample();
    /// The effective k (from `k` or `density`).
    int64_t getEffectiveK();
    /// β, 0 when absent.
    double getBoostStrengthOrZero() {
      return getBoostStrength() ? getBoostStrength()->convertToDouble() : 0.0;
    }
    /// Target density â = k / n used by boosting (eq. 2, 4).
    double getTargetDensity() {
      return double(getEffectiveK()) / double(getDomainSize());
    }
  }];
}

def SparseNN_ThresholdOp : SparseNN_Op<"threshold",
    [Pure, AllTypesMatch<["input", "output"]>,
     DeclareOpInterfaceMethods<SparseNN_ChannelPropagationOpInterface,
                               ["foldChannelConstant"]>]> {
  let summary = "threshold form of k-winners";
  let description = [{
    Keeps every value strictly greater than `threshold` and zeros the rest
    (seed 000 [0045]: the winners are the units whose activation exceeds a
    threshold rather than the k largest).

    ```mlir
    %y = sparsenn.threshold %x above 5.000000e-01 : tensor<2x64xf32>
    ```
  }];
  let arguments = (ins SparseNN_FloatTensor:$input, F64Attr:$threshold);
  let results = (outs SparseNN_FloatTensor:$output);
  let assemblyFormat = "$input `above` $threshold attr-dict `:` type($input)";
}

def SparseNN_DutyCycleUpdateOp : SparseNN_Op<"duty_cycle_update",
    [Pure]> {
  let summary = "update of the k-winners duty cycles (eq. 1, 3)";
  let description = [{
    Returns the duty cycles after one batch of k-winners outputs
    `activations` (`[B, F]` or `[B, C, H, W]`). A unit is active where its
    output is non-zero. The batch activity a is the fraction of samples in
    which a unit was active; in 2-D it is per channel, the number of active
    positions of the channel divided by H·W, averaged over the batch (eq. 3).

    * Fixed form (eq. 1): `d' = (1 - alpha) · d + alpha · a`.
    * Period form (nupic.torch compatible): with batch size B, period T and
      the `seen` sample counter before this batch,
      `alpha = B / min(T, seen + B)`; the op also returns `seen + B`.

    ```mlir
    %d1 = sparsenn.duty_cycle_update %d, %y alpha = 1.000000e-02
        : tensor<64xf32>, tensor<8x64xf32> -> tensor<64xf32>
    %d2, %n2 = sparsenn.duty_cycle_update %d, %y seen %n period = 1000
        : tensor<64xf32>, tensor<8x64xf32>, tensor<i64> -> tensor<64xf32>, tensor<i64>
    ```
  }];
  let arguments = (ins SparseNN_FloatTensor:$duty_cycle,
                       SparseNN_FloatTensor:$activations,
                       Optional<0DTensorOf<[I64]>>:$seen,
                       OptionalAttr<F64Attr>:$alpha,
                       OptionalAttr<I64Attr>:$period);
  let results = (outs SparseNN_FloatTensor:$new_duty_cycle,
                      Optional<0DTensorOf<[I64]>>:$new_seen);
  let assemblyFormat = [{
    $duty_cycle `,` $activations (`seen` $seen^)?
    (`alpha` `=` $alpha^)? (`period` `=` $period^)? attr-dict
    `:` type($duty_cycle) `,` type($activations) (`,` type($seen)^)?
    `->` type(results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Pruning and masks (seed 003)
//===----------------------------------------------------------------------===//

def SparseNN_PruneOp : SparseNN_Op<"prune", [Pure]> {
  let summary = "pruner logic with a learnable sparsity parameter";
  let description = [{
    Prunes `weights` with the raw sparsity parameter `sparsity` (a 0-d
    tensor, s_j of seed 003) and returns the pruned weights and the keep mask
    (seed 003 FIG. 7a-7d, eq. 1-10). `normalization` maps s to
    s^φ ∈ [0, 1]: `sigmoid`, `hard_sigmoid` (clamp(s/6 + 1/2, 0, 1)) or
    `none`.

    * `quantile` + `element` (FIG. 7a): prune exactly round(s^φ·N) of the N
      coefficients with the smallest |w|, ties to the lower flat index.
    * `quantile` + `group` / `input_channel` / `output_filter` (FIG. 7b):
      the saliency of a group is `reduction` (max or mean) of |w| over it;
      the same quantile rule runs over groups and the group mask is expanded
      by nearest-neighbour upsampling. `group_shape` has one entry per weight
      dimension; remainder groups are zero-padded for the reduction only.
      `input_channel` groups are `[:, c, ...]`, `output_filter` `[o, ...]`.
    * `gaussian` (FIG. 7c, eq. 3-4): `τ − μ = Ψ·√2·erfinv(s^φ)` with μ, Ψ the
      mean and standard deviation of w; keep `|w − μ| > τ − μ`. Element
      granularity only.
    * `gumbel` (FIG. 7d, eq. 7-10): on the groups' `reduction` of |w − μ|,
      β = std·√6/π, φ = mean − β·γ, τ = φ − β·log(log(1/s^φ)); keep groups
      whose reduction exceeds τ.

    Shapes never change: pruned coefficients become zero.

    ```mlir
    %p, %m = sparsenn.prune <quantile> %w, %s {granularity = #sparsenn.granularity<group>, group_shape = array<i64: 1, 16>}
        : tensor<32x64xf32>, tensor<f32> -> tensor<32x64xf32>, tensor<32x64xi1>
    ```
  }];
  let arguments = (ins
      SparseNN_FloatTensor:$weights, SparseNN_FloatScalar:$sparsity,
      SparseNN_PruneMethodAttr:$method,
      DefaultValuedAttr<SparseNN_PruneGranularityAttr,
                        "::mlir::sparsenn::PruneGranularity::element">:$granularity,
      OptionalAttr<DenseI64ArrayAttr>:$group_shape,
      DefaultValuedAttr<SparseNN_ReductionAttr,
                        "::mlir::sparsenn::Reduction::max">:$reduction,
      DefaultValuedAttr<SparseNN_NormalizationAttr,
                        "::mlir::sparsenn::Normalization::sigmoid">:$normalization);
  let results = (outs SparseNN_FloatTensor:$pruned, SparseNN_MaskTensor:$mask);
  let assemblyFormat = [{
    $method $weights `,` $sparsity attr-dict `:` type($weights) `,`
    type($sparsity) `->` type($pruned) `,` type($mask)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let extraClassDeclaration = [{
    /// The shape of one saliency group, one entry per weight dimension.
    ::llvm::SmallVector<int64_t> getEffectiveGroupShape();
  }];
}

def SparseNN_ApplyMaskOp : SparseNN_Op<"apply_mask",
    [Pure, AllTypesMatch<["weights", "output"]>]> {
  let summary = "zero the coefficients where a mask is false";
  let description = [{
    `output = mask ? weights : 0`. Keeps masked weights at zero during training
    (seed 000 [0057]: fixed fan-in masks are re-applied after each update).

    ```mlir
    %w1 = sparsenn.apply_mask %w, %m : tensor<32x64xf32>, tensor<32x64xi1>
    ```
  }];
  let arguments = (ins SparseNN_FloatTensor:$weights, SparseNN_MaskTensor:$mask);
  let results = (outs SparseNN_FloatTensor:$output);
  let assemblyFormat = [{
    $weights `,` $mask attr-dict `:` type($weights) `,` type($mask)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def SparseNN_SparsityLossOp : SparseNN_Op<"sparsity_loss",
    [Pure, AllTypesMatch<["cross_entropy", "loss"]>]> {
  let summary = "sparsity loss of seed 003 (eq. 13-15)";
  let description = [{
    With the normalised per-layer sparsity parameters s^φ_j and the
    coefficient counts |w_j| (`counts`), the network sparsity is
    `c = Σ_j s^φ_j·|w_j| / Σ_j |w_j|` (eq. 14). The loss is
    `L_sp = −alpha·L_ce·log(1 − c) − (1 − alpha)·log(c)` (eq. 13), with
    `c / theta` in place of c when a maximum sparsity `theta` is given
    (eq. 15). `cross_entropy` may be a scalar or per-sample tensor; the
    result has its type.

    ```mlir
    %l = sparsenn.sparsity_loss %ce, %s0, %s1 {alpha = 5.000000e-01 : f64, counts = array<i64: 1600, 51200>}
        : tensor<f32>, tensor<f32>, tensor<f32> -> tensor<f32>
    ```
  }];
  let arguments = (ins SparseNN_FloatTensor:$cross_entropy,
                       Variadic<SparseNN_FloatScalar>:$sparsities,
                       F64Attr:$alpha,
                       OptionalAttr<F64Attr>:$theta,
                       DenseI64ArrayAttr:$counts,
                       DefaultValuedAttr<SparseNN_NormalizationAttr,
                           "::mlir::sparsenn::Normalization::sigmoid">:$normalization);
  let results = (outs SparseNN_FloatTensor:$loss);
  let assemblyFormat = [{
    $cross_entropy `,` $sparsities attr-dict `:` type($cross_entropy) `,`
    type($sparsities) `->` type($loss)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Quantisation and SPGC8 compression (seed 003 [0100]-[0109])
//===----------------------------------------------------------------------===//

def SparseNN_QuantizeOp : SparseNN_Op<"quantize", [Pure]> {
  let summary = "symmetric per-output-channel quantisation";
  let description = [{
    `q = clamp(round_half_away(w / scale[o]), −(2^(D−1) − 1), 2^(D−1) − 1)`
    where o indexes dimension `axis` (default 0, the output channel) and D is
    the result's integer width (8 or 16). A zero scale gives zero.

    ```mlir
    %q = sparsenn.quantize %w, %scales : tensor<32x64xf32>, tensor<32xf32> -> tensor<32x64xi8>
    ```
  }];
  let arguments = (ins SparseNN_FloatTensor:$input,
                       RankedTensorOf<[F32], [HasAnyRankOfPred<[1]>]>:$scales,
                       DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs RankedTensorOf<[I8, I16]>:$output);
  let assemblyFormat = [{
    $input `,` $scales attr-dict `:` type($input) `,` type($scales) `->`
    type($output)
  }];
  let hasVerifier = 1;
}

def SparseNN_DequantizeOp : SparseNN_Op<"dequantize", [Pure]> {
  let summary = "inverse of quantize: w = q · scale[o]";
  let description = [{
    ```mlir
    %w = sparsenn.dequantize %q, %scales : tensor<32x64xi8>, tensor<32xf32> -> tensor<32x64xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8, I16]>:$input,
                       RankedTensorOf<[F32], [HasAnyRankOfPred<[1]>]>:$scales,
                       DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs SparseNN_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $scales attr-dict `:` type($input) `,` type($scales) `->`
    type($output)
  }];
  let hasVerifier = 1;
}

def SparseNN_CompressedConstantOp : SparseNN_Op<"compressed_constant",
    [Pure]> {
  let summary = "SPGC8-encoded constant weights with per-channel scales";
  let description = [{
    `data` is the SPGC8 raw stream of the weights in the traversal of the
    result type (all header codes, then the bit-plane bodies; docs/spgc8.md);
    `scales` holds one float per output channel (dimension 0) so that the
    dequantised weight is `q · scale[o]`. The verifier decodes the headers and
    checks that `data` has exactly the stream's length.

    ```mlir
    %c = sparsenn.compressed_constant dense<0> : tensor<4xi8>,
        scales dense<1.0> : tensor<4xf32> : !sparsenn.spgc8<4x16xi8>
    ```
  }];
  let arguments = (ins ElementsAttr:$data, ElementsAttr:$scales);
  let results = (outs SparseNN_SPGC8Type:$output);
  let assemblyFormat =
      "$data `,` `scales` $scales attr-dict `:` qualified(type($output))";
  let hasVerifier = 1;
}

def SparseNN_DecompressOp : SparseNN_Op<"decompress", [Pure]> {
  let summary = "decode SPGC8-compressed weights to a dense tensor";
  let description = [{
    Decodes the weights. With a float result the per-channel scales are
    applied (dequantised weights); with an integer result of the type's bit
    depth the raw coefficients are returned. Folds to a dense constant when
    the operand is a `compressed_constant`.

    ```mlir
    %w = sparsenn.decompress %c : !sparsenn.spgc8<4x16xi8> -> tensor<4x16xf32>
    ```
  }];
  let arguments = (ins SparseNN_SPGC8Type:$input);
  let results = (outs RankedTensorOf<[AnyFloat, I8, I16]>:$output);
  let assemblyFormat =
      "$input attr-dict `:` qualified(type($input)) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // SPARSENN_DIALECT_SPARSENN_IR_SPARSENNOPS_TD
