//===- TileGPULoops.cpp - shape host parallel loops for GPU mapping
//--------===//
//
// sparsenn-tile-gpu-loops: every outermost scf.parallel on the host (what
// convert-linalg-to-parallel-loops makes of the dense layers) is collapsed
// into one dimension and tiled by `block-size`, so that upstream's
// gpu-map-parallel-loops maps the tile loop to blocks and the intra-tile
// loop to the threads of a block, whatever the rank of the original nest.
// Loops with reductions (results) and loops already inside a gpu.launch are
// left alone.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Conversion/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_SPARSENNTILEGPULOOPSPASS
#include "sparsenn/Conversion/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;

namespace {

struct SparseNNTileGPULoopsPass
    : public sparsenn::impl::SparseNNTileGPULoopsPassBase<
          SparseNNTileGPULoopsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (blockSize < 1 || blockSize > 1024) {
      emitError(UnknownLoc::get(&getContext()),
                "block-size must be in [1, 1024], got ")
          << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (loop->getParentOfType<scf::ParallelOp>() ||
          loop->getParentOfType<gpu::LaunchOp>() || loop.getNumResults() != 0)
        return;
      loops.push_back(loop);
    });
    IRRewriter rewriter(&getContext());
    for (scf::ParallelOp loop : loops) {
      if (loop.getNumLoops() > 1) {
        Operation *next = loop->getNextNode();
        std::vector<unsigned> all(loop.getNumLoops());
        for (unsigned i = 0; i < all.size(); ++i)
          all[i] = i;
        rewriter.setInsertionPoint(loop);
        collapseParallelLoops(rewriter, loop, {all});
        loop = cast<scf::ParallelOp>(next->getPrevNode());
      }
      scf::tileParallelLoop(loop, {static_cast<int64_t>(blockSize)},
                            /*noMinMaxBounds=*/true);
    }
  }
};

} // namespace
