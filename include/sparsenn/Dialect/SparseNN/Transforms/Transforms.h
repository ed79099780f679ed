//===- Transforms.h - sparsenn rewrite pattern libraries --------*- C++ -*-===//
//
// The pattern libraries behind `sparsenn-import`, for hosts that run them
// in their own pattern sets (with their own patterns, or a driver of their
// own choosing).
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_DIALECT_SPARSENN_TRANSFORMS_TRANSFORMS_H
#define SPARSENN_DIALECT_SPARSENN_TRANSFORMS_TRANSFORMS_H

namespace mlir {
class RewritePatternSet;
namespace sparsenn {

/// linalg on tensors to sparsenn layers: contractions to sparsenn.linear,
/// NCHW / NHWC (depthwise) convolutions to sparsenn.conv2d, relu as a select
/// to max, NHWC max pooling to NCHW, per-feature adds into the layer's bias.
/// `verbose`: a remark per raised layer.
void populateLinalgRaisingPatterns(RewritePatternSet &patterns,
                                   bool verbose = false);

/// TOSA to sparsenn layers: conv2d, depthwise_conv2d, matmul, clamp as
/// relu, max pooling, flattening reshapes, transposes.
void populateTosaRaisingPatterns(RewritePatternSet &patterns,
                                 bool verbose = false);

/// Moves transposes through element-wise ops, linalg.generic and padding,
/// folds them into constants and following linear layers and cancels
/// inverse pairs.
void populateTransposeSinkingPatterns(RewritePatternSet &patterns);

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_DIALECT_SPARSENN_TRANSFORMS_TRANSFORMS_H
