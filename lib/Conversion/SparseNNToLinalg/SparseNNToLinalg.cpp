//===- SparseNNToLinalg.cpp - sparsenn inference ops to linalg ------------===//
//
// Dense reference lowering of the inference ops: every op becomes linalg on
// tensors, except k-winners, whose selection is a runtime kernel (seed 000
// [0047]: a fixed number of winners per domain, found by selection).
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Conversion/Passes.h"
#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Runtime/Kernels.h"
#include "sparsenn/Runtime/Types.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_CONVERTSPARSENNTOLINALGPASS
#include "sparsenn/Conversion/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;
using namespace mlir::sparsenn;

// The runtime's C numbering (sparsenn/Runtime/Types.h) is the ODS enums':
// the lowering passes the enum values through unchanged.
static_assert(static_cast<int>(KernelFormat::dense) == SPARSENN_FORMAT_DENSE &&
                  static_cast<int>(KernelFormat::ell) == SPARSENN_FORMAT_ELL &&
                  static_cast<int>(KernelFormat::block16) ==
                      SPARSENN_FORMAT_BLOCK16 &&
                  static_cast<int>(KernelFormat::sparse_sparse) ==
                      SPARSENN_FORMAT_SPARSE_SPARSE &&
                  static_cast<int>(KernelFormat::spgc8) ==
                      SPARSENN_FORMAT_SPGC8,
              "#sparsenn.kernel numbering differs from the runtime's");
static_assert(static_cast<int>(KWinnersMode::global) == SPARSENN_KW_GLOBAL &&
                  static_cast<int>(KWinnersMode::group) == SPARSENN_KW_GROUP &&
                  static_cast<int>(KWinnersMode::local) == SPARSENN_KW_LOCAL &&
                  static_cast<int>(KWinnersMode::channel) ==
                      SPARSENN_KW_CHANNEL,
              "k-winners mode numbering differs from the runtime's");

namespace {

using utils::IteratorType;

SmallVector<IteratorType> iterators(int64_t parallel, int64_t reduction = 0) {
  SmallVector<IteratorType> it(parallel, IteratorType::parallel);
  it.append(reduction, IteratorType::reduction);
  return it;
}

/// `v` zero-padded on H and W by `pad` (top, bottom, left, right).
Value padSpatial(OpBuilder &rewriter, Location loc, Value v,
                 ArrayRef<int64_t> pad) {
  if (llvm::all_of(pad, [](int64_t p) { return p == 0; }))
    return v;
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[2] += pad[0] + pad[1];
  shape[3] += pad[2] + pad[3];
  auto idx = [&](int64_t i) -> OpFoldResult {
    return rewriter.getIndexAttr(i);
  };
  Value zero = arith::ConstantOp::create(
      rewriter, loc, rewriter.getZeroAttr(type.getElementType()));
  return tensor::PadOp::create(
      rewriter, loc, RankedTensorType::get(shape, type.getElementType()), v,
      SmallVector<OpFoldResult>{idx(0), idx(0), idx(pad[0]), idx(pad[2])},
      SmallVector<OpFoldResult>{idx(0), idx(0), idx(pad[1]), idx(pad[3])},
      zero);
}

Value zeroFilled(OpBuilder &rewriter, Location loc, RankedTensorType type) {
  Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                        type.getElementType());
  Value zero = arith::ConstantOp::create(
      rewriter, loc, rewriter.getZeroAttr(type.getElementType()));
  return linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
}

/// `init` of `type` holding `bias` broadcast along `channelDim`, or zeros.
Value broadcastBias(OpBuilder &b, Location loc, RankedTensorType type,
                    Value bias, int64_t channelDim) {
  if (!bias)
    return zeroFilled(b, loc, type);
  Value empty =
      tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  MLIRContext *ctx = b.getContext();
  int64_t rank = type.getRank();
  AffineMap biasMap =
      AffineMap::get(rank, 0, {getAffineDimExpr(channelDim, ctx)}, ctx);
  AffineMap outMap = b.getMultiDimIdentityMap(rank);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{bias}, ValueRange{empty},
             ArrayRef<AffineMap>{biasMap, outMap}, iterators(rank),
             [](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, args[0]);
             })
      .getResult(0);
}

/// The dense float weights of a layer: the operand itself, or the decoded
/// value of a compressed constant (decode at compile time).
FailureOr<Value> getDenseWeights(PatternRewriter &rewriter, Operation *layer,
                                 Value weight, Type elementType) {
  auto compressed = dyn_cast<SPGC8Type>(weight.getType());
  if (!compressed)
    return weight;
  auto source = weight.getDefiningOp<CompressedConstantOp>();
  if (!source)
    return rewriter.notifyMatchFailure(
        layer, "compressed weights must come from a compressed_constant");
  DenseElementsAttr dense = decodeCompressedConstant(
      source, RankedTensorType::get(compressed.getShape(), elementType));
  if (!dense)
    return rewriter.notifyMatchFailure(layer, "corrupt SPGC8 stream");
  return arith::ConstantOp::create(rewriter, layer->getLoc(), dense)
      .getResult();
}

bool allStatic(TypeRange types) {
  return llvm::all_of(types, [](Type t) {
    auto shaped = dyn_cast<ShapedType>(t);
    return !shaped || shaped.hasStaticShape();
  });
}

//===----------------------------------------------------------------------===//
// Runtime calls (the `_mlir_ciface_` ABI of runtime/lib/MemRefABI.cpp)
//===----------------------------------------------------------------------===//

Value i64Constant(PatternRewriter &rewriter, Location loc, int64_t v) {
  return arith::ConstantOp::create(rewriter, loc,
                                   rewriter.getI64IntegerAttr(v));
}

/// The buffer a runtime call writes a layer's result into.
Value allocResult(PatternRewriter &rewriter, Location loc,
                  RankedTensorType type) {
  return memref::AllocOp::create(
      rewriter, loc, MemRefType::get(type.getShape(), type.getElementType()));
}

/// Declares (once) a private runtime function with the C interface.
func::FuncOp getOrDeclareRuntimeFunc(PatternRewriter &rewriter, Operation *op,
                                     StringRef name, FunctionType type) {
  auto module = op->getParentOfType<ModuleOp>();
  if (auto f = module.lookupSymbol<func::FuncOp>(name))
    return f;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(module.getBody());
  auto f = func::FuncOp::create(rewriter, op->getLoc(), name, type);
  f.setPrivate();
  f->setAttr("llvm.emit_c_interface", rewriter.getUnitAttr());
  return f;
}

MemRefType dynamic1D(Type elt) {
  return MemRefType::get({ShapedType::kDynamic}, elt);
}

/// A flat memref<?xT> view of a memref (contiguous, identity layout).
Value flatten(PatternRewriter &rewriter, Location loc, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  Value flat = memref;
  if (type.getRank() != 1)
    flat = memref::CollapseShapeOp::create(
        rewriter, loc, memref,
        SmallVector<ReassociationIndices>{
            llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()))});
  return memref::CastOp::create(rewriter, loc, dynamic1D(type.getElementType()),
                                flat);
}

/// A flat memref<?xT> view of a tensor's buffer, read only.
Value flatBuffer(PatternRewriter &rewriter, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto memType = MemRefType::get(type.getShape(), type.getElementType());
  return flatten(rewriter, loc,
                 bufferization::ToBufferOp::create(rewriter, loc, memType,
                                                   tensor, /*readOnly=*/true));
}

/// An empty memref<?xT> (the ABI's "absent" operand).
Value emptyBuffer(PatternRewriter &rewriter, Location loc, Type elt) {
  return flatten(
      rewriter, loc,
      memref::AllocaOp::create(rewriter, loc, MemRefType::get({0}, elt)));
}

/// A read-only buffer of constant data packed at compile time.
template <typename T>
Value packedConstant(PatternRewriter &rewriter, Location loc, Type elt,
                     ArrayRef<T> data) {
  auto type = RankedTensorType::get({static_cast<int64_t>(data.size())}, elt);
  Value c = arith::ConstantOp::create(rewriter, loc,
                                      DenseElementsAttr::get(type, data));
  return flatBuffer(rewriter, loc, c);
}

/// Replaces `op` by the tensor view of `buffer`, which a runtime call has
/// just written (restrict: nothing else aliases it).
void replaceWithBuffer(PatternRewriter &rewriter, Operation *op, Value buffer,
                       RankedTensorType type) {
  auto tensor =
      bufferization::ToTensorOp::create(rewriter, op->getLoc(), type, buffer);
  tensor.setRestrict(true);
  tensor.setWritable(true);
  rewriter.replaceOp(op, tensor.getResult());
}

/// The bias buffer of a layer, or the ABI's empty buffer when it has none.
Value biasBuffer(PatternRewriter &rewriter, Location loc, Value bias) {
  return bias ? flatBuffer(rewriter, loc, bias)
              : emptyBuffer(rewriter, loc, rewriter.getF32Type());
}

/// Weights packed into a kernel format (formats of runtime/Kernels.h).
struct PackedLinear {
  std::vector<float> values;
  std::vector<int32_t> ia, ib;
  std::vector<int16_t> cols;
  int64_t k = 0;
};

FailureOr<PackedLinear> pack(KernelFormat format, ArrayRef<float> w,
                             int64_t out, int64_t in) {
  PackedLinear p;
  int64_t n = 0;
  switch (format) {
  case KernelFormat::dense:
    p.values.assign(w.begin(), w.end());
    return p;
  case KernelFormat::ell: {
    if (sparsenn_pack_ell_f32(w.data(), out, in, 0, nullptr, nullptr, &p.k) !=
        0)
      return failure();
    p.values.resize(out * p.k);
    std::vector<uint16_t> cols(out * p.k);
    if (sparsenn_pack_ell_f32(w.data(), out, in, p.k, p.values.data(),
                              cols.data(), &p.k) != 0)
      return failure();
    p.cols.assign(cols.begin(), cols.end());
    return p;
  }
  case KernelFormat::block16:
    p.ia.resize(out + 1);
    if (sparsenn_pack_block16_f32(w.data(), out, in, p.ia.data(), nullptr,
                                  nullptr, &n) != 0)
      return failure();
    p.ib.resize(n);
    p.values.resize(n * 16);
    if (sparsenn_pack_block16_f32(w.data(), out, in, p.ia.data(), p.ib.data(),
                                  p.values.data(), &n) != 0)
      return failure();
    return p;
  case KernelFormat::sparse_sparse:
    p.ia.resize(in + 1);
    if (sparsenn_pack_csc_f32(w.data(), out, in, p.ia.data(), nullptr, nullptr,
                              &n) != 0)
      return failure();
    p.ib.resize(n);
    p.values.resize(n);
    if (sparsenn_pack_csc_f32(w.data(), out, in, p.ia.data(), p.ib.data(),
                              p.values.data(), &n) != 0)
      return failure();
    return p;
  case KernelFormat::spgc8: // compressed weights only: lowerLinearToSpgc8
    break;
  }
  return failure();
}

/// Lowers a linear layer whose compressed weights stay compressed
/// (`#sparsenn.kernel<spgc8>`) to the fused runtime kernel:
///   sparsenn_rt_linear_spgc8_f32(x, y, bias, stream : memref<?xi8>,
///       scales, row_offsets : memref<?xi32>, batch, in, out, bits,
///       interleave)
/// with the SPGC8 stream and scales as they are and the per-row body index
/// built now (sparsenn_pack_spgc8_index; docs/spgc8.md).
LogicalResult lowerLinearToSpgc8(LinearOp op, CompressedConstantOp source,
                                 PatternRewriter &rewriter) {
  SPGC8Type type = source.getOutput().getType();
  if (type.getShape().size() != 2)
    return rewriter.notifyMatchFailure(op, "SPGC8 weights must be [out, in]");
  int64_t out = type.getShape()[0], in = type.getShape()[1];
  int interleave = type.getLayout() == GroupLayout::interleaved;
  std::vector<uint8_t> storage;
  ArrayRef<uint8_t> bytes = getCompressedBytes(source, storage);
  std::vector<int32_t> index(out + 1);
  if (sparsenn_pack_spgc8_index(
          bytes.data(), static_cast<int64_t>(bytes.size()), out, in,
          type.getBits(), interleave, index.data()) != SPARSENN_OK)
    return rewriter.notifyMatchFailure(op, "SPGC8 stream does not match the "
                                           "weight shape");
  Location loc = op.getLoc();
  MLIRContext *ctx = rewriter.getContext();
  Type f32 = rewriter.getF32Type(), i8 = rewriter.getI8Type(),
       i32 = rewriter.getI32Type(), i64 = rewriter.getI64Type();
  auto fnType = FunctionType::get(
      ctx,
      {dynamic1D(f32), dynamic1D(f32), dynamic1D(f32), dynamic1D(i8),
       dynamic1D(f32), dynamic1D(i32), i64, i64, i64, i64, i64},
      {});
  func::FuncOp callee = getOrDeclareRuntimeFunc(
      rewriter, op, "sparsenn_rt_linear_spgc8_f32", fnType);
  auto c64 = [&](int64_t v) { return i64Constant(rewriter, loc, v); };
  // The stream attribute is reused as it is (no copy of the bytes).
  Value stream;
  if (auto dense = dyn_cast<DenseElementsAttr>(source.getData()))
    stream = flatBuffer(rewriter, loc,
                        arith::ConstantOp::create(rewriter, loc, dense));
  else
    stream = packedConstant<int8_t>(
        rewriter, loc, i8,
        ArrayRef<int8_t>(reinterpret_cast<const int8_t *>(bytes.data()),
                         bytes.size()));
  std::vector<float> scales;
  for (APFloat v : source.getScales().getValues<APFloat>())
    scales.push_back(v.convertToFloat());
  Value scalesBuffer = packedConstant<float>(rewriter, loc, f32, scales);
  auto inType = op.getInput().getType();
  auto outType = op.getOutput().getType();
  Value result = allocResult(rewriter, loc, outType);
  Value bias = biasBuffer(rewriter, loc, op.getBias());
  func::CallOp::create(
      rewriter, loc, callee,
      ValueRange{flatBuffer(rewriter, loc, op.getInput()),
                 flatten(rewriter, loc, result), bias, stream, scalesBuffer,
                 packedConstant<int32_t>(rewriter, loc, i32, index),
                 c64(inType.getNumElements() / std::max<int64_t>(in, 1)),
                 c64(in), c64(out), c64(type.getBits()), c64(interleave)});
  replaceWithBuffer(rewriter, op, result, outType);
  return success();
}

/// Calls `sparsenn_rt_linear_f32` (runtime/lib/MemRefABI.cpp) on weights in
/// `format` and replaces `op` by the result it writes.
void emitLinearCall(PatternRewriter &rewriter, LinearOp op, KernelFormat format,
                    Value values, Value ia, Value ib, Value cols, int64_t rows,
                    int64_t in, int64_t out, int64_t k) {
  Location loc = op.getLoc();
  MLIRContext *ctx = rewriter.getContext();
  Type f32 = rewriter.getF32Type(), i32 = rewriter.getI32Type(),
       i16 = rewriter.getI16Type(), i64 = rewriter.getI64Type();
  auto type = FunctionType::get(ctx,
                                {dynamic1D(f32), dynamic1D(f32), dynamic1D(f32),
                                 dynamic1D(f32), dynamic1D(i32), dynamic1D(i32),
                                 dynamic1D(i16), i64, i64, i64, i64, i64},
                                {});
  func::FuncOp callee =
      getOrDeclareRuntimeFunc(rewriter, op, "sparsenn_rt_linear_f32", type);
  auto c64 = [&](int64_t v) { return i64Constant(rewriter, loc, v); };
  auto outType = op.getOutput().getType();
  Value result = allocResult(rewriter, loc, outType);
  Value bias = biasBuffer(rewriter, loc, op.getBias());
  func::CallOp::create(rewriter, loc, callee,
                       ValueRange{flatBuffer(rewriter, loc, op.getInput()),
                                  flatten(rewriter, loc, result), bias, values,
                                  ia, ib, cols,
                                  c64(static_cast<int64_t>(format)), c64(rows),
                                  c64(in), c64(out), c64(k)});
  replaceWithBuffer(rewriter, op, result, outType);
}

/// Lowers a linear layer with a selected kernel to a runtime call on weights
/// packed at compile time; fails (leaving the dense lowering) when the
/// weights are not an f32 constant or a compressed constant. Compressed
/// weights are decoded at load (compile) time into the selected format,
/// unless that format is `spgc8`.
LogicalResult lowerLinearToRuntime(LinearOp op, PatternRewriter &rewriter) {
  auto inType = op.getInput().getType();
  if (!op.getKernel() || !inType.getElementType().isF32())
    return failure();
  KernelFormat format = *op.getKernel();
  std::vector<float> w;
  int64_t out, in;
  DenseElementsAttr attr;
  if (auto source = op.getWeight().getDefiningOp<CompressedConstantOp>()) {
    if (format == KernelFormat::spgc8)
      return lowerLinearToSpgc8(op, source, rewriter);
    if (failed(decodeCompressedWeights(source, w)))
      return failure();
    out = source.getOutput().getType().getShape()[0];
    in = source.getOutput().getType().getShape()[1];
  } else if (matchPattern(op.getWeight(), m_Constant(&attr)) &&
             attr.getElementType().isF32()) {
    auto wType = cast<ShapedType>(attr.getType());
    out = wType.getDimSize(0);
    in = wType.getDimSize(1);
    w.assign(attr.getValues<float>().begin(), attr.getValues<float>().end());
  } else {
    return failure();
  }
  int64_t rows = inType.getNumElements() / in;
  FailureOr<PackedLinear> packed = pack(format, w, out, in);
  if (failed(packed))
    return failure();
  Location loc = op.getLoc();
  Type f32 = rewriter.getF32Type(), i32 = rewriter.getI32Type(),
       i16 = rewriter.getI16Type();
  emitLinearCall(rewriter, op, format,
                 packedConstant<float>(rewriter, loc, f32, packed->values),
                 packedConstant<int32_t>(rewriter, loc, i32, packed->ia),
                 packedConstant<int32_t>(rewriter, loc, i32, packed->ib),
                 packedConstant<int16_t>(rewriter, loc, i16, packed->cols),
                 rows, in, out, packed->k);
  return success();
}

/// The f32 weight type of a linear / conv2d layer whose f32 weights are a
/// run-time value a runtime kernel can read (f32 input and bias, and a
/// kernel format among `formats`, or none), else null.
template <typename LayerOp>
RankedTensorType runtimeF32Weights(LayerOp op, ArrayRef<KernelFormat> formats) {
  auto wType = dyn_cast<RankedTensorType>(op.getWeight().getType());
  if (!op.getInput().getType().getElementType().isF32() || !wType ||
      !wType.getElementType().isF32() ||
      (op.getKernel() && !llvm::is_contained(formats, *op.getKernel())) ||
      (op.getBias() && !op.getBias().getType().getElementType().isF32()))
    return {};
  return wType;
}

/// Weights known only at run time (function arguments, the weights of a
/// training step, the output of a learnable prune): f32 [out, in] weights are
/// passed as they are to the runtime's dense kernel, which is the `dense`
/// format's layout. Fails for other element types, compressed weights and
/// layers whose selected kernel needs packing.
LogicalResult lowerLinearWithRuntimeWeights(LinearOp op,
                                            PatternRewriter &rewriter) {
  auto wType = runtimeF32Weights(op, {KernelFormat::dense});
  if (!wType)
    return failure();
  Location loc = op.getLoc();
  Type i32 = rewriter.getI32Type(), i16 = rewriter.getI16Type();
  int64_t out = wType.getDimSize(0), in = wType.getDimSize(1);
  emitLinearCall(rewriter, op, KernelFormat::dense,
                 flatBuffer(rewriter, loc, op.getWeight()),
                 emptyBuffer(rewriter, loc, i32),
                 emptyBuffer(rewriter, loc, i32),
                 emptyBuffer(rewriter, loc, i16),
                 op.getInput().getType().getNumElements() / in, in, out,
                 /*k=*/0);
  return success();
}

/// The geometry arguments of the runtime's conv2d entry points: n, c_in, h,
/// w, c_out, kh, kw, strides, padding (top, bottom, left, right), dilations,
/// groups.
void appendConvGeometry(SmallVectorImpl<Value> &args, Conv2DOp op,
                        ArrayRef<int64_t> w, function_ref<Value(int64_t)> c64) {
  ArrayRef<int64_t> in = op.getInput().getType().getShape(),
                    pad = op.getPadding(), strides = op.getStrides(),
                    dil = op.getDilations();
  for (int64_t v : std::initializer_list<int64_t>{
           in[0], in[1], in[2], in[3], w[0], w[2], w[3], strides[0], strides[1],
           pad[0], pad[1], pad[2], pad[3], dil[0], dil[1],
           static_cast<int64_t>(op.getGroups())})
    args.push_back(c64(v));
}

/// Whether `v` is a splat 0.0 constant (defined anywhere above).
bool isZeroConstant(Value v) {
  FloatAttr f;
  DenseElementsAttr d;
  if (matchPattern(v, m_Constant(&f)))
    return f.getValue().isZero();
  if (matchPattern(v, m_Constant(&d)) && d.isSplat() &&
      isa<FloatType>(d.getElementType()))
    return d.getSplatValue<APFloat>().isZero();
  return false;
}

/// `op` computes max(in, 0) element-wise on `in`, with the type of `in`: a
/// tensor `arith.maximumf` with a zero splat, or a `linalg.generic` with
/// identity maps whose body is `maximumf(%in, 0)`.
bool isReluOf(Operation *op, Value in) {
  if (op->getNumResults() != 1 || op->getResult(0).getType() != in.getType())
    return false;
  if (auto max = dyn_cast<arith::MaximumFOp>(op))
    return (max.getLhs() == in && isZeroConstant(max.getRhs())) ||
           (max.getRhs() == in && isZeroConstant(max.getLhs()));
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getDpsInputOperand(0)->get() != in ||
      generic.getNumDpsInits() != 1 ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }) ||
      generic.getNumParallelLoops() != generic.getNumLoops())
    return false;
  Block &body = generic.getRegion().front();
  if (body.getOperations().size() != 2)
    return false;
  auto max = dyn_cast<arith::MaximumFOp>(body.front());
  auto yield = dyn_cast<linalg::YieldOp>(body.back());
  Value arg = body.getArgument(0);
  return max && yield && yield.getNumOperands() == 1 &&
         yield.getOperand(0) == max.getResult() &&
         ((max.getLhs() == arg && isZeroConstant(max.getRhs())) ||
          (max.getRhs() == arg && isZeroConstant(max.getLhs())));
}

/// The residual add and ReLU a conv2d's runtime call can take over.
struct ConvEpilogue {
  Value residual; // null: none
  bool relu = false;
  SmallVector<Operation *, 2> fused; // in program order; the last is replaced
};

/// The only user of a value, or null.
Operation *soleUser(Value v) {
  return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
}

bool outputIsF32(Conv2DOp op) {
  return op.getOutput().getType().getElementType().isF32();
}

ConvEpilogue matchEpilogue(Conv2DOp op) {
  ConvEpilogue e;
  Value y = op.getOutput();
  Operation *user = soleUser(y);
  if (!user || user->getBlock() != op->getBlock())
    return e;
  if (auto add = dyn_cast<arith::AddFOp>(user)) {
    Value other = add.getLhs() == y ? add.getRhs() : add.getLhs();
    if (other == y || other.getType() != y.getType())
      return e;
    e.residual = other;
    e.fused.push_back(add);
    y = add.getResult();
    user = soleUser(y);
    if (!user || user->getBlock() != op->getBlock())
      return e;
  }
  if (isReluOf(user, y)) {
    e.relu = true;
    e.fused.push_back(user);
  }
  return e;
}

/// Calls `sparsenn_rt_conv2d_f32` with weights `values` (dense) or sparse
/// taps (`tapPtr`, `tapIdx`, `values`) and replaces `op` by its result;
/// with an epilogue, `sparsenn_rt_conv2d_fused_f32` where the epilogue's
/// last op was, replacing that op and erasing the others.
void emitConvCall(PatternRewriter &rewriter, Conv2DOp op, KernelFormat format,
                  Value values, Value tapPtr, Value tapIdx, ArrayRef<int64_t> w,
                  const ConvEpilogue &epilogue) {
  MLIRContext *ctx = rewriter.getContext();
  Type f32 = rewriter.getF32Type(), i32 = rewriter.getI32Type(),
       i64 = rewriter.getI64Type();
  bool fused = !epilogue.fused.empty();
  Operation *last = fused ? epilogue.fused.back() : op.getOperation();
  Location loc = last->getLoc();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(last);
  SmallVector<Type> argTypes = {dynamic1D(f32), dynamic1D(f32), dynamic1D(f32),
                                dynamic1D(f32), dynamic1D(i32), dynamic1D(i32)};
  if (fused)
    argTypes.push_back(dynamic1D(f32));
  argTypes.append(fused ? 18 : 17, i64);
  func::FuncOp callee = getOrDeclareRuntimeFunc(
      rewriter, op,
      fused ? "sparsenn_rt_conv2d_fused_f32" : "sparsenn_rt_conv2d_f32",
      FunctionType::get(ctx, argTypes, {}));
  auto c64 = [&](int64_t v) { return i64Constant(rewriter, loc, v); };
  auto outType = op.getOutput().getType();
  Value result = allocResult(rewriter, loc, outType);
  Value bias = biasBuffer(rewriter, loc, op.getBias());
  SmallVector<Value> args = {flatBuffer(rewriter, loc, op.getInput()),
                             flatten(rewriter, loc, result),
                             bias,
                             values,
                             tapPtr,
                             tapIdx};
  if (fused)
    args.push_back(epilogue.residual
                       ? flatBuffer(rewriter, loc, epilogue.residual)
                       : emptyBuffer(rewriter, loc, f32));
  args.push_back(c64(format == KernelFormat::dense ? SPARSENN_FORMAT_DENSE
                                                   : SPARSENN_FORMAT_ELL));
  if (fused)
    args.push_back(c64(epilogue.relu ? 1 : 0));
  appendConvGeometry(args, op, w, c64);
  func::CallOp::create(rewriter, loc, callee, args);
  replaceWithBuffer(rewriter, last, result, outType);
  if (fused) {
    for (Operation *dead : llvm::reverse(ArrayRef(epilogue.fused).drop_back()))
      rewriter.eraseOp(dead);
    rewriter.eraseOp(op);
  }
}

/// Lowers a conv2d with a selected kernel (dense direct, or sparse taps for
/// `ell`) to a runtime call; fails when the weights are not an f32 constant.
LogicalResult lowerConvToRuntime(Conv2DOp op, PatternRewriter &rewriter,
                                 bool fuseEpilogues) {
  DenseElementsAttr attr;
  auto inType = op.getInput().getType();
  if (!op.getKernel() || !matchPattern(op.getWeight(), m_Constant(&attr)) ||
      !attr.getElementType().isF32() || !inType.getElementType().isF32())
    return failure();
  ArrayRef<int64_t> w = cast<ShapedType>(attr.getType()).getShape();
  std::vector<float> weights(attr.getValues<float>().begin(),
                             attr.getValues<float>().end());
  bool dense = *op.getKernel() == KernelFormat::dense;
  std::vector<int32_t> tapPtr, tapIdx;
  std::vector<float> values;
  if (dense) {
    values = weights;
  } else {
    int64_t taps = 0;
    tapPtr.resize(w[0] + 1);
    if (sparsenn_pack_conv2d_taps_f32(weights.data(), w[0], w[1], w[2], w[3],
                                      tapPtr.data(), nullptr, nullptr,
                                      &taps) != 0)
      return failure();
    tapIdx.resize(taps);
    values.resize(taps);
    if (sparsenn_pack_conv2d_taps_f32(weights.data(), w[0], w[1], w[2], w[3],
                                      tapPtr.data(), tapIdx.data(),
                                      values.data(), &taps) != 0)
      return failure();
  }
  Location loc = op.getLoc();
  Type f32 = rewriter.getF32Type(), i32 = rewriter.getI32Type();
  emitConvCall(rewriter, op, dense ? KernelFormat::dense : KernelFormat::ell,
               packedConstant<float>(rewriter, loc, f32, values),
               packedConstant<int32_t>(rewriter, loc, i32, tapPtr),
               packedConstant<int32_t>(rewriter, loc, i32, tapIdx), w,
               fuseEpilogues && outputIsF32(op) ? matchEpilogue(op)
                                                : ConvEpilogue{});
  return success();
}

/// A conv2d whose f32 weights are known only at run time: the runtime reads
/// them as they are ([C_out, C_in/g, kH, kW]) and runs the dense direct
/// engine, or, with `#sparsenn.kernel<ell>` (sparse taps), packs their
/// non-zero taps at each call and skips the zero ones (a sparse layer that
/// trains: fixed fan-in or learned sparsity).
LogicalResult lowerConvWithRuntimeWeights(Conv2DOp op,
                                          PatternRewriter &rewriter) {
  auto wType = runtimeF32Weights(op, {KernelFormat::dense, KernelFormat::ell});
  if (!wType)
    return failure();
  Location loc = op.getLoc();
  MLIRContext *ctx = rewriter.getContext();
  Type f32 = rewriter.getF32Type(), i64 = rewriter.getI64Type();
  SmallVector<Type> argTypes(4, dynamic1D(f32));
  argTypes.append(17, i64);
  func::FuncOp callee = getOrDeclareRuntimeFunc(
      rewriter, op, "sparsenn_rt_conv2d_runtime_weights_f32",
      FunctionType::get(ctx, argTypes, {}));
  auto c64 = [&](int64_t v) { return i64Constant(rewriter, loc, v); };
  auto outType = op.getOutput().getType();
  Value result = allocResult(rewriter, loc, outType);
  bool sparse = op.getKernel() && *op.getKernel() == KernelFormat::ell;
  SmallVector<Value> args = {
      flatBuffer(rewriter, loc, op.getInput()), flatten(rewriter, loc, result),
      biasBuffer(rewriter, loc, op.getBias()),
      flatBuffer(rewriter, loc, op.getWeight()), c64(sparse ? 1 : 0)};
  appendConvGeometry(args, op, wType.getShape(), c64);
  func::CallOp::create(rewriter, loc, callee, args);
  replaceWithBuffer(rewriter, op, result, outType);
  return success();
}

//===----------------------------------------------------------------------===//
// linear: y[m, o] = bias[o] + Σ_i x[m, i] · w[o, i]
//===----------------------------------------------------------------------===//

struct LinearLowering : OpRewritePattern<LinearOp> {
  LinearLowering(MLIRContext *ctx, bool runtimeWeightKernels)
      : OpRewritePattern(ctx), runtimeWeightKernels(runtimeWeightKernels) {}
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op->getOperandTypes()) || !allStatic(op->getResultTypes()))
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    if (succeeded(lowerLinearToRuntime(op, rewriter)))
      return success();
    if (runtimeWeightKernels &&
        succeeded(lowerLinearWithRuntimeWeights(op, rewriter)))
      return success();
    Location loc = op.getLoc();
    auto inType = op.getInput().getType();
    auto outType = op.getOutput().getType();
    Type elt = inType.getElementType();
    FailureOr<Value> weight =
        getDenseWeights(rewriter, op, op.getWeight(), elt);
    if (failed(weight))
      return failure();
    int64_t in = inType.getShape().back(), out = outType.getShape().back();
    int64_t rows = inType.getNumElements() / in;
    // Collapse leading dimensions into one row dimension.
    Value x = op.getInput();
    SmallVector<ReassociationIndices> reassoc;
    if (inType.getRank() != 2) {
      ReassociationIndices lead;
      for (int64_t d = 0; d + 1 < inType.getRank(); ++d)
        lead.push_back(d);
      reassoc.push_back(lead);
      reassoc.push_back({inType.getRank() - 1});
      x = tensor::CollapseShapeOp::create(
          rewriter, loc, RankedTensorType::get({rows, in}, elt), x, reassoc);
    }
    auto flatType = RankedTensorType::get({rows, out}, elt);
    Value init = broadcastBias(rewriter, loc, flatType, op.getBias(), 1);
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr m = getAffineDimExpr(0, ctx), o = getAffineDimExpr(1, ctx),
               i = getAffineDimExpr(2, ctx);
    SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {m, i}, ctx),
                                   AffineMap::get(3, 0, {o, i}, ctx),
                                   AffineMap::get(3, 0, {m, o}, ctx)};
    Value y = linalg::GenericOp::create(
                  rewriter, loc, TypeRange{flatType}, ValueRange{x, *weight},
                  ValueRange{init}, maps, iterators(2, 1),
                  [](OpBuilder &b, Location l, ValueRange args) {
                    Value p = arith::MulFOp::create(b, l, args[0], args[1]);
                    Value s = arith::AddFOp::create(b, l, args[2], p);
                    linalg::YieldOp::create(b, l, s);
                  })
                  .getResult(0);
    if (inType.getRank() != 2)
      y = tensor::ExpandShapeOp::create(rewriter, loc, outType, y, reassoc);
    rewriter.replaceOp(op, y);
    return success();
  }

  bool runtimeWeightKernels;
};

//===----------------------------------------------------------------------===//
// conv2d (NCHW, groups through [N, G, Cout/G, OH, OW] views)
//===----------------------------------------------------------------------===//

struct Conv2DLowering : OpRewritePattern<Conv2DOp> {
  Conv2DLowering(MLIRContext *ctx, bool runtimeWeightKernels,
                 bool fuseEpilogues)
      : OpRewritePattern(ctx), runtimeWeightKernels(runtimeWeightKernels),
        fuseEpilogues(fuseEpilogues) {}
  LogicalResult matchAndRewrite(Conv2DOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op->getOperandTypes()) || !allStatic(op->getResultTypes()))
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    if (succeeded(lowerConvToRuntime(op, rewriter, fuseEpilogues)))
      return success();
    if (runtimeWeightKernels &&
        succeeded(lowerConvWithRuntimeWeights(op, rewriter)))
      return success();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto inType = op.getInput().getType();
    auto outType = op.getOutput().getType();
    Type elt = inType.getElementType();
    FailureOr<Value> weight =
        getDenseWeights(rewriter, op, op.getWeight(), elt);
    if (failed(weight))
      return failure();
    ArrayRef<int64_t> w = cast<RankedTensorType>(weight->getType()).getShape();
    ArrayRef<int64_t> pad = op.getPadding(), strides = op.getStrides(),
                      dil = op.getDilations();
    int64_t groups = op.getGroups();
    int64_t ocpg = w[0] / groups, icpg = w[1];

    Value x = padSpatial(rewriter, loc, op.getInput(), pad);
    auto w5Type = RankedTensorType::get({groups, ocpg, icpg, w[2], w[3]}, elt);
    Value w5 = tensor::ExpandShapeOp::create(
        rewriter, loc, w5Type, *weight,
        SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
    Value init = broadcastBias(rewriter, loc, outType, op.getBias(), 1);
    auto out5Type =
        RankedTensorType::get({outType.getDimSize(0), groups, ocpg,
                               outType.getDimSize(2), outType.getDimSize(3)},
                              elt);
    SmallVector<ReassociationIndices> outReassoc = {{0}, {1, 2}, {3}, {4}};
    Value init5 = tensor::ExpandShapeOp::create(rewriter, loc, out5Type, init,
                                                outReassoc);
    // Loops (n, g, o, oh, ow, c, kh, kw).
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    AffineMap inMap = AffineMap::get(8, 0,
                                     {d(0), d(1) * icpg + d(5),
                                      d(3) * strides[0] + d(6) * dil[0],
                                      d(4) * strides[1] + d(7) * dil[1]},
                                     ctx);
    AffineMap wMap = AffineMap::get(8, 0, {d(1), d(2), d(5), d(6), d(7)}, ctx);
    AffineMap outMap =
        AffineMap::get(8, 0, {d(0), d(1), d(2), d(3), d(4)}, ctx);
    Value y5 = linalg::GenericOp::create(
                   rewriter, loc, TypeRange{out5Type}, ValueRange{x, w5},
                   ValueRange{init5},
                   SmallVector<AffineMap>{inMap, wMap, outMap}, iterators(5, 3),
                   [](OpBuilder &b, Location l, ValueRange args) {
                     Value p = arith::MulFOp::create(b, l, args[0], args[1]);
                     Value s = arith::AddFOp::create(b, l, args[2], p);
                     linalg::YieldOp::create(b, l, s);
                   })
                   .getResult(0);
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, outType, y5,
                                                         outReassoc);
    return success();
  }

  bool runtimeWeightKernels, fuseEpilogues;
};

std::optional<float> filledConstant(Value v);

//===----------------------------------------------------------------------===//
// conv2d gradients: runtime kernels on static f32 tensors, else linalg
//===----------------------------------------------------------------------===//

/// The geometry arguments of the gradient entry points: n, c_in, h, w,
/// c_out, kh, kw, strides, padding, dilations (MemRefABI.h).
template <typename GradOp>
void appendGradGeometry(SmallVectorImpl<Value> &args, GradOp op,
                        ArrayRef<int64_t> x, ArrayRef<int64_t> w,
                        function_ref<Value(int64_t)> c64) {
  ArrayRef<int64_t> pad = op.getPadding(), strides = op.getStrides(),
                    dil = op.getDilations();
  for (int64_t v : std::initializer_list<int64_t>{
           x[0], x[1], x[2], x[3], w[0], w[2], w[3], strides[0], strides[1],
           pad[0], pad[1], pad[2], pad[3], dil[0], dil[1]})
    args.push_back(c64(v));
}

bool allF32(TypeRange types) {
  return llvm::all_of(types, [](Type t) {
    return cast<ShapedType>(t).getElementType().isF32();
  });
}

struct Conv2DBackwardInputLowering : OpRewritePattern<Conv2DBackwardInputOp> {
  Conv2DBackwardInputLowering(MLIRContext *ctx, bool runtimeKernels)
      : OpRewritePattern(ctx), runtimeKernels(runtimeKernels) {}
  LogicalResult matchAndRewrite(Conv2DBackwardInputOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op->getOperandTypes()) || !allStatic(op->getResultTypes()))
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    Location loc = op.getLoc();
    auto dxType = op.getInputGrad().getType();
    ArrayRef<int64_t> x = dxType.getShape(),
                      w = op.getWeight().getType().getShape();
    if (runtimeKernels && allF32(op->getOperandTypes())) {
      MLIRContext *ctx = rewriter.getContext();
      SmallVector<Type> argTypes(3, dynamic1D(rewriter.getF32Type()));
      argTypes.append(15, rewriter.getI64Type());
      func::FuncOp callee = getOrDeclareRuntimeFunc(
          rewriter, op, "sparsenn_rt_conv2d_backward_input_f32",
          FunctionType::get(ctx, argTypes, {}));
      auto c64 = [&](int64_t v) { return i64Constant(rewriter, loc, v); };
      Value result = allocResult(rewriter, loc, dxType);
      SmallVector<Value> args = {flatBuffer(rewriter, loc, op.getOutputGrad()),
                                 flatten(rewriter, loc, result),
                                 flatBuffer(rewriter, loc, op.getWeight())};
      appendGradGeometry(args, op, x, w, c64);
      func::CallOp::create(rewriter, loc, callee, args);
      replaceWithBuffer(rewriter, op, result, dxType);
      return success();
    }
    // linalg: on the padded input gradient, one contraction over the output
    // channels per tap (i, j), added into the strided window it feeds.
    ArrayRef<int64_t> pad = op.getPadding(), strides = op.getStrides(),
                      dil = op.getDilations();
    Type elt = dxType.getElementType();
    ArrayRef<int64_t> dy = op.getOutputGrad().getType().getShape();
    auto paddedType = RankedTensorType::get(
        {x[0], x[1], x[2] + pad[0] + pad[1], x[3] + pad[2] + pad[3]}, elt);
    Value dxp = zeroFilled(rewriter, loc, paddedType);
    auto sliceType = RankedTensorType::get({x[0], x[1], dy[2], dy[3]}, elt);
    auto idx = [&](int64_t i) -> OpFoldResult {
      return rewriter.getIndexAttr(i);
    };
    SmallVector<OpFoldResult> sizes = {idx(x[0]), idx(x[1]), idx(dy[2]),
                                       idx(dy[3])};
    SmallVector<OpFoldResult> steps = {idx(1), idx(1), idx(strides[0]),
                                       idx(strides[1])};
    MLIRContext *ctx = rewriter.getContext();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    // Loops (n, c, y, x, o).
    AffineMap dyMap = AffineMap::get(5, 0, {d(0), d(4), d(2), d(3)}, ctx);
    AffineMap outMap = AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx);
    for (int64_t i = 0; i < w[2]; ++i)
      for (int64_t j = 0; j < w[3]; ++j) {
        SmallVector<OpFoldResult> at = {idx(0), idx(0), idx(i * dil[0]),
                                        idx(j * dil[1])};
        Value window = tensor::ExtractSliceOp::create(rewriter, loc, sliceType,
                                                      dxp, at, sizes, steps);
        AffineMap wMap =
            AffineMap::get(5, 0,
                           {d(4), d(1), getAffineConstantExpr(i, ctx),
                            getAffineConstantExpr(j, ctx)},
                           ctx);
        Value sum =
            linalg::GenericOp::create(
                rewriter, loc, TypeRange{sliceType},
                ValueRange{op.getOutputGrad(), op.getWeight()},
                ValueRange{window}, SmallVector<AffineMap>{dyMap, wMap, outMap},
                iterators(4, 1),
                [](OpBuilder &b, Location l, ValueRange a) {
                  Value p = arith::MulFOp::create(b, l, a[0], a[1]);
                  linalg::YieldOp::create(
                      b, l, arith::AddFOp::create(b, l, a[2], p).getResult());
                })
                .getResult(0);
        dxp = tensor::InsertSliceOp::create(rewriter, loc, sum, dxp, at, sizes,
                                            steps);
      }
    SmallVector<OpFoldResult> crop = {idx(0), idx(0), idx(pad[0]), idx(pad[2])};
    SmallVector<OpFoldResult> xSizes = {idx(x[0]), idx(x[1]), idx(x[2]),
                                        idx(x[3])};
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, dxType, dxp, crop, xSizes, SmallVector<OpFoldResult>(4, idx(1)));
    return success();
  }
  bool runtimeKernels;
};

struct Conv2DBackwardWeightLowering : OpRewritePattern<Conv2DBackwardWeightOp> {
  Conv2DBackwardWeightLowering(MLIRContext *ctx, bool runtimeKernels)
      : OpRewritePattern(ctx), runtimeKernels(runtimeKernels) {}
  LogicalResult matchAndRewrite(Conv2DBackwardWeightOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op->getOperandTypes()) || !allStatic(op->getResultTypes()))
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    Location loc = op.getLoc();
    auto dwType = op.getWeightGrad().getType();
    ArrayRef<int64_t> x = op.getInput().getType().getShape(),
                      w = dwType.getShape();
    if (runtimeKernels && allF32(op->getOperandTypes())) {
      MLIRContext *ctx = rewriter.getContext();
      Type f32 = rewriter.getF32Type();
      SmallVector<Type> argTypes(4, dynamic1D(f32));
      argTypes.append(15, rewriter.getI64Type());
      func::FuncOp callee = getOrDeclareRuntimeFunc(
          rewriter, op, "sparsenn_rt_conv2d_backward_weight_f32",
          FunctionType::get(ctx, argTypes, {}));
      auto c64 = [&](int64_t v) { return i64Constant(rewriter, loc, v); };
      Value result = allocResult(rewriter, loc, dwType);
      SmallVector<Value> args = {flatBuffer(rewriter, loc, op.getInput()),
                                 flatBuffer(rewriter, loc, op.getOutputGrad()),
                                 flatten(rewriter, loc, result),
                                 op.getMask()
                                     ? flatBuffer(rewriter, loc, op.getMask())
                                     : emptyBuffer(rewriter, loc, f32)};
      appendGradGeometry(args, op, x, w, c64);
      func::CallOp::create(rewriter, loc, callee, args);
      replaceWithBuffer(rewriter, op, result, dwType);
      return success();
    }
    // linalg: loops (o, c, i, j, n, y, x) over the padded input, then the
    // mask.
    ArrayRef<int64_t> strides = op.getStrides(), dil = op.getDilations();
    Value xp = padSpatial(rewriter, loc, op.getInput(), op.getPadding());
    MLIRContext *ctx = rewriter.getContext();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    AffineMap xMap =
        AffineMap::get(7, 0,
                       {d(4), d(1), d(5) * strides[0] + d(2) * dil[0],
                        d(6) * strides[1] + d(3) * dil[1]},
                       ctx);
    AffineMap dyMap = AffineMap::get(7, 0, {d(4), d(0), d(5), d(6)}, ctx);
    AffineMap outMap = AffineMap::get(7, 0, {d(0), d(1), d(2), d(3)}, ctx);
    Value dw =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{dwType},
            ValueRange{xp, op.getOutputGrad()},
            ValueRange{zeroFilled(rewriter, loc, dwType)},
            SmallVector<AffineMap>{xMap, dyMap, outMap}, iterators(4, 3),
            [](OpBuilder &b, Location l, ValueRange a) {
              Value p = arith::MulFOp::create(b, l, a[0], a[1]);
              linalg::YieldOp::create(
                  b, l, arith::AddFOp::create(b, l, a[2], p).getResult());
            })
            .getResult(0);
    if (Value mask = op.getMask()) {
      AffineMap id = rewriter.getMultiDimIdentityMap(4);
      dw = linalg::GenericOp::create(
               rewriter, loc, TypeRange{dwType}, ValueRange{dw, mask},
               ValueRange{tensor::EmptyOp::create(rewriter, loc, w,
                                                  dwType.getElementType())},
               SmallVector<AffineMap>{id, id, id}, iterators(4),
               [](OpBuilder &b, Location l, ValueRange a) {
                 Value zero = arith::ConstantOp::create(
                     b, l, b.getZeroAttr(a[0].getType()));
                 Value kept = arith::CmpFOp::create(
                     b, l, arith::CmpFPredicate::UNE, a[1],
                     arith::ConstantOp::create(b, l,
                                               b.getZeroAttr(a[1].getType())));
                 linalg::YieldOp::create(
                     b, l,
                     arith::SelectOp::create(b, l, kept, a[0], zero)
                         .getResult());
               })
               .getResult(0);
    }
    rewriter.replaceOp(op, dw);
    return success();
  }
  bool runtimeKernels;
};

//===----------------------------------------------------------------------===//
// linalg.matmul → the runtime's GEMM
//===----------------------------------------------------------------------===//

/// A linalg.matmul on static f32 tensors with the plain operand maps or A
/// and/or B transposed (the training step's dX = dY·W and dW = dYᵀ·X)
/// becomes `sparsenn_rt_gemm_f32`: the dense library's sgemm, threaded,
/// without materialising the transposes. A zero-filled init is not read.
struct MatmulToRuntime : OpRewritePattern<linalg::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op->getNumResults() != 1 ||
        !allStatic(op->getOperandTypes()) || !allF32(op->getOperandTypes()))
      return rewriter.notifyMatchFailure(op, "needs static f32 tensors");
    MLIRContext *ctx = rewriter.getContext();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    auto map = [&](AffineExpr a, AffineExpr b) {
      return AffineMap::get(3, 0, {a, b}, ctx);
    };
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    if (maps.size() != 3 || maps[2] != map(d(0), d(1)))
      return rewriter.notifyMatchFailure(op, "unsupported output map");
    bool transA = maps[0] == map(d(2), d(0)),
         transB = maps[1] == map(d(1), d(2));
    if ((!transA && maps[0] != map(d(0), d(2))) ||
        (!transB && maps[1] != map(d(2), d(1))))
      return rewriter.notifyMatchFailure(op, "unsupported operand maps");
    Location loc = op.getLoc();
    Value a = op.getInputs()[0], b = op.getInputs()[1],
          init = op.getOutputs()[0];
    auto outType = cast<RankedTensorType>(op->getResult(0).getType());
    ArrayRef<int64_t> aShape = cast<RankedTensorType>(a.getType()).getShape();
    int64_t m = outType.getDimSize(0), n = outType.getDimSize(1),
            k = transA ? aShape[0] : aShape[1];
    Value result = allocResult(rewriter, loc, outType);
    std::optional<float> filled = filledConstant(init);
    bool accumulate = !filled || *filled != 0.0f;
    if (accumulate) {
      auto memType = MemRefType::get(outType.getShape(), rewriter.getF32Type());
      Value source = bufferization::ToBufferOp::create(rewriter, loc, memType,
                                                       init, /*readOnly=*/true);
      memref::CopyOp::create(rewriter, loc, source, result);
    }
    SmallVector<Type> argTypes(3, dynamic1D(rewriter.getF32Type()));
    argTypes.append(6, rewriter.getI64Type());
    func::FuncOp callee =
        getOrDeclareRuntimeFunc(rewriter, op, "sparsenn_rt_gemm_f32",
                                FunctionType::get(ctx, argTypes, {}));
    auto c64 = [&](int64_t v) { return i64Constant(rewriter, loc, v); };
    func::CallOp::create(
        rewriter, loc, callee,
        ValueRange{flatBuffer(rewriter, loc, a), flatBuffer(rewriter, loc, b),
                   flatten(rewriter, loc, result), c64(transA), c64(transB),
                   c64(m), c64(n), c64(k), c64(accumulate)});
    replaceWithBuffer(rewriter, op, result, outType);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// kwinners → runtime selection kernel
//===----------------------------------------------------------------------===//

/// Declares (once) the runtime entry point
///   sparsenn_rt_kwinners_f32(x, y, duty : memref<?xf32>, batch, channels,
///                            spatial, mode, k, group_size : i64,
///                            boost : f32, break_ties, relu : i64)
/// with the C interface, i.e. `_mlir_ciface_sparsenn_rt_kwinners_f32`.
func::FuncOp getOrDeclareKWinners(PatternRewriter &rewriter, Operation *op) {
  MLIRContext *ctx = rewriter.getContext();
  auto memref = dynamic1D(Float32Type::get(ctx));
  auto i64 = IntegerType::get(ctx, 64);
  auto type = FunctionType::get(ctx,
                                {memref, memref, memref, i64, i64, i64, i64,
                                 i64, i64, Float32Type::get(ctx), i64, i64},
                                {});
  return getOrDeclareRuntimeFunc(rewriter, op, kKWinnersRuntimeFunc, type);
}

struct KWinnersLowering : OpRewritePattern<KWinnersOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(KWinnersOp op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getInput().getType();
    if (!type.hasStaticShape() || !type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "needs a static f32 tensor");
    Location loc = op.getLoc();
    func::FuncOp callee = getOrDeclareKWinners(rewriter, op);
    ArrayRef<int64_t> shape = type.getShape();
    int64_t spatial = shape.size() == 4 ? shape[2] * shape[3] : 1;
    auto memType = MemRefType::get(shape, type.getElementType());
    Value out = memref::AllocOp::create(rewriter, loc, memType);
    Value outFlat = flatten(rewriter, loc, out);
    Value xFlat = flatBuffer(rewriter, loc, op.getInput());
    Value duty = op.getDutyCycle()
                     ? flatBuffer(rewriter, loc, op.getDutyCycle())
                     : emptyBuffer(rewriter, loc, rewriter.getF32Type());
    auto i64 = [&](int64_t v) -> Value {
      return arith::ConstantOp::create(rewriter, loc,
                                       rewriter.getI64IntegerAttr(v));
    };
    Value boost =
        arith::ConstantOp::create(rewriter, loc,
                                  rewriter.getF32FloatAttr(static_cast<float>(
                                      op.getBoostStrengthOrZero())));
    func::CallOp::create(
        rewriter, loc, callee,
        ValueRange{xFlat, outFlat, duty, i64(shape[0]), i64(shape[1]),
                   i64(spatial), i64(static_cast<int64_t>(op.getMode())),
                   i64(op.getEffectiveK()),
                   i64(op.getGroupSize() ? *op.getGroupSize() : 0), boost,
                   i64(op.getBreakTies() ? 1 : 0), i64(op.getRelu() ? 1 : 0)});
    replaceWithBuffer(rewriter, op, out, type);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Element-wise ops
//===----------------------------------------------------------------------===//

/// An element-wise linalg.generic over operands of identical shape (and, for
/// `perChannel`, a 1-D operand indexed by dimension `axis`).
Value elementwise(PatternRewriter &rewriter, Location loc,
                  RankedTensorType resultType, ValueRange inputs,
                  ArrayRef<int64_t> perChannelAxis,
                  function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  MLIRContext *ctx = rewriter.getContext();
  int64_t rank = resultType.getRank();
  SmallVector<AffineMap> maps;
  for (auto [value, axis] : llvm::zip(inputs, perChannelAxis))
    maps.push_back(
        axis < 0 ? rewriter.getMultiDimIdentityMap(rank)
                 : AffineMap::get(rank, 0, {getAffineDimExpr(axis, ctx)}, ctx));
  maps.push_back(rewriter.getMultiDimIdentityMap(rank));
  Value empty = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                        resultType.getElementType());
  return linalg::GenericOp::create(
             rewriter, loc, TypeRange{resultType}, inputs, ValueRange{empty},
             maps, iterators(rank),
             [&](OpBuilder &b, Location l, ValueRange args) {
               linalg::YieldOp::create(b, l, body(b, l, args));
             })
      .getResult(0);
}

struct ThresholdLowering : OpRewritePattern<ThresholdOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ThresholdOp op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getInput().getType();
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    Type elt = type.getElementType();
    double t = op.getThreshold().convertToDouble();
    rewriter.replaceOp(
        op, elementwise(rewriter, op.getLoc(), type, ValueRange{op.getInput()},
                        {-1}, [&](OpBuilder &b, Location l, ValueRange a) {
                          Value tv = arith::ConstantOp::create(
                              b, l, b.getFloatAttr(elt, t));
                          Value zero = arith::ConstantOp::create(
                              b, l, b.getZeroAttr(elt));
                          Value keep = arith::CmpFOp::create(
                              b, l, arith::CmpFPredicate::OGT, a[0], tv);
                          return arith::SelectOp::create(b, l, keep, a[0], zero)
                              .getResult();
                        }));
    return success();
  }
};

struct ApplyMaskLowering : OpRewritePattern<ApplyMaskOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ApplyMaskOp op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getWeights().getType();
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    Type elt = type.getElementType();
    rewriter.replaceOp(
        op, elementwise(rewriter, op.getLoc(), type,
                        ValueRange{op.getWeights(), op.getMask()}, {-1, -1},
                        [&](OpBuilder &b, Location l, ValueRange a) {
                          Value zero = arith::ConstantOp::create(
                              b, l, b.getZeroAttr(elt));
                          return arith::SelectOp::create(b, l, a[1], a[0], zero)
                              .getResult();
                        }));
    return success();
  }
};

/// q = clamp(round_half_away(w / scale), -qmax, qmax); zero scale gives 0.
struct QuantizeLowering : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto outType = op.getOutput().getType();
    if (!outType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    auto intType = cast<IntegerType>(outType.getElementType());
    auto inElt = cast<FloatType>(op.getInput().getType().getElementType());
    double qmax = double((int64_t(1) << (intType.getWidth() - 1)) - 1);
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, op.getLoc(), outType,
            ValueRange{op.getInput(), op.getScales()},
            {-1, static_cast<int64_t>(op.getAxis())},
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value scale = a[1];
              if (inElt.getWidth() > 32)
                scale = arith::ExtFOp::create(b, l, inElt, scale);
              else if (inElt.getWidth() < 32)
                scale = arith::TruncFOp::create(b, l, inElt, scale);
              Value zero =
                  arith::ConstantOp::create(b, l, b.getZeroAttr(inElt));
              Value hi =
                  arith::ConstantOp::create(b, l, b.getFloatAttr(inElt, qmax));
              Value lo =
                  arith::ConstantOp::create(b, l, b.getFloatAttr(inElt, -qmax));
              Value q = arith::DivFOp::create(b, l, a[0], scale);
              q = math::RoundOp::create(b, l, q); // half away from zero
              q = arith::MinimumFOp::create(
                  b, l, arith::MaximumFOp::create(b, l, q, lo), hi);
              Value isZero = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OEQ, scale, zero);
              q = arith::SelectOp::create(b, l, isZero, zero, q);
              return arith::FPToSIOp::create(b, l, intType, q).getResult();
            }));
    return success();
  }
};

struct DequantizeLowering : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto outType = op.getOutput().getType();
    if (!outType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    Type outElt = outType.getElementType();
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, op.getLoc(), outType,
            ValueRange{op.getInput(), op.getScales()},
            {-1, static_cast<int64_t>(op.getAxis())},
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value q = arith::SIToFPOp::create(b, l, outElt, a[0]);
              Value s = a[1];
              if (s.getType() != outElt)
                s = outElt.getIntOrFloatBitWidth() > 32
                        ? arith::ExtFOp::create(b, l, outElt, s).getResult()
                        : arith::TruncFOp::create(b, l, outElt, s).getResult();
              return arith::MulFOp::create(b, l, q, s).getResult();
            }));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// duty_cycle_update (eq. 1, 3; nupic.torch period form)
//===----------------------------------------------------------------------===//

struct DutyCycleUpdateLowering : OpRewritePattern<DutyCycleUpdateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DutyCycleUpdateOp op,
                                PatternRewriter &rewriter) const override {
    auto actType = cast<RankedTensorType>(op.getActivations().getType());
    auto dutyType = cast<RankedTensorType>(op.getDutyCycle().getType());
    if (!actType.hasStaticShape() || !dutyType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type elt = dutyType.getElementType();
    int64_t rank = actType.getRank();
    int64_t batch = actType.getDimSize(0);
    // a[c] = #active(b, c, ...) / (B · H · W): sum the active indicators.
    Value zero =
        arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(elt));
    Value empty =
        tensor::EmptyOp::create(rewriter, loc, dutyType.getShape(), elt);
    Value acc = linalg::FillOp::create(rewriter, loc, ValueRange{zero},
                                       ValueRange{empty})
                    .getResult(0);
    // Loops: (c, b, spatial...) with c parallel.
    SmallVector<AffineExpr> actExprs(rank);
    actExprs[1] = getAffineDimExpr(0, ctx);
    actExprs[0] = getAffineDimExpr(1, ctx);
    for (int64_t dim = 2; dim < rank; ++dim)
      actExprs[dim] = getAffineDimExpr(dim, ctx);
    SmallVector<AffineMap> maps = {
        AffineMap::get(rank, 0, actExprs, ctx),
        AffineMap::get(rank, 0, {getAffineDimExpr(0, ctx)}, ctx)};
    Value counts =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{dutyType}, ValueRange{op.getActivations()},
            ValueRange{acc}, maps, iterators(1, rank - 1),
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value z = arith::ConstantOp::create(
                  b, l, b.getZeroAttr(a[0].getType()));
              Value one =
                  arith::ConstantOp::create(b, l, b.getFloatAttr(elt, 1.0));
              Value zeroE = arith::ConstantOp::create(b, l, b.getZeroAttr(elt));
              Value active = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::UNE, a[0], z);
              Value inc = arith::SelectOp::create(b, l, active, one, zeroE);
              linalg::YieldOp::create(
                  b, l, arith::AddFOp::create(b, l, a[1], inc).getResult());
            })
            .getResult(0);
    int64_t perSample = actType.getNumElements() / actType.getDimSize(0) /
                        actType.getDimSize(1);
    double norm = 1.0 / double(batch * perSample);

    Value alpha, newSeen;
    if (op.getAlpha()) {
      alpha = arith::ConstantOp::create(
          rewriter, loc,
          rewriter.getFloatAttr(elt, op.getAlpha()->convertToDouble()));
    } else {
      // α = B / min(T, seen + B); returns seen + B.
      Value seen =
          tensor::ExtractOp::create(rewriter, loc, op.getSeen(), ValueRange{});
      Value bConst = arith::ConstantOp::create(
          rewriter, loc, rewriter.getI64IntegerAttr(batch));
      Value seenAfter = arith::AddIOp::create(rewriter, loc, seen, bConst);
      Value period = arith::ConstantOp::create(
          rewriter, loc, rewriter.getI64IntegerAttr(*op.getPeriod()));
      Value denom = arith::MinSIOp::create(rewriter, loc, period, seenAfter);
      Value bF = arith::SIToFPOp::create(rewriter, loc, elt, bConst);
      Value dF = arith::SIToFPOp::create(rewriter, loc, elt, denom);
      alpha = arith::DivFOp::create(rewriter, loc, bF, dF);
      newSeen = tensor::FromElementsOp::create(
          rewriter, loc, cast<RankedTensorType>(op.getSeen().getType()),
          ValueRange{seenAfter});
    }
    Value normC = arith::ConstantOp::create(rewriter, loc,
                                            rewriter.getFloatAttr(elt, norm));
    Value newDuty = elementwise(
        rewriter, loc, dutyType, ValueRange{op.getDutyCycle(), counts},
        {-1, -1}, [&](OpBuilder &b, Location l, ValueRange a) {
          Value one = arith::ConstantOp::create(b, l, b.getFloatAttr(elt, 1.0));
          Value activity = arith::MulFOp::create(b, l, a[1], normC);
          Value keep = arith::SubFOp::create(b, l, one, alpha);
          Value x = arith::MulFOp::create(b, l, keep, a[0]);
          Value y = arith::MulFOp::create(b, l, alpha, activity);
          return arith::AddFOp::create(b, l, x, y).getResult();
        });
    SmallVector<Value> results = {newDuty};
    if (newSeen)
      results.push_back(newSeen);
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pooling: linalg.pooling_nchw_max / _sum → the runtime's vector kernel
//===----------------------------------------------------------------------===//

/// The f32 constant a value is filled with (`linalg.fill` of a constant).
std::optional<float> filledConstant(Value v) {
  auto fill = v.getDefiningOp<linalg::FillOp>();
  FloatAttr value;
  if (!fill || !matchPattern(fill.getInputs()[0], m_Constant(&value)))
    return std::nullopt;
  return static_cast<float>(value.getValueAsDouble());
}

/// A 2-D NCHW pooling on static f32 tensors whose init is a filled constant
/// becomes `sparsenn_rt_pool2d_f32`; a `tensor.pad` of its input by a
/// constant on H and W folds into the call (the padding is never stored).
template <typename PoolOp, int Mode>
struct PoolingToRuntime : OpRewritePattern<PoolOp> {
  using OpRewritePattern<PoolOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(PoolOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op->getNumResults() != 1)
      return rewriter.notifyMatchFailure(op, "needs tensor semantics");
    Value input = op.getInputs()[0], window = op.getInputs()[1];
    Value init = op.getOutputs()[0];
    auto inType = dyn_cast<RankedTensorType>(input.getType());
    auto outType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    auto winType = dyn_cast<RankedTensorType>(window.getType());
    if (!inType || !outType || !winType ||
        !allStatic({inType, outType, winType}) ||
        !inType.getElementType().isF32() || !outType.getElementType().isF32() ||
        winType.getRank() != 2)
      return rewriter.notifyMatchFailure(op, "needs static f32 tensors");
    std::optional<float> initValue = filledConstant(init);
    if (!initValue)
      return rewriter.notifyMatchFailure(op, "init is not a filled constant");
    SmallVector<int64_t> strides(op.getStrides().template getValues<int64_t>());
    SmallVector<int64_t> dilations(
        op.getDilations().template getValues<int64_t>());
    // Padding: a tensor.pad by a constant on H and W only.
    int64_t pads[4] = {0, 0, 0, 0}; // top, bottom, left, right
    float padValue = 0.0f;
    if (auto pad = input.getDefiningOp<tensor::PadOp>()) {
      FloatAttr value;
      Value padded = pad.getConstantPaddingValue();
      SmallVector<int64_t> low(pad.getStaticLow()), high(pad.getStaticHigh());
      auto srcType = cast<RankedTensorType>(pad.getSource().getType());
      if (padded && matchPattern(padded, m_Constant(&value)) &&
          srcType.hasStaticShape() && low.size() == 4 &&
          llvm::none_of(
              llvm::concat<int64_t>(low, high),
              [](int64_t v) { return v < 0 || ShapedType::isDynamic(v); }) &&
          low[0] == 0 && low[1] == 0 && high[0] == 0 && high[1] == 0) {
        pads[0] = low[2], pads[1] = high[2], pads[2] = low[3],
        pads[3] = high[3];
        padValue = static_cast<float>(value.getValueAsDouble());
        input = pad.getSource();
        inType = srcType;
      }
    }
    ArrayRef<int64_t> in = inType.getShape(), win = winType.getShape();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type f32 = rewriter.getF32Type(), i64 = rewriter.getI64Type();
    SmallVector<Type> argTypes(2, dynamic1D(f32));
    argTypes.append(15, i64);
    argTypes.append(2, f32);
    func::FuncOp callee = getOrDeclareRuntimeFunc(
        rewriter, op, kPool2DRuntimeFunc, FunctionType::get(ctx, argTypes, {}));
    auto c64 = [&](int64_t v) { return i64Constant(rewriter, loc, v); };
    auto cf = [&](float v) -> Value {
      return arith::ConstantOp::create(rewriter, loc,
                                       rewriter.getF32FloatAttr(v));
    };
    Value result = allocResult(rewriter, loc, outType);
    SmallVector<Value> args = {flatBuffer(rewriter, loc, input),
                               flatten(rewriter, loc, result),
                               c64(Mode),
                               c64(in[0]),
                               c64(in[1]),
                               c64(in[2]),
                               c64(in[3]),
                               c64(win[0]),
                               c64(win[1]),
                               c64(strides[0]),
                               c64(strides[1]),
                               c64(pads[0]),
                               c64(pads[1]),
                               c64(pads[2]),
                               c64(pads[3]),
                               c64(dilations[0]),
                               c64(dilations[1]),
                               cf(padValue),
                               cf(*initValue)};
    func::CallOp::create(rewriter, loc, callee, args);
    replaceWithBuffer(rewriter, op, result, outType);
    return success();
  }
};

struct ConvertSparseNNToLinalgPass
    : public sparsenn::impl::ConvertSparseNNToLinalgPassBase<
          ConvertSparseNNToLinalgPass> {
  using Base::Base;
  void runOnOperation() override {
    ConversionTarget target(getContext());
    target.addLegalDialect<
        arith::ArithDialect, bufferization::BufferizationDialect,
        func::FuncDialect, linalg::LinalgDialect, math::MathDialect,
        memref::MemRefDialect, tensor::TensorDialect>();
    target.addIllegalOp<LinearOp, Conv2DOp, Conv2DBackwardInputOp,
                        Conv2DBackwardWeightOp, KWinnersOp, ThresholdOp,
                        ApplyMaskOp, QuantizeOp, DequantizeOp,
                        DutyCycleUpdateOp>();
    target.addLegalOp<CompressedConstantOp, DecompressOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    populateSparseNNToLinalgPatterns(patterns, runtimeWeightKernels,
                                     fuseEpilogues);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      return signalPassFailure();
    // Ops without an inference lowering: refuse clearly.
    WalkResult result = getOperation().walk([](Operation *op) {
      if (isa<PruneOp, SparsityLossOp>(op)) {
        op->emitError("'")
            << op->getName()
            << "' is a training op: run --sparsenn-prune-weights to evaluate "
               "constant prunes, or the training lowering";
        return WalkResult::interrupt();
      }
      if (isa<BatchNormOp>(op)) {
        op->emitError("'") << op->getName()
                           << "' is lowered by --sparsenn-lower-training-ops "
                              "(static shapes only)";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    if (poolingKernels || gemmKernels) {
      RewritePatternSet pooling(&getContext());
      if (poolingKernels)
        populatePoolingToRuntimePatterns(pooling);
      if (gemmKernels)
        populateMatmulToRuntimePatterns(pooling);
      // One walk, no folding: the rest of the IR stays as converted.
      walkAndApplyPatterns(getOperation(), std::move(pooling));
    }
    // Compressed constants whose decompress folded away are dead now.
    getOperation().walk([](CompressedConstantOp op) {
      if (op->use_empty())
        op->erase();
    });
  }
};

} // namespace

void mlir::sparsenn::populateSparseNNToLinalgPatterns(
    RewritePatternSet &patterns, bool runtimeWeightKernels,
    bool fuseEpilogues) {
  patterns.add<LinearLowering>(patterns.getContext(), runtimeWeightKernels);
  patterns.add<Conv2DLowering>(patterns.getContext(), runtimeWeightKernels,
                               fuseEpilogues);
  patterns.add<Conv2DBackwardInputLowering, Conv2DBackwardWeightLowering>(
      patterns.getContext(), runtimeWeightKernels);
  patterns.add<KWinnersLowering, ThresholdLowering, ApplyMaskLowering,
               QuantizeLowering, DequantizeLowering, DutyCycleUpdateLowering>(
      patterns.getContext());
}

void mlir::sparsenn::populateMatmulToRuntimePatterns(
    RewritePatternSet &patterns) {
  patterns.add<MatmulToRuntime>(patterns.getContext());
}

void mlir::sparsenn::populatePoolingToRuntimePatterns(
    RewritePatternSet &patterns) {
  patterns.add<PoolingToRuntime<linalg::PoolingNchwMaxOp, SPARSENN_POOL_MAX>,
               PoolingToRuntime<linalg::PoolingNchwSumOp, SPARSENN_POOL_SUM>>(
      patterns.getContext());
}
