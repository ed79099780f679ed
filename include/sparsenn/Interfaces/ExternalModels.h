//===- ExternalModels.h - interface models for upstream ops -----*- C++ -*-===//
//
// Attaches this project's interfaces to the upstream ops the importers
// produce (arith, linalg, tensor) and to the sparsenn ops whose models live
// outside the dialect library (their adjoints). Every tool calls it through
// `registerAllDialects` (InitAll.h); a host compiler that registers the
// dialect itself calls it once on its registry.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_INTERFACES_EXTERNALMODELS_H
#define SPARSENN_INTERFACES_EXTERNALMODELS_H

namespace mlir {
class DialectRegistry;
namespace sparsenn {

/// ChannelPropagationOpInterface for arith, linalg and tensor ops.
void registerChannelPropagationExternalModels(DialectRegistry &registry);
/// DifferentiableOpInterface for arith, linalg and tensor ops.
void registerDifferentiableExternalModels(DialectRegistry &registry);
/// DifferentiableOpInterface for the sparsenn ops (their adjoints build
/// linalg code and live with the train-step generator).
void registerSparseNNAdjointModels(DialectRegistry &registry);

/// All of the above.
void registerSparseNNExternalModels(DialectRegistry &registry);

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_INTERFACES_EXTERNALMODELS_H
