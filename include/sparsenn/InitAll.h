//===- InitAll.h - one registration point for every tool --------*- C++ -*-===//
//
// Every sparsenn tool (sparse-opt, sparse-run, downstream compilers) calls
// these so that they all see the same dialects, passes and pipelines.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_INITALL_H
#define SPARSENN_INITALL_H

// registerSparseNNExternalModels: the interface models for upstream ops.
#include "sparsenn/Interfaces/ExternalModels.h"

namespace mlir {
class DialectRegistry;
namespace sparsenn {

/// Registers the sparsenn dialect (for hosts that bring the upstream ones)
/// and the interface models this project attaches to
/// upstream ops (registerSparseNNExternalModels, ExternalModels.h).
void registerSparseNNDialect(DialectRegistry &registry);

/// Registers sparsenn plus the upstream dialects, their external interface
/// models and extensions (func, arith, math, tensor, linalg, tosa, scf, cf,
/// affine, memref, bufferization, vector, llvm, gpu, nvvm and the rest).
void registerAllDialects(DialectRegistry &registry);

/// Registers the sparsenn passes and pipelines (global pass registry),
/// together with the upstream passes the pipelines are made of
/// (canonicalize, one-shot-bufferize, the conversions to LLVM, ...). Running
/// `sparsenn-lower-to-llvm` also needs the upstream dialects' interface
/// models (bufferization) in the context: registerAllDialects above, or the
/// host's own.
void registerSparseNNPassesAndPipelines();

/// Registers the sparsenn passes plus every upstream pass.
void registerAllPasses();

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_INITALL_H
