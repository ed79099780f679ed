//===- SparseNNToGPU.cpp - sparse layers and k-winners as GPU kernels -----===//
//
// convert-sparsenn-to-gpu: hand-written gpu.launch kernels for the ops whose
// CPU lowering calls runtime kernels. Weights are packed at compile time by
// the runtime's own packers (runtime/include/sparsenn/Runtime/Kernels.h), as
// convert-sparsenn-to-linalg does for the CPU, and become constants that
// sparsenn-place-gpu-buffers uploads once to device memory.
//
//   linear, kernel ell           one warp per (output row, sample): lanes
//                                stride over the row's K (value, column)
//                                pairs, gather x, warp-shuffle reduction
//   linear, kernel block16       one warp per (row, sample): half-warps take
//                                alternate 1x16 blocks, lane = column in block
//   linear, kernel sparse_sparse bias init kernel, then one warp per (input
//                                column, sample) that skips zero inputs and
//                                scatters the CSC column with atomic adds
//   kwinners (all modes)         one block per selection domain: exact
//                                k-th largest ranking key by 4-pass MSB radix
//                                select (256-bin shared histograms), then a
//                                chunked pass that keeps ties in index order
//
// Everything else (dense layers, element-wise ops) is left to
// convert-sparsenn-to-linalg: a linear/conv2d with another kernel format
// loses its `kernel` attribute here so that it takes the linalg path (which
// the GPU pipeline maps to kernels) rather than a CPU runtime call.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Conversion/SparseNNToGPU/SparseNNToGPU.h"
#include "sparsenn/Conversion/Passes.h"
#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Runtime/Kernels.h"
#include "sparsenn/Runtime/SPGC8.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

#include <functional>

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_CONVERTSPARSENNTOGPUPASS
#include "sparsenn/Conversion/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

constexpr int64_t kWarp = 32;

//===----------------------------------------------------------------------===//
// Small builders
//===----------------------------------------------------------------------===//

/// a * b + c, contractible into one fma by the backend (math.fma would
/// become a libdevice call).
Value mulAdd(OpBuilder &b, Location loc, Value a, Value x, Value c) {
  auto contract = arith::FastMathFlagsAttr::get(b.getContext(),
                                                arith::FastMathFlags::contract);
  Value p = arith::MulFOp::create(b, loc, a, x, contract);
  return arith::AddFOp::create(b, loc, p, c, contract);
}

/// Index arithmetic and loads inside kernels, at one location.
struct KB {
  OpBuilder &b;
  Location loc;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, v, 32).getResult();
  }
  Value f32(double v) {
    return arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                          APFloat(static_cast<float>(v)))
        .getResult();
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value rem(Value x, Value y) { return arith::RemUIOp::create(b, loc, x, y); }
  Value min(Value x, Value y) { return arith::MinUIOp::create(b, loc, x, y); }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  Value eq(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, y);
  }
  Value load(Value m, Value i) {
    return memref::LoadOp::create(b, loc, m, ValueRange{i});
  }
  void store(Value v, Value m, Value i) {
    memref::StoreOp::create(b, loc, v, m, ValueRange{i});
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  /// Runs `body` when `cond` holds.
  void when(Value cond, function_ref<void()> body) {
    auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    body();
  }
  /// for (iv = lb; iv < ub; iv += step) with loop-carried values.
  ValueRange loop(Value lb, Value ub, Value step, ValueRange init,
                  function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto forOp = scf::ForOp::create(
        b, loc, lb, ub, step, init,
        [&](OpBuilder &nb, Location, Value iv, ValueRange args) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          SmallVector<Value> next = body(iv, args);
          scf::YieldOp::create(b, loc, next);
        });
    return forOp.getResults();
  }
  /// Sum over the 32 lanes of a warp (every lane gets the total).
  Value warpSum(Value v) {
    for (int32_t offset = kWarp / 2; offset > 0; offset /= 2) {
      auto shuffle = gpu::ShuffleOp::create(b, loc, v, offset, kWarp,
                                            gpu::ShuffleMode::XOR);
      v = arith::AddFOp::create(b, loc, v, shuffle.getShuffleResult());
    }
    return v;
  }
};

/// A flat, static, identity-layout view memref<N x T> of a memref.
Value flatView(OpBuilder &b, Location loc, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  if (type.getRank() == 1)
    return memref;
  SmallVector<ReassociationIndices> all = {
      llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()))};
  return memref::CollapseShapeOp::create(b, loc, memref, all);
}

/// The read-only buffer of a tensor, as a flat view.
Value flatBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto memType = MemRefType::get(type.getShape(), type.getElementType());
  Value buffer = bufferization::ToBufferOp::create(b, loc, memType, tensor,
                                                   /*readOnly=*/true);
  return flatView(b, loc, buffer);
}

/// A constant array packed at compile time, as a flat read-only buffer
/// (uploaded to the device once by sparsenn-place-gpu-buffers).
template <typename T>
Value packedBuffer(OpBuilder &b, Location loc, Type elt, ArrayRef<T> data) {
  // Empty arrays still need one element: memrefs of size 0 are fine, but a
  // uniform shape keeps the kernels simple.
  SmallVector<T> storage(data.begin(), data.end());
  if (storage.empty())
    storage.push_back(T());
  auto type =
      RankedTensorType::get({static_cast<int64_t>(storage.size())}, elt);
  Value c = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, ArrayRef<T>(storage)));
  return flatBuffer(b, loc, c);
}

/// The output buffer of a kernel and its flat view.
std::pair<Value, Value> outputBuffer(OpBuilder &b, Location loc,
                                     RankedTensorType type) {
  Value alloc = memref::AllocOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()));
  return {alloc, flatView(b, loc, alloc)};
}

void replaceWithBuffer(RewriterBase &rewriter, Operation *op, Value buffer,
                       RankedTensorType type) {
  auto tensor =
      bufferization::ToTensorOp::create(rewriter, op->getLoc(), type, buffer);
  tensor.setRestrict(true);
  tensor.setWritable(true);
  rewriter.replaceOp(op, tensor.getResult());
}

/// Creates `gpu.launch` with a 1-D block of `threads` and a grid of
/// (gx, gy), named sparsenn_<name>, with `workgroup` shared buffers; `body`
/// fills it (the terminator is added).
gpu::LaunchOp launch(OpBuilder &b, Location loc, StringRef name, Value gx,
                     Value gy, int64_t threads, TypeRange workgroup,
                     function_ref<void(gpu::LaunchOp)> body) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value tx = arith::ConstantIndexOp::create(b, loc, threads);
  auto op = gpu::LaunchOp::create(
      b, loc, gx, gy, one, tx, one, one, /*dynamicSharedMemorySize=*/nullptr,
      /*asyncTokenType=*/nullptr, /*asyncDependencies=*/{}, workgroup,
      /*privateAttributions=*/{}, nullptr, nullptr, nullptr,
      FlatSymbolRefAttr::get(b.getContext(), "sparsenn_kernels"),
      FlatSymbolRefAttr::get(b.getContext(), (kGPUKernelPrefix + name).str()));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&op.getBody().front());
  body(op);
  gpu::TerminatorOp::create(b, loc);
  return op;
}

MemRefType sharedType(ArrayRef<int64_t> shape, Type elt) {
  auto space = gpu::AddressSpaceAttr::get(elt.getContext(),
                                          gpu::AddressSpace::Workgroup);
  return MemRefType::get(shape, elt, MemRefLayoutAttrInterface(), space);
}

//===----------------------------------------------------------------------===//
// Linear layers
//===----------------------------------------------------------------------===//

/// f32 weights of a layer at compile time (dense constant or decoded
/// compressed constant); empty when they are not constant.
std::optional<std::vector<float>> constantWeights(LinearOp op) {
  Value w = op.getWeight();
  if (auto source = w.getDefiningOp<CompressedConstantOp>()) {
    auto type = cast<SPGC8Type>(w.getType());
    DenseElementsAttr dense = decodeCompressedConstant(
        source, RankedTensorType::get(type.getShape(),
                                      Float32Type::get(op.getContext())));
    if (!dense)
      return std::nullopt;
    return std::vector<float>(dense.getValues<float>().begin(),
                              dense.getValues<float>().end());
  }
  DenseElementsAttr attr;
  if (!matchPattern(w, m_Constant(&attr)) || !attr.getElementType().isF32())
    return std::nullopt;
  return std::vector<float>(attr.getValues<float>().begin(),
                            attr.getValues<float>().end());
}

struct LinearShape {
  int64_t rows, in, out;
};

/// Launches one warp per (unit, sample) for `units` units (output rows or
/// inputs) and `rows` samples, `warpsPerBlock` warps per block; the grid is
/// one-dimensional (x allows 2^31 - 1 blocks, y only 65535). `body` gets the
/// lane, the unit and the sample, inside `unit < units` (warp-uniform, so
/// shuffles are safe).
void warpLaunch(OpBuilder &b, Location loc, StringRef name, int64_t units,
                int64_t rows, int64_t warpsPerBlock,
                function_ref<void(Value, Value, Value)> body) {
  KB kb{b, loc};
  int64_t blocksPerRow = llvm::divideCeil(units, warpsPerBlock);
  launch(b, loc, name, kb.idx(blocksPerRow * rows), kb.idx(1),
         warpsPerBlock * kWarp, {}, [&](gpu::LaunchOp op) {
           Value tid = op.getThreadIds().x;
           Value bx = op.getBlockIds().x;
           Value warp = kb.div(tid, kb.idx(kWarp));
           Value lane = kb.rem(tid, kb.idx(kWarp));
           Value sample = kb.div(bx, kb.idx(blocksPerRow));
           Value unit = kb.add(
               kb.mul(kb.rem(bx, kb.idx(blocksPerRow)), kb.idx(warpsPerBlock)),
               warp);
           kb.when(kb.ult(unit, kb.idx(units)),
                   [&] { body(lane, unit, sample); });
         });
}

/// Lane 0 writes y[sample, o] = sum over the warp + bias[o].
void storeRow(OpBuilder &b, Location loc, LinearShape s, Value acc, Value lane,
              Value o, Value sample, Value y, Value bias) {
  KB kb{b, loc};
  Value sum = kb.warpSum(acc);
  kb.when(kb.eq(lane, kb.idx(0)), [&] {
    Value r = sum;
    if (bias)
      r = arith::AddFOp::create(b, loc, r, kb.load(bias, o));
    kb.store(r, y, kb.add(kb.mul(sample, kb.idx(s.out)), o));
  });
}

Value toIndex(OpBuilder &b, Location loc, Value v) {
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
}

/// One warp per (output row o, sample): ELL rows of K (value, column) pairs;
/// lanes stride over the pairs, gather x, reduce.
void emitEll(OpBuilder &b, Location loc, LinearShape s, Value x, Value y,
             Value bias, Value values, Value cols, int64_t k,
             int64_t warpsPerBlock) {
  KB kb{b, loc};
  warpLaunch(b, loc, "ell_linear", s.out, s.rows, warpsPerBlock,
             [&](Value lane, Value o, Value sample) {
               Value base = kb.mul(o, kb.idx(k));
               Value xBase = kb.mul(sample, kb.idx(s.in));
               Value acc =
                   kb.loop(lane, kb.idx(k), kb.idx(kWarp), {kb.f32(0)},
                           [&](Value j, ValueRange args) -> SmallVector<Value> {
                             Value p = kb.add(base, j);
                             Value v = kb.load(values, p);
                             // Columns are unsigned 16-bit.
                             Value c32 = arith::ExtUIOp::create(
                                 b, loc, b.getI32Type(), kb.load(cols, p));
                             Value c = arith::IndexCastUIOp::create(
                                 b, loc, b.getIndexType(), c32);
                             Value xv = kb.load(x, kb.add(xBase, c));
                             return {mulAdd(b, loc, v, xv, args[0])};
                           })[0];
               storeRow(b, loc, s, acc, lane, o, sample, y, bias);
             });
}

/// One warp per (row, sample): lane l takes column l % 16 of blocks
/// p = row_ptr[o] + l / 16, +2, ...
void emitBlock16(OpBuilder &b, Location loc, LinearShape s, Value x, Value y,
                 Value bias, Value rowPtr, Value blockCols, Value values,
                 int64_t warpsPerBlock) {
  KB kb{b, loc};
  warpLaunch(
      b, loc, "block16_linear", s.out, s.rows, warpsPerBlock,
      [&](Value lane, Value o, Value sample) {
        Value half = kb.div(lane, kb.idx(16));
        Value col = kb.rem(lane, kb.idx(16));
        Value p0 = toIndex(b, loc, kb.load(rowPtr, o));
        Value p1 = toIndex(b, loc, kb.load(rowPtr, kb.add(o, kb.idx(1))));
        Value xBase = kb.mul(sample, kb.idx(s.in));
        Value acc = kb.loop(
            kb.add(p0, half), p1, kb.idx(2), {kb.f32(0)},
            [&](Value p, ValueRange args) -> SmallVector<Value> {
              Value c = kb.add(toIndex(b, loc, kb.load(blockCols, p)), col);
              Value v = kb.load(values, kb.add(kb.mul(p, kb.idx(16)), col));
              // Columns past `in` hold zeros: read x only inside the row.
              Value inside = kb.ult(c, kb.idx(s.in));
              Value safe = kb.select(inside, c, kb.idx(0));
              Value xv = kb.load(x, kb.add(xBase, safe));
              xv = kb.select(inside, xv, kb.f32(0));
              return {mulAdd(b, loc, v, xv, args[0])};
            })[0];
        storeRow(b, loc, s, acc, lane, o, sample, y, bias);
      });
}

/// y = bias (or 0), then one warp per (input column i, sample) with
/// x[sample, i] != 0 adds x * W[:, i] (CSC) into y with atomics.
void emitSparseSparse(OpBuilder &b, Location loc, LinearShape s, Value x,
                      Value y, Value bias, Value colPtr, Value rowIdx,
                      Value values, int64_t warpsPerBlock) {
  KB kb{b, loc};
  int64_t total = s.rows * s.out;
  int64_t threads = warpsPerBlock * kWarp;
  launch(b, loc, "sparse_sparse_init", kb.idx(llvm::divideCeil(total, threads)),
         kb.idx(1), threads, {}, [&](gpu::LaunchOp op) {
           Value i = kb.add(kb.mul(op.getBlockIds().x, kb.idx(threads)),
                            op.getThreadIds().x);
           kb.when(kb.ult(i, kb.idx(total)), [&] {
             Value v =
                 bias ? kb.load(bias, kb.rem(i, kb.idx(s.out))) : kb.f32(0);
             kb.store(v, y, i);
           });
         });
  warpLaunch(
      b, loc, "sparse_sparse_linear", s.in, s.rows, warpsPerBlock,
      [&](Value lane, Value i, Value sample) {
        Value xv = kb.load(x, kb.add(kb.mul(sample, kb.idx(s.in)), i));
        Value nonZero = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE,
                                              xv, kb.f32(0));
        kb.when(nonZero, [&] {
          Value p0 = toIndex(b, loc, kb.load(colPtr, i));
          Value p1 = toIndex(b, loc, kb.load(colPtr, kb.add(i, kb.idx(1))));
          Value yBase = kb.mul(sample, kb.idx(s.out));
          kb.loop(kb.add(p0, lane), p1, kb.idx(kWarp), {},
                  [&](Value p, ValueRange) -> SmallVector<Value> {
                    Value o = toIndex(b, loc, kb.load(rowIdx, p));
                    Value prod =
                        arith::MulFOp::create(b, loc, kb.load(values, p), xv);
                    memref::AtomicRMWOp::create(
                        b, loc, arith::AtomicRMWKind::addf, prod, y,
                        ValueRange{kb.add(yBase, o)});
                    return {};
                  });
        });
      });
}

/// SPGC8-compressed weights decoded per warp inside the product (docs/spgc8.md
/// §2): the raw stream stays as it is in device memory. One warp per
/// (row o, sample); each pass takes 32 subsets of the row (lane = subset):
/// header code from the packed header region, body width b from `widths`,
/// a warp prefix sum of b gives every lane its body offset, the lane
/// rebuilds its 8 folded values from b bit-planes, unfolds the sign and
/// multiplies q * scale with x. `rowOffsets[o]` is the stream byte where row
/// o's bodies start (computed at compile time from the headers).
void emitSPGC8(OpBuilder &b, Location loc, LinearShape s, Value x, Value y,
               Value bias, Value stream, int64_t streamBytes, Value rowOffsets,
               Value widths, Value scales, bool perRowScales, int64_t padded,
               int headerBits, bool interleaved, int64_t warpsPerBlock) {
  KB kb{b, loc};
  Type i32 = b.getI32Type();
  int64_t subsets = padded / 8;
  warpLaunch(
      b, loc, "spgc8_linear", s.out, s.rows, warpsPerBlock,
      [&](Value lane, Value o, Value sample) {
        Value first = kb.mul(o, kb.idx(subsets));
        Value xBase = kb.mul(sample, kb.idx(s.in));
        Value scale = kb.load(scales, perRowScales ? o : kb.idx(0));
        Value lane32 = arith::IndexCastUIOp::create(b, loc, i32, lane);
        auto byteAt = [&](Value i) -> Value {
          Value inside = kb.ult(i, kb.idx(streamBytes));
          Value v = kb.load(stream, kb.select(inside, i, kb.idx(0)));
          v = arith::ExtUIOp::create(b, loc, i32, v);
          return kb.select(inside, v, kb.i32(0));
        };
        ValueRange results = kb.loop(
            kb.idx(0), kb.idx(subsets), kb.idx(kWarp),
            {kb.f32(0), toIndex(b, loc, kb.load(rowOffsets, o))},
            [&](Value chunk, ValueRange carried) -> SmallVector<Value> {
              Value sub = kb.add(chunk, lane);
              Value active = kb.ult(sub, kb.idx(subsets));
              // Header code of subset first + sub (h bits, LSB first).
              Value bit = kb.mul(kb.add(first, sub), kb.idx(headerBits));
              Value byte = kb.div(bit, kb.idx(8));
              Value word = arith::OrIOp::create(
                  b, loc, byteAt(byte),
                  arith::ShLIOp::create(b, loc, byteAt(kb.add(byte, kb.idx(1))),
                                        kb.i32(8)));
              Value shift = arith::IndexCastUIOp::create(
                  b, loc, i32, kb.rem(bit, kb.idx(8)));
              Value code = arith::AndIOp::create(
                  b, loc, arith::ShRUIOp::create(b, loc, word, shift),
                  kb.i32((1 << headerBits) - 1));
              Value width = kb.load(
                  widths,
                  arith::IndexCastUIOp::create(b, loc, b.getIndexType(), code));
              width = kb.select(active, width, kb.i32(0));
              // Inclusive prefix sum of the widths over the warp.
              Value incl = width;
              for (int32_t off = 1; off < kWarp; off *= 2) {
                auto up = gpu::ShuffleOp::create(b, loc, incl, off, kWarp,
                                                 gpu::ShuffleMode::UP);
                Value take = arith::CmpIOp::create(
                    b, loc, arith::CmpIPredicate::uge, lane32, kb.i32(off));
                incl = arith::AddIOp::create(
                    b, loc, incl,
                    kb.select(take, up.getShuffleResult(), kb.i32(0)));
              }
              Value chunkBytes =
                  gpu::ShuffleOp::create(b, loc, incl, kWarp - 1, kWarp,
                                         gpu::ShuffleMode::IDX)
                      .getShuffleResult();
              Value excl = arith::SubIOp::create(b, loc, incl, width);
              Value body = kb.add(carried[1], toIndex(b, loc, excl));
              // The 8 folded values from `width` bit-planes.
              SmallVector<Value> zeros(8, kb.i32(0));
              ValueRange folded = kb.loop(
                  kb.idx(0), toIndex(b, loc, width), kb.idx(1), zeros,
                  [&](Value plane, ValueRange u) -> SmallVector<Value> {
                    Value bits = byteAt(kb.add(body, plane));
                    Value p32 =
                        arith::IndexCastUIOp::create(b, loc, i32, plane);
                    SmallVector<Value> next;
                    for (int i = 0; i < 8; ++i) {
                      Value bitv = arith::AndIOp::create(
                          b, loc,
                          arith::ShRUIOp::create(b, loc, bits, kb.i32(i)),
                          kb.i32(1));
                      next.push_back(arith::OrIOp::create(
                          b, loc, u[i],
                          arith::ShLIOp::create(b, loc, bitv, p32)));
                    }
                    return next;
                  });
              Value acc = carried[0];
              for (int i = 0; i < 8; ++i) {
                // Unfold: even u = 2c, odd u = -2c - 1.
                Value u = folded[i];
                Value half = arith::ShRUIOp::create(b, loc, u, kb.i32(1));
                Value odd = kb.eq(arith::AndIOp::create(b, loc, u, kb.i32(1)),
                                  kb.i32(1));
                Value neg = arith::SubIOp::create(b, loc, kb.i32(-1), half);
                Value c = kb.select(odd, neg, half);
                Value q = arith::SIToFPOp::create(b, loc, b.getF32Type(), c);
                Value w = arith::MulFOp::create(b, loc, q, scale);
                // Column of value i of subset `sub` in the row.
                Value col = interleaved
                                ? kb.add(kb.add(kb.mul(kb.div(sub, kb.idx(2)),
                                                       kb.idx(16)),
                                                kb.rem(sub, kb.idx(2))),
                                         kb.idx(2 * i))
                                : kb.add(kb.mul(sub, kb.idx(8)), kb.idx(i));
                Value inside = kb.ult(col, kb.idx(s.in));
                Value xv = kb.load(
                    x, kb.add(xBase, kb.select(inside, col, kb.idx(0))));
                xv = kb.select(inside, xv, kb.f32(0));
                acc = mulAdd(b, loc, w, xv, acc);
              }
              return {acc, kb.add(carried[1], toIndex(b, loc, chunkBytes))};
            });
        storeRow(b, loc, s, results[0], lane, o, sample, y, bias);
      });
}

/// The raw SPGC8 stream of a compressed_constant as the kernel reads it,
/// with the per-row body offsets found by walking the headers.
struct SPGC8Stream {
  std::vector<int8_t> bytes;
  std::vector<int32_t> rowOffsets, widths;
  std::vector<float> scales;
  int headerBits = 0;
  int64_t padded = 0;
  bool interleaved = false;
};

FailureOr<SPGC8Stream> readSPGC8(CompressedConstantOp source, int64_t out) {
  SPGC8Type type = source.getOutput().getType();
  if (type.getShape().size() != 2)
    return failure();
  SPGC8Stream st;
  auto data = cast<ElementsAttr>(source.getData());
  for (int8_t v : data.getValues<int8_t>())
    st.bytes.push_back(v);
  for (float v : cast<ElementsAttr>(source.getScales()).getValues<float>())
    st.scales.push_back(v);
  if (st.scales.size() != 1 && static_cast<int64_t>(st.scales.size()) != out)
    return failure();
  int bits = static_cast<int>(type.getBits());
  st.headerBits = sparsenn_spgc8_header_bits(bits);
  st.padded = type.getPaddedVectorLength();
  st.interleaved = type.getLayout() == GroupLayout::interleaved;
  if (st.headerBits <= 0 || st.bytes.size() > size_t(INT32_MAX))
    return failure();
  for (int code = 0; code < 16; ++code)
    st.widths.push_back(code < (1 << st.headerBits)
                            ? std::max(0, sparsenn_spgc8_code_to_body_bits(code, bits))
                            : 0);
  int64_t perRow = st.padded / 8, total = out * perRow;
  int64_t headerBytes = llvm::divideCeil(total * st.headerBits, 8);
  if (headerBytes > static_cast<int64_t>(st.bytes.size()))
    return failure();
  int64_t offset = headerBytes;
  for (int64_t k = 0; k < total; ++k) {
    if (k % perRow == 0)
      st.rowOffsets.push_back(static_cast<int32_t>(offset));
    int64_t bit = k * st.headerBits;
    uint32_t word = static_cast<uint8_t>(st.bytes[bit / 8]);
    if (bit / 8 + 1 < static_cast<int64_t>(st.bytes.size()))
      word |= uint32_t(static_cast<uint8_t>(st.bytes[bit / 8 + 1])) << 8;
    offset += st.widths[(word >> (bit % 8)) & ((1u << st.headerBits) - 1)];
  }
  st.rowOffsets.push_back(static_cast<int32_t>(offset));
  if (offset != static_cast<int64_t>(st.bytes.size()))
    return failure();
  return st;
}

/// linear with `kernel<spgc8>` on compressed weights: decoded on the GPU.
LogicalResult lowerSPGC8Linear(LinearOp op, RewriterBase &rewriter,
                               int64_t warpsPerBlock) {
  auto source = op.getWeight().getDefiningOp<CompressedConstantOp>();
  if (!source)
    return failure();
  auto inType = op.getInput().getType();
  ArrayRef<int64_t> wShape = getWeightShape(op.getWeight().getType());
  LinearShape s{inType.getNumElements() / wShape[1], wShape[1], wShape[0]};
  FailureOr<SPGC8Stream> st = readSPGC8(source, s.out);
  if (failed(st))
    return failure();
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  OpBuilder &b = rewriter;
  auto outType = op.getOutput().getType();
  auto [alloc, y] = outputBuffer(b, loc, outType);
  Value x = flatBuffer(b, loc, op.getInput());
  Value bias = op.getBias() ? flatBuffer(b, loc, op.getBias()) : Value();
  emitSPGC8(b, loc, s, x, y, bias,
            packedBuffer<int8_t>(b, loc, b.getI8Type(), st->bytes),
            static_cast<int64_t>(st->bytes.size()),
            packedBuffer<int32_t>(b, loc, b.getI32Type(), st->rowOffsets),
            packedBuffer<int32_t>(b, loc, b.getI32Type(), st->widths),
            packedBuffer<float>(b, loc, b.getF32Type(), st->scales),
            st->scales.size() > 1, st->padded, st->headerBits, st->interleaved,
            warpsPerBlock);
  replaceWithBuffer(rewriter, op, alloc, outType);
  return success();
}

/// Rewrites a linear layer with a GPU kernel format; returns failure (the
/// layer is left for convert-sparsenn-to-linalg) when the weights are not
/// an f32 constant or the format has no GPU kernel.
LogicalResult lowerLinear(LinearOp op, RewriterBase &rewriter,
                          int64_t warpsPerBlock) {
  auto inType = op.getInput().getType();
  auto outType = op.getOutput().getType();
  if (!op.getKernel() || !inType.getElementType().isF32() ||
      !outType.getElementType().isF32() || !inType.hasStaticShape() ||
      !outType.hasStaticShape())
    return failure();
  if (op.getBias() &&
      !cast<RankedTensorType>(op.getBias().getType()).getElementType().isF32())
    return failure();
  KernelFormat format = *op.getKernel();
  if (format == KernelFormat::spgc8)
    return lowerSPGC8Linear(op, rewriter, warpsPerBlock);
  if (format != KernelFormat::ell && format != KernelFormat::block16 &&
      format != KernelFormat::sparse_sparse)
    return failure();
  std::optional<std::vector<float>> w = constantWeights(op);
  if (!w)
    return failure();
  ArrayRef<int64_t> wShape = getWeightShape(op.getWeight().getType());
  LinearShape s{inType.getNumElements() / wShape[1], wShape[1], wShape[0]};

  // Pack first: a format that does not pack leaves the IR untouched.
  std::vector<float> values;
  std::vector<int16_t> cols16;
  std::vector<int32_t> ptr, idx;
  int64_t k = 0;
  switch (format) {
  case KernelFormat::ell: {
    if (sparsenn_pack_ell_f32(w->data(), s.out, s.in, 0, nullptr, nullptr,
                              &k) != 0)
      return failure();
    values.resize(s.out * k);
    std::vector<uint16_t> cols(s.out * k);
    if (sparsenn_pack_ell_f32(w->data(), s.out, s.in, k, values.data(),
                              cols.data(), &k) != 0)
      return failure();
    cols16.assign(cols.begin(), cols.end());
    break;
  }
  case KernelFormat::block16: {
    int64_t n = 0;
    ptr.resize(s.out + 1);
    if (sparsenn_pack_block16_f32(w->data(), s.out, s.in, ptr.data(), nullptr,
                                  nullptr, &n) != 0)
      return failure();
    idx.resize(n);
    values.resize(n * 16);
    if (sparsenn_pack_block16_f32(w->data(), s.out, s.in, ptr.data(),
                                  idx.data(), values.data(), &n) != 0)
      return failure();
    break;
  }
  case KernelFormat::sparse_sparse: {
    int64_t n = 0;
    ptr.resize(s.in + 1);
    if (sparsenn_pack_csc_f32(w->data(), s.out, s.in, ptr.data(), nullptr,
                              nullptr, &n) != 0)
      return failure();
    idx.resize(n);
    values.resize(n);
    if (sparsenn_pack_csc_f32(w->data(), s.out, s.in, ptr.data(), idx.data(),
                              values.data(), &n) != 0)
      return failure();
    break;
  }
  default:
    llvm_unreachable("checked above");
  }

  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  OpBuilder &b = rewriter;
  Type f32 = b.getF32Type(), i32 = b.getI32Type(), i16 = b.getI16Type();
  auto [alloc, y] = outputBuffer(b, loc, outType);
  Value x = flatBuffer(b, loc, op.getInput());
  Value bias = op.getBias() ? flatBuffer(b, loc, op.getBias()) : Value();
  if (format == KernelFormat::ell)
    emitEll(b, loc, s, x, y, bias, packedBuffer<float>(b, loc, f32, values),
            packedBuffer<int16_t>(b, loc, i16, cols16), k, warpsPerBlock);
  else if (format == KernelFormat::block16)
    emitBlock16(b, loc, s, x, y, bias, packedBuffer<int32_t>(b, loc, i32, ptr),
                packedBuffer<int32_t>(b, loc, i32, idx),
                packedBuffer<float>(b, loc, f32, values), warpsPerBlock);
  else
    emitSparseSparse(b, loc, s, x, y, bias,
                     packedBuffer<int32_t>(b, loc, i32, ptr),
                     packedBuffer<int32_t>(b, loc, i32, idx),
                     packedBuffer<float>(b, loc, f32, values), warpsPerBlock);
  replaceWithBuffer(rewriter, op, alloc, outType);
  return success();
}

//===----------------------------------------------------------------------===//
// conv2d with sparse taps
//===----------------------------------------------------------------------===//

/// conv2d with `kernel<ell>` (sparse taps, the CPU's format): one thread per
/// output element (n, o, oh, ow), looping over the non-zero taps of filter o
/// only (tap_idx = (c * kH + r) * kW + s, packed at compile time by
/// sparsenn_pack_conv2d_taps_f32); zero padding by bounds checks.
LogicalResult lowerConvTaps(Conv2DOp op, RewriterBase &rewriter) {
  DenseElementsAttr attr;
  auto inType = op.getInput().getType();
  auto outType = op.getOutput().getType();
  if (op.getKernel() != KernelFormat::ell ||
      !matchPattern(op.getWeight(), m_Constant(&attr)) ||
      !attr.getElementType().isF32() || !inType.getElementType().isF32() ||
      !inType.hasStaticShape() || !outType.hasStaticShape())
    return failure();
  if (op.getBias() &&
      !cast<RankedTensorType>(op.getBias().getType()).getElementType().isF32())
    return failure();
  ArrayRef<int64_t> w = cast<ShapedType>(attr.getType()).getShape();
  std::vector<float> weights(attr.getValues<float>().begin(),
                             attr.getValues<float>().end());
  int64_t taps = 0;
  std::vector<int32_t> tapPtr(w[0] + 1);
  if (sparsenn_pack_conv2d_taps_f32(weights.data(), w[0], w[1], w[2], w[3],
                                    tapPtr.data(), nullptr, nullptr,
                                    &taps) != 0)
    return failure();
  std::vector<int32_t> tapIdx(taps);
  std::vector<float> tapVal(taps);
  if (sparsenn_pack_conv2d_taps_f32(weights.data(), w[0], w[1], w[2], w[3],
                                    tapPtr.data(), tapIdx.data(), tapVal.data(),
                                    &taps) != 0)
    return failure();
  ArrayRef<int64_t> in = inType.getShape(), out = outType.getShape();
  ArrayRef<int64_t> pad = op.getPadding(), stride = op.getStrides(),
                    dil = op.getDilations();
  int64_t groups = op.getGroups(), icpg = w[1], ocpg = w[0] / groups;
  int64_t kh = w[2], kw = w[3];
  int64_t total = outType.getNumElements();

  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  OpBuilder &b = rewriter;
  KB kb{b, loc};
  auto [alloc, y] = outputBuffer(b, loc, outType);
  Value x = flatBuffer(b, loc, op.getInput());
  Value bias = op.getBias() ? flatBuffer(b, loc, op.getBias()) : Value();
  Value ptr = packedBuffer<int32_t>(b, loc, b.getI32Type(), tapPtr);
  Value idx = packedBuffer<int32_t>(b, loc, b.getI32Type(), tapIdx);
  Value val = packedBuffer<float>(b, loc, b.getF32Type(), tapVal);
  const int64_t threads = 256;
  launch(
      b, loc, "conv2d_taps", kb.idx(llvm::divideCeil(total, threads)),
      kb.idx(1), threads, {}, [&](gpu::LaunchOp launchOp) {
        Value e = kb.add(kb.mul(launchOp.getBlockIds().x, kb.idx(threads)),
                         launchOp.getThreadIds().x);
        kb.when(kb.ult(e, kb.idx(total)), [&] {
          Value ow = kb.rem(e, kb.idx(out[3]));
          Value rest = kb.div(e, kb.idx(out[3]));
          Value oh = kb.rem(rest, kb.idx(out[2]));
          rest = kb.div(rest, kb.idx(out[2]));
          Value o = kb.rem(rest, kb.idx(out[1]));
          Value n = kb.div(rest, kb.idx(out[1]));
          Value cBase = kb.add(kb.mul(n, kb.idx(in[1])),
                               kb.mul(kb.div(o, kb.idx(ocpg)), kb.idx(icpg)));
          Value h0 = kb.sub(kb.mul(oh, kb.idx(stride[0])), kb.idx(pad[0]));
          Value w0 = kb.sub(kb.mul(ow, kb.idx(stride[1])), kb.idx(pad[2]));
          Value init = bias ? kb.load(bias, o) : kb.f32(0);
          Value acc = kb.loop(
              toIndex(b, loc, kb.load(ptr, o)),
              toIndex(b, loc, kb.load(ptr, kb.add(o, kb.idx(1)))), kb.idx(1),
              {init}, [&](Value t, ValueRange args) -> SmallVector<Value> {
                Value tap = toIndex(b, loc, kb.load(idx, t));
                Value s = kb.rem(tap, kb.idx(kw));
                Value r = kb.rem(kb.div(tap, kb.idx(kw)), kb.idx(kh));
                Value c = kb.div(tap, kb.idx(kh * kw));
                Value ih = kb.add(h0, kb.mul(r, kb.idx(dil[0])));
                Value iw = kb.add(w0, kb.mul(s, kb.idx(dil[1])));
                auto within = [&](Value v, int64_t size) {
                  Value ge = arith::CmpIOp::create(
                      b, loc, arith::CmpIPredicate::sge, v, kb.idx(0));
                  Value lt = arith::CmpIOp::create(
                      b, loc, arith::CmpIPredicate::slt, v, kb.idx(size));
                  return arith::AndIOp::create(b, loc, ge, lt).getResult();
                };
                Value inside = arith::AndIOp::create(b, loc, within(ih, in[2]),
                                                     within(iw, in[3]));
                Value at = kb.add(
                    kb.mul(kb.add(kb.mul(kb.add(cBase, c), kb.idx(in[2])), ih),
                           kb.idx(in[3])),
                    iw);
                Value xv = kb.load(x, kb.select(inside, at, kb.idx(0)));
                xv = kb.select(inside, xv, kb.f32(0));
                return {mulAdd(b, loc, kb.load(val, t), xv, args[0])};
              })[0];
          kb.store(acc, y, e);
        });
      });
  replaceWithBuffer(rewriter, op, alloc, outType);
  return success();
}

//===----------------------------------------------------------------------===//
// k-winners
//===----------------------------------------------------------------------===//

/// One block of `threads` per selection domain (seed 000 [0047]; semantics
/// of sparsenn_kwinners_f32 in runtime/include/sparsenn/Runtime/Kernels.h).
void emitKWinners(OpBuilder &b, Location loc, KWinnersOp op, Value x, Value y,
                  Value duty, int64_t threads) {
  KB kb{b, loc};
  auto type = op.getInput().getType();
  ArrayRef<int64_t> shape = type.getShape();
  int64_t batch = shape[0], channels = shape[1];
  int64_t spatial = shape.size() == 4 ? shape[2] * shape[3] : 1;
  int64_t total = channels * spatial;
  int64_t k = op.getEffectiveK();
  double beta = op.getBoostStrengthOrZero();
  bool boost = duty && beta != 0.0;
  bool breakTies = op.getBreakTies(), relu = op.getRelu();
  KWinnersMode mode = op.getMode();
  int64_t groupSize = op.getGroupSize() ? *op.getGroupSize() : total;
  int64_t groups = llvm::divideCeil(total, groupSize);
  int64_t domains = batch;
  switch (mode) {
  case KWinnersMode::global:
    break;
  case KWinnersMode::group:
    domains = batch * groups;
    break;
  case KWinnersMode::local:
    domains = batch * spatial;
    break;
  case KWinnersMode::channel:
    domains = batch * channels;
    break;
  }
  Type i32 = b.getI32Type();
  SmallVector<Type> shared = {sharedType({256}, i32),     // histogram
                              sharedType({threads}, i32), // tie counts
                              sharedType({4}, i32)};      // select state
  launch(
      b, loc, "kwinners", kb.idx(domains), kb.idx(1), threads, shared,
      [&](gpu::LaunchOp op) {
        Value hist = op.getWorkgroupAttributions()[0];
        Value ties = op.getWorkgroupAttributions()[1];
        Value state = op.getWorkgroupAttributions()[2];
        Value d = op.getBlockIds().x;
        Value tid = op.getThreadIds().x;
        Value zero = kb.idx(0), one = kb.idx(1), nthreads = kb.idx(threads);
        // Domain d: elements sampleBase + q0 + j * stride, j < n.
        Value sample, q0, n, stride = one, fixedChannel;
        switch (mode) {
        case KWinnersMode::global:
          sample = d;
          q0 = zero;
          n = kb.idx(total);
          break;
        case KWinnersMode::group: {
          sample = kb.div(d, kb.idx(groups));
          q0 = kb.mul(kb.rem(d, kb.idx(groups)), kb.idx(groupSize));
          n = kb.min(kb.idx(groupSize), kb.sub(kb.idx(total), q0));
          break;
        }
        case KWinnersMode::local:
          sample = kb.div(d, kb.idx(spatial));
          q0 = kb.rem(d, kb.idx(spatial));
          n = kb.idx(channels);
          stride = kb.idx(spatial);
          break;
        case KWinnersMode::channel:
          sample = kb.div(d, kb.idx(channels));
          fixedChannel = kb.rem(d, kb.idx(channels));
          q0 = kb.mul(fixedChannel, kb.idx(spatial));
          n = kb.idx(spatial);
          break;
        }
        Value base = kb.add(kb.mul(sample, kb.idx(total)), q0);
        Value kk = kb.min(kb.idx(k), n);
        // Boost factor exp(beta * (k/n - duty[c])) of channel c.
        Value target;
        if (boost) {
          auto toF = [&](Value v) -> Value {
            Value i = arith::IndexCastUIOp::create(b, loc, b.getI64Type(), v);
            return arith::UIToFPOp::create(b, loc, b.getF32Type(), i);
          };
          target = arith::DivFOp::create(b, loc, toF(kk), toF(n));
        }
        auto channelOf = [&](Value j) -> Value {
          if (fixedChannel)
            return fixedChannel;
          if (mode == KWinnersMode::local)
            return j;
          return kb.div(kb.add(q0, j), kb.idx(spatial));
        };
        auto element = [&](Value j) { return kb.add(base, kb.mul(j, stride)); };
        // Ranking key: order-preserving uint32 of r = x * factor, -0 as +0.
        auto keyOf = [&](Value j, Value xv) -> Value {
          Value r = xv;
          if (boost) {
            Value dc = kb.load(duty, channelOf(j));
            Value t = arith::SubFOp::create(b, loc, target, dc);
            t = arith::MulFOp::create(b, loc, kb.f32(beta), t);
            Value f = math::ExpOp::create(b, loc, t);
            r = arith::MulFOp::create(b, loc, xv, f);
          }
          Value isZero = arith::CmpFOp::create(
              b, loc, arith::CmpFPredicate::OEQ, r, kb.f32(0));
          r = kb.select(isZero, kb.f32(0), r);
          Value u = arith::BitcastOp::create(b, loc, i32, r);
          Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                            u, kb.i32(0));
          Value flipped = arith::XOrIOp::create(b, loc, u, kb.i32(-1));
          Value signed_ = arith::XOrIOp::create(
              b, loc, u, kb.i32(static_cast<int32_t>(0x80000000u)));
          return kb.select(neg, flipped, signed_);
        };
        auto ucmp = [&](arith::CmpIPredicate p, Value l, Value r) -> Value {
          return arith::CmpIOp::create(b, loc, p, l, r);
        };
        auto barrier = [&] { gpu::BarrierOp::create(b, loc); };
        auto isLeader = kb.eq(tid, zero);
        // state = {prefix, mask, remaining k}.
        kb.when(isLeader, [&] {
          kb.store(kb.i32(0), state, kb.idx(0));
          kb.store(kb.i32(0), state, kb.idx(1));
          Value kk32 = arith::IndexCastUIOp::create(b, loc, i32, kk);
          kb.store(kk32, state, kb.idx(2));
        });
        barrier();
        for (int shift = 24; shift >= 0; shift -= 8) {
          kb.loop(tid, kb.idx(256), nthreads, {},
                  [&](Value i, ValueRange) -> SmallVector<Value> {
                    kb.store(kb.i32(0), hist, i);
                    return {};
                  });
          barrier();
          Value prefix = kb.load(state, kb.idx(0));
          Value mask = kb.load(state, kb.idx(1));
          kb.loop(tid, n, nthreads, {},
                  [&](Value j, ValueRange) -> SmallVector<Value> {
                    Value key = keyOf(j, kb.load(x, element(j)));
                    Value masked = arith::AndIOp::create(b, loc, key, mask);
                    kb.when(kb.eq(masked, prefix), [&] {
                      Value digit =
                          arith::ShRUIOp::create(b, loc, key, kb.i32(shift));
                      digit = arith::AndIOp::create(b, loc, digit, kb.i32(255));
                      Value bin = arith::IndexCastUIOp::create(
                          b, loc, b.getIndexType(), digit);
                      memref::AtomicRMWOp::create(
                          b, loc, arith::AtomicRMWKind::addi, kb.i32(1), hist,
                          ValueRange{bin});
                    });
                    return {};
                  });
          barrier();
          // The leader finds the bin holding the remaining k-th largest.
          kb.when(isLeader, [&] {
            Value remaining = kb.load(state, kb.idx(2));
            Value no = arith::ConstantIntOp::create(b, loc, 0, 1);
            ValueRange found = kb.loop(
                zero, kb.idx(256), one, {kb.i32(0), no, kb.i32(0), remaining},
                [&](Value t, ValueRange a) -> SmallVector<Value> {
                  Value bin = kb.sub(kb.idx(255), t);
                  Value cum =
                      arith::AddIOp::create(b, loc, a[0], kb.load(hist, bin));
                  Value reached =
                      ucmp(arith::CmpIPredicate::uge, cum, remaining);
                  Value notYet = arith::XOrIOp::create(
                      b, loc, a[1], arith::ConstantIntOp::create(b, loc, 1, 1));
                  Value hit = arith::AndIOp::create(b, loc, reached, notYet);
                  Value bin32 = arith::IndexCastUIOp::create(b, loc, i32, bin);
                  Value left = arith::SubIOp::create(b, loc, remaining, a[0]);
                  return {cum, arith::OrIOp::create(b, loc, a[1], hit),
                          kb.select(hit, bin32, a[2]),
                          kb.select(hit, left, a[3])};
                });
            Value digit =
                arith::ShLIOp::create(b, loc, found[2], kb.i32(shift));
            kb.store(arith::OrIOp::create(b, loc, prefix, digit), state,
                     kb.idx(0));
            kb.store(
                arith::OrIOp::create(
                    b, loc, mask, kb.i32(static_cast<int32_t>(255u << shift))),
                state, kb.idx(1));
            kb.store(found[3], state, kb.idx(2));
          });
          barrier();
        }
        Value threshold = kb.load(state, kb.idx(0));
        Value need = kb.load(state, kb.idx(2));
        auto output = [&](Value j, Value xv, Value win) {
          if (relu)
            win = arith::AndIOp::create(
                b, loc, win,
                arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, xv,
                                      kb.f32(0)));
          kb.store(kb.select(win, xv, kb.f32(0)), y, element(j));
        };
        if (!breakTies) {
          kb.loop(tid, n, nthreads, {},
                  [&](Value j, ValueRange) -> SmallVector<Value> {
                    Value xv = kb.load(x, element(j));
                    Value key = keyOf(j, xv);
                    output(j, xv,
                           ucmp(arith::CmpIPredicate::uge, key, threshold));
                    return {};
                  });
          return;
        }
        // Ties in index order: thread t owns [t * chunk, (t + 1) * chunk).
        Value chunk = kb.div(kb.add(n, kb.idx(threads - 1)), nthreads);
        Value lo = kb.min(kb.mul(tid, chunk), n);
        Value hi = kb.min(kb.add(lo, chunk), n);
        Value mine =
            kb.loop(lo, hi, one, {kb.i32(0)},
                    [&](Value j, ValueRange a) -> SmallVector<Value> {
                      Value key = keyOf(j, kb.load(x, element(j)));
                      Value tie = kb.eq(key, threshold);
                      Value inc = arith::ExtUIOp::create(b, loc, i32, tie);
                      return {arith::AddIOp::create(b, loc, a[0], inc)};
                    })[0];
        kb.store(mine, ties, tid);
        barrier();
        kb.when(isLeader, [&] {
          kb.loop(zero, nthreads, one, {kb.i32(0)},
                  [&](Value t, ValueRange a) -> SmallVector<Value> {
                    Value c = kb.load(ties, t);
                    kb.store(a[0], ties, t);
                    return {arith::AddIOp::create(b, loc, a[0], c)};
                  });
        });
        barrier();
        Value before = kb.load(ties, tid);
        kb.loop(lo, hi, one, {before},
                [&](Value j, ValueRange a) -> SmallVector<Value> {
                  Value xv = kb.load(x, element(j));
                  Value key = keyOf(j, xv);
                  Value above = ucmp(arith::CmpIPredicate::ugt, key, threshold);
                  Value tie = kb.eq(key, threshold);
                  Value room = ucmp(arith::CmpIPredicate::ult, a[0], need);
                  Value takeTie = arith::AndIOp::create(b, loc, tie, room);
                  output(j, xv, arith::OrIOp::create(b, loc, above, takeTie));
                  Value inc = arith::ExtUIOp::create(b, loc, i32, tie);
                  return {arith::AddIOp::create(b, loc, a[0], inc)};
                });
      });
}

LogicalResult lowerKWinners(KWinnersOp op, RewriterBase &rewriter,
                            int64_t threads) {
  auto type = op.getInput().getType();
  if (!type.hasStaticShape())
    return op.emitError("k-winners on the GPU needs static shapes, got ")
           << type;
  if (!type.getElementType().isF32())
    return op.emitError("k-winners on the GPU needs f32 data, got ")
           << type.getElementType();
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto [alloc, y] = outputBuffer(rewriter, loc, type);
  Value x = flatBuffer(rewriter, loc, op.getInput());
  Value duty = op.getDutyCycle() && op.getBoostStrengthOrZero() != 0.0
                   ? flatBuffer(rewriter, loc, op.getDutyCycle())
                   : Value();
  // Automatic: 256 threads per domain, 1024 for large domains (fewer
  // elements per thread in each of the five passes).
  if (threads == 0)
    threads = op.getDomainSize() >= 8192 ? 1024 : 256;
  emitKWinners(rewriter, loc, op, x, y, duty, threads);
  replaceWithBuffer(rewriter, op, alloc, type);
  return success();
}

/// floor(x) for the |x| < 2^31 of the exp approximation's exponent: convert
/// toward zero, step down for negative non-integers.
struct SmallFloorToArith : OpRewritePattern<math::FloorOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::FloorOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return failure();
    Location loc = op.getLoc();
    Value x = op.getOperand();
    Value i = arith::FPToSIOp::create(rewriter, loc, rewriter.getI32Type(), x);
    Value t = arith::SIToFPOp::create(rewriter, loc, rewriter.getF32Type(), i);
    Value above =
        arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OGT, t, x);
    Value one = arith::ConstantFloatOp::create(
        rewriter, loc, rewriter.getF32Type(), APFloat(1.0f));
    Value down = arith::SubFOp::create(rewriter, loc, t, one);
    rewriter.replaceOpWithNewOp<arith::SelectOp>(op, above, down, t);
    return success();
  }
};

/// A layer with a GPU kernel format (`lower` succeeds) becomes its
/// gpu.launch; one without a GPU kernel loses its format and takes the dense
/// linalg path (mapped to kernels by sparsenn-tile-gpu-loops).
template <typename OpTy>
struct LayerToGPU : OpRewritePattern<OpTy> {
  using LowerFn = std::function<LogicalResult(OpTy, RewriterBase &)>;
  LayerToGPU(MLIRContext *ctx, LowerFn lower)
      : OpRewritePattern<OpTy>(ctx), lower(std::move(lower)) {}
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (succeeded(lower(op, rewriter)))
      return success();
    if (!op.getKernel())
      return failure();
    rewriter.modifyOpInPlace(op, [&] { op.removeKernelAttr(); });
    return success();
  }
  LowerFn lower;
};

/// k-winners as its kernel; trivial selections (k >= n, no boost, no relu)
/// fold away. Shapes or types the kernel cannot take get an error on the op
/// (the pass then fails).
struct KWinnersToGPU : OpRewritePattern<KWinnersOp> {
  KWinnersToGPU(MLIRContext *ctx, int64_t threads)
      : OpRewritePattern(ctx), threads(threads) {}
  LogicalResult matchAndRewrite(KWinnersOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getEffectiveK() >= op.getDomainSize() &&
        op.getBoostStrengthOrZero() == 0.0 && !op.getRelu()) {
      rewriter.replaceOp(op, op.getInput());
      return success();
    }
    return lowerKWinners(op, rewriter, threads);
  }
  int64_t threads;
};

struct ConvertSparseNNToGPUPass
    : public sparsenn::impl::ConvertSparseNNToGPUPassBase<
          ConvertSparseNNToGPUPass> {
  using Base::Base;
  void runOnOperation() override {
    if (warpsPerBlock < 1 || warpsPerBlock > 32) {
      emitError(UnknownLoc::get(&getContext()),
                "warps-per-block must be in [1, 32], got ")
          << static_cast<int64_t>(warpsPerBlock);
      return signalPassFailure();
    }
    if (kwinnersThreads != 0 &&
        (kwinnersThreads < 32 || kwinnersThreads > 1024 ||
         kwinnersThreads % 32 != 0)) {
      emitError(UnknownLoc::get(&getContext()),
                "kwinners-threads must be 0 (automatic) or a multiple of 32 "
                "in [32, 1024], got ")
          << static_cast<int64_t>(kwinnersThreads);
      return signalPassFailure();
    }
    {
      // Each layer once, in a walk (no folding of the rest of the IR).
      RewritePatternSet patterns(&getContext());
      populateSparseNNToGPUPatterns(patterns, warpsPerBlock, kwinnersThreads);
      walkAndApplyPatterns(getOperation(), std::move(patterns));
    }
    // A k-winners left means its kernel refused it (error on the op).
    bool failed = getOperation()
                      ->walk([](KWinnersOp) { return WalkResult::interrupt(); })
                      .wasInterrupted();
    if (failed)
      return signalPassFailure();
    // The boost factor's exp becomes arith (a polynomial): the kernels need
    // no libdevice.
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      return name == "exp" || name == "math.exp";
    });
    // The approximation uses math.fma and math.floor, themselves libdevice
    // calls on NVVM: they become arith too.
    math::populateExpansionPatterns(patterns, {"fma"});
    patterns.add<SmallFloorToArith>(&getContext());
    FrozenRewritePatternSet frozen(std::move(patterns));
    SmallVector<Operation *> launches;
    getOperation().walk([&](gpu::LaunchOp op) { launches.push_back(op); });
    for (Operation *op : launches)
      if (::mlir::failed(applyPatternsGreedily(op, frozen)))
        return signalPassFailure();
  }
};

} // namespace

void mlir::sparsenn::populateSparseNNToGPUPatterns(RewritePatternSet &patterns,
                                                   int64_t warpsPerBlock,
                                                   int64_t kwinnersThreads) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<LayerToGPU<LinearOp>>(
      ctx, [warpsPerBlock](LinearOp op, RewriterBase &rewriter) {
        return lowerLinear(op, rewriter, warpsPerBlock);
      });
  patterns.add<LayerToGPU<Conv2DOp>>(ctx, lowerConvTaps);
  patterns.add<KWinnersToGPU>(ctx, kwinnersThreads);
}
