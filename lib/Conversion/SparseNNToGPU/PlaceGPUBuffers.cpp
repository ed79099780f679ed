//===- PlaceGPUBuffers.cpp - device memory for the buffers kernels use ----===//
//
// sparsenn-place-gpu-buffers: after the kernels exist (gpu.launch, from
// convert-sparsenn-to-gpu and from the mapped parallel loops), decides where
// every buffer of a function lives, so that the function keeps its host ABI
// (host memrefs in, freshly allocated host memrefs out) while all its
// compute runs on the GPU:
//
//  1. host code left over (loops with loads/stores that are not parallel,
//     e.g. full reductions) is moved into single-thread gpu.launch ops;
//  2. memref.copy becomes gpu.memcpy (identity layouts, any memory: the
//     driver infers the direction) or a copy kernel (strided views);
//  3. memref.alloc/alloca whose buffer a kernel touches becomes gpu.alloc;
//     function arguments a kernel reads are copied to device memory once at
//     entry; constants (memref.get_global) a kernel reads become the cached
//     device copy made by the runtime (`_mlir_ciface_sparsenn_gpu_constant_
//     <T>`, runtime/include/sparsenn/Runtime/GPU.h), uploaded on first use;
//  4. results in device memory are copied into host allocations before the
//     return; device buffers are freed after their last use (functions must
//     be one block: the straight-line code a model lowers to).
//
// Host code that would still read or write device memory (a scalar load of a
// computed tensor, a call) is an error. Functions without kernels are left
// alone (they run on the CPU).
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Conversion/Passes.h"
#include "sparsenn/Conversion/SparseNNToGPU/SparseNNToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_SPARSENNPLACEGPUBUFFERSPASS
#include "sparsenn/Conversion/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;

namespace {

/// The view op producing `v`, or null.
Operation *viewOp(Value v) {
  Operation *def = v.getDefiningOp();
  if (def && isa<ViewLikeOpInterface>(def) &&
      cast<ViewLikeOpInterface>(def).getViewSource())
    return def;
  return nullptr;
}

/// The buffer a memref value views (through view-like ops).
Value rootOf(Value v) {
  while (Operation *op = viewOp(v))
    v = cast<ViewLikeOpInterface>(op).getViewSource();
  return v;
}

bool isMemRef(Value v) { return isa<MemRefType>(v.getType()); }

bool insideLaunch(Operation *op) {
  return op->getParentOfType<gpu::LaunchOp>() != nullptr;
}

/// True if `op` reads or writes the memory of one of its memref operands
/// (ops without the interface count as doing so).
bool dereferences(Operation *op) {
  if (!llvm::any_of(op->getOperands(), isMemRef))
    return false;
  if (isa<func::ReturnOp, memref::DeallocOp>(op) ||
      isa<gpu::GPUDialect>(op->getDialect()))
    return false;
  if (viewOp(op->getNumResults() == 1 ? op->getResult(0) : Value()))
    return false;
  if (isa<memref::DimOp, memref::ExtractStridedMetadataOp,
          memref::ExtractAlignedPointerAsIndexOp>(op))
    return false;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return true;
  SmallVector<MemoryEffects::EffectInstance> list;
  effects.getEffects(list);
  return llvm::any_of(list, [](const MemoryEffects::EffectInstance &e) {
    return isa<MemoryEffects::Read, MemoryEffects::Write>(e.getEffect()) &&
           e.getValue() && isa<MemRefType>(e.getValue().getType());
  });
}

/// Does `op` or anything nested in it dereference a memref?
bool touchesMemory(Operation *op) {
  bool found = false;
  op->walk([&](Operation *nested) {
    if (dereferences(nested)) {
      found = true;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

gpu::LaunchOp createLaunch(OpBuilder &b, Location loc, Value gridX,
                           int64_t threads) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value tx = arith::ConstantIndexOp::create(b, loc, threads);
  auto launch = gpu::LaunchOp::create(b, loc, gridX, one, one, tx, one, one);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  gpu::TerminatorOp::create(b, loc);
  return launch;
}

/// dst = src for static shapes through a kernel (any layouts).
LogicalResult copyKernel(OpBuilder &b, Location loc, Value src, Value dst) {
  auto type = cast<MemRefType>(src.getType());
  if (!type.hasStaticShape())
    return failure();
  int64_t total = type.getNumElements();
  const int64_t threads = 256;
  Value grid = arith::ConstantIndexOp::create(
      b, loc, std::max<int64_t>(1, llvm::divideCeil(total, threads)));
  gpu::LaunchOp launch = createLaunch(b, loc, grid, threads);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(launch.getBody().front().getTerminator());
  Value nt = arith::ConstantIndexOp::create(b, loc, threads);
  Value i = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, nt),
      launch.getThreadIds().x);
  Value inRange =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, i,
                            arith::ConstantIndexOp::create(b, loc, total));
  auto ifOp = scf::IfOp::create(b, loc, inRange, false);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  SmallVector<Value> indices(type.getRank());
  Value rest = i;
  for (int64_t d = type.getRank() - 1; d >= 0; --d) {
    Value size = arith::ConstantIndexOp::create(b, loc, type.getDimSize(d));
    indices[d] = arith::RemUIOp::create(b, loc, rest, size);
    rest = arith::DivUIOp::create(b, loc, rest, size);
  }
  Value v = memref::LoadOp::create(b, loc, src, indices);
  memref::StoreOp::create(b, loc, v, dst, indices);
  return success();
}

bool hasIdentityLayout(Value v) {
  return cast<MemRefType>(v.getType()).getLayout().isIdentity();
}

/// Element type suffix of the runtime's constant upload functions.
std::optional<std::string> typeSuffix(Type t) {
  if (t.isF32())
    return "f32";
  if (t.isF64())
    return "f64";
  if (t.isF16())
    return "f16";
  if (t.isBF16())
    return "bf16";
  if (auto i = dyn_cast<IntegerType>(t)) {
    switch (i.getWidth()) {
    case 1:
      return "i1";
    case 8:
      return "i8";
    case 16:
      return "i16";
    case 32:
      return "i32";
    case 64:
      return "i64";
    default:
      return std::nullopt;
    }
  }
  if (isa<IndexType>(t))
    return "i64";
  return std::nullopt;
}

int64_t elementBytes(Type t) {
  if (isa<IndexType>(t))
    return 8;
  return std::max<int64_t>(1, t.getIntOrFloatBitWidth() / 8);
}

struct SparseNNPlaceGPUBuffersPass
    : public sparsenn::impl::SparseNNPlaceGPUBuffersPassBase<
          SparseNNPlaceGPUBuffersPass> {
  using Base::Base;

  void runOnOperation() override {
    // A module pass: constants need a runtime function declared in the
    // module.
    for (auto func : llvm::to_vector(getOperation().getOps<func::FuncOp>()))
      if (failed(runOnFunction(func)))
        return signalPassFailure();
  }

  LogicalResult runOnFunction(func::FuncOp func) {
    if (func.isExternal())
      return success();
    bool hasKernels =
        func.getBody()
            .walk([](gpu::LaunchOp) { return WalkResult::interrupt(); })
            .wasInterrupted();
    if (!hasKernels)
      return success();
    if (!func.getBody().hasOneBlock())
      return func.emitError("functions with GPU kernels must be a single "
                            "block (straight-line code) for "
                            "sparsenn-place-gpu-buffers");
    if (failed(wrapHostCode(func)) || failed(convertCopies(func)) ||
        failed(placeBuffers(func)) || failed(verifyHost(func)))
      return failure();
    return success();
  }

  /// Step 1: leftover host computation → single-thread kernels.
  LogicalResult wrapHostCode(func::FuncOp func) {
    OpBuilder b(func.getContext());
    for (Operation &op : llvm::make_early_inc_range(func.getBody().front())) {
      if (isa<gpu::LaunchOp, memref::CopyOp, func::CallOp, func::ReturnOp>(
              op) ||
          op.getNumResults() != 0 || !touchesMemory(&op))
        continue;
      b.setInsertionPoint(&op);
      Value one = arith::ConstantIndexOp::create(b, op.getLoc(), 1);
      gpu::LaunchOp launch = createLaunch(b, op.getLoc(), one, 1);
      op.moveBefore(launch.getBody().front().getTerminator());
    }
    return success();
  }

  /// Step 2: memref.copy → gpu.memcpy or a copy kernel.
  LogicalResult convertCopies(func::FuncOp func) {
    OpBuilder b(func.getContext());
    SmallVector<memref::CopyOp> copies;
    func.walk([&](memref::CopyOp op) {
      if (!insideLaunch(op))
        copies.push_back(op);
    });
    for (memref::CopyOp op : copies) {
      b.setInsertionPoint(op);
      Value src = op.getSource(), dst = op.getTarget();
      if (hasIdentityLayout(src) && hasIdentityLayout(dst)) {
        gpu::MemcpyOp::create(b, op.getLoc(), Type(), ValueRange{}, dst, src);
      } else if (failed(copyKernel(b, op.getLoc(), src, dst))) {
        return op.emitError("memref.copy with dynamic shapes is not supported "
                            "on the GPU");
      }
      op.erase();
    }
    return success();
  }

  /// Step 3 and 4.
  LogicalResult placeBuffers(func::FuncOp func) {
    Block &body = func.getBody().front();
    OpBuilder b(func.getContext());
    // Buffers (roots) the kernels use, and the captured views of them.
    llvm::SetVector<Value> roots;
    SmallVector<std::pair<gpu::LaunchOp, Value>> captures;
    for (auto launch : llvm::to_vector(body.getOps<gpu::LaunchOp>())) {
      llvm::SetVector<Value> used;
      getUsedValuesDefinedAbove(launch.getBody(), used);
      for (Value v : used) {
        if (!isMemRef(v))
          continue;
        Value root = rootOf(v);
        auto arg = dyn_cast<BlockArgument>(root);
        Operation *def = root.getDefiningOp();
        if (!(arg && arg.getOwner() == &body) &&
            !isa_and_nonnull<memref::AllocOp, memref::AllocaOp,
                             memref::GetGlobalOp>(def))
          return launch.emitError("a GPU kernel uses a buffer that is not an "
                                  "argument, an allocation or a constant "
                                  "of the function");
        roots.insert(root);
        captures.push_back({launch, v});
      }
    }
    // Device versions of host roots: constants first, then copies of the
    // arguments, at the start of the function (before any queued GPU work).
    DenseMap<Value, Value> device;
    SmallVector<Value> toFree;
    b.setInsertionPointToStart(&body);
    Operation *anchor =
        arith::ConstantIndexOp::create(b, func.getLoc(), 0).getOperation();
    for (bool constants : {true, false}) {
      for (Value root : roots) {
        Operation *def = root.getDefiningOp();
        auto type = cast<MemRefType>(root.getType());
        if (isa_and_nonnull<memref::AllocOp, memref::AllocaOp>(def) ||
            constants != (def != nullptr))
          continue;
        if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
            type.getMemorySpace())
          return func.emitError("a GPU kernel reads ")
                 << (def ? "a constant" : "an argument") << " of type " << type
                 << ": only static identity-layout buffers can be placed on "
                    "the GPU";
        Location loc = def ? def->getLoc() : func.getLoc();
        b.setInsertionPoint(anchor);
        if (!def) {
          Value copy =
              gpu::AllocOp::create(b, loc, type, Type(), ValueRange{},
                                   ValueRange{}, ValueRange{}, UnitAttr())
                  .getMemref();
          gpu::MemcpyOp::create(b, loc, Type(), ValueRange{}, copy, root);
          device[root] = copy;
          toFree.push_back(copy);
          continue;
        }
        def->moveBefore(anchor);
        FailureOr<Value> copy = deviceConstant(b, loc, root);
        if (failed(copy))
          return def->emitError("constants of type ")
                 << type << " cannot be placed on the GPU";
        device[root] = *copy;
      }
    }
    anchor->erase();
    // The view `v` of a host root rebuilt on its device copy, before `at`.
    auto deviceView = [&](Value v, Operation *at) -> Value {
      Value root = rootOf(v);
      SmallVector<Operation *> chain;
      for (Value w = v; w != root;
           w = cast<ViewLikeOpInterface>(viewOp(w)).getViewSource())
        chain.push_back(viewOp(w));
      IRMapping mapping;
      mapping.map(root, device.lookup(root));
      b.setInsertionPoint(at);
      for (Operation *op : llvm::reverse(chain))
        b.clone(*op, mapping);
      return mapping.lookup(v);
    };
    // Kernels use the device versions.
    for (auto [launch, v] : captures) {
      if (!device.count(rootOf(v)))
        continue;
      Value mapped = deviceView(v, launch);
      v.replaceUsesWithIf(mapped, [&, launch = launch](OpOperand &use) {
        return launch->isProperAncestor(use.getOwner());
      });
    }
    // Allocations the kernels touch live on the device.
    DenseMap<Value, Value> allocs;
    for (Value root : roots) {
      Operation *def = root.getDefiningOp();
      if (!isa_and_nonnull<memref::AllocOp, memref::AllocaOp>(def))
        continue;
      auto type = cast<MemRefType>(root.getType());
      if (type.getMemorySpace())
        return def->emitError("allocation in memory space ")
               << type.getMemorySpace() << " cannot be placed on the GPU";
      b.setInsertionPoint(def);
      auto alloc =
          gpu::AllocOp::create(b, def->getLoc(), type, Type(), ValueRange{},
                               def->getOperands(), ValueRange{}, UnitAttr());
      root.replaceAllUsesWith(alloc.getMemref());
      def->erase();
      allocs[alloc.getMemref()] = alloc.getMemref();
    }
    // Explicit deallocations of device buffers.
    DenseSet<Value> freed;
    for (auto op : llvm::to_vector(body.getOps<memref::DeallocOp>())) {
      Value root = rootOf(op.getMemref());
      if (!allocs.count(root))
        continue;
      b.setInsertionPoint(op);
      gpu::DeallocOp::create(b, op.getLoc(), Type(), ValueRange{},
                             op.getMemref());
      op.erase();
      freed.insert(root);
    }
    // Results in device memory come back to fresh host buffers.
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    DenseSet<Value> returned;
    for (OpOperand &operand : ret->getOpOperands()) {
      Value v = operand.get();
      if (!isMemRef(v))
        continue;
      Value root = rootOf(v);
      // An argument that kernels used may have been written in place (one-
      // shot bufferization can reuse argument buffers): its device copy is
      // the value.
      bool argument = isa<BlockArgument>(root) && device.count(root);
      if (!allocs.count(root) && !argument)
        continue;
      auto type = cast<MemRefType>(v.getType());
      if (!type.getLayout().isIdentity() || !type.hasStaticShape())
        return ret.emitError("a GPU result of type ")
               << type << " must have a static identity layout";
      Value source = argument ? deviceView(v, ret) : v;
      b.setInsertionPoint(ret);
      Value host = memref::AllocOp::create(b, ret.getLoc(), type);
      gpu::MemcpyOp::create(b, ret.getLoc(), Type(), ValueRange{}, host,
                            source);
      operand.set(host);
      returned.insert(root);
    }
    // Free device buffers after their last use.
    for (auto [root, unused] : allocs)
      if (!freed.count(root))
        toFree.push_back(root);
    for (Value root : toFree) {
      Operation *last = nullptr;
      SmallVector<Value> worklist = {root};
      while (!worklist.empty()) {
        Value v = worklist.pop_back_val();
        for (Operation *user : v.getUsers()) {
          Operation *top = body.findAncestorOpInBlock(*user);
          if (!top)
            continue;
          if (!last || last->isBeforeInBlock(top))
            last = top;
          if (user->getNumResults() == 1 && viewOp(user->getResult(0)))
            worklist.push_back(user->getResult(0));
        }
      }
      if (!last || isa<func::ReturnOp>(last))
        b.setInsertionPoint(ret);
      else
        b.setInsertionPointAfter(last);
      gpu::DeallocOp::create(b, func.getLoc(), Type(), ValueRange{}, root);
    }
    return success();
  }

  /// The cached device copy of a constant: a call of the runtime on a flat
  /// view, viewed back in the constant's shape.
  FailureOr<Value> deviceConstant(OpBuilder &b, Location loc, Value global) {
    auto type = cast<MemRefType>(global.getType());
    std::optional<std::string> suffix = typeSuffix(type.getElementType());
    if (!suffix)
      return failure();
    auto module = global.getParentRegion()->getParentOfType<ModuleOp>();
    MLIRContext *ctx = b.getContext();
    Type elt = type.getElementType();
    auto flatDyn = MemRefType::get({ShapedType::kDynamic}, elt);
    auto i64 = IntegerType::get(ctx, 64);
    std::string name = sparsenn::kGPUConstantFuncPrefix + *suffix;
    auto callee = module.lookupSymbol<func::FuncOp>(name);
    if (!callee) {
      OpBuilder mb(ctx);
      mb.setInsertionPointToStart(module.getBody());
      callee = func::FuncOp::create(
          mb, loc, name, FunctionType::get(ctx, {flatDyn, i64}, {flatDyn}));
      callee.setPrivate();
      callee->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
    } else if (callee.getFunctionType() !=
               FunctionType::get(ctx, {flatDyn, i64}, {flatDyn})) {
      return failure();
    }
    Value flat = global;
    if (type.getRank() == 0)
      flat = memref::ExpandShapeOp::create(b, loc, MemRefType::get({1}, elt),
                                           global,
                                           SmallVector<ReassociationIndices>{});
    else if (type.getRank() > 1)
      flat = memref::CollapseShapeOp::create(
          b, loc, global,
          SmallVector<ReassociationIndices>{
              llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()))});
    auto flatStatic = cast<MemRefType>(flat.getType());
    Value dyn = memref::CastOp::create(b, loc, flatDyn, flat);
    Value bytes = arith::ConstantIntOp::create(b, loc, elementBytes(elt), 64);
    Value dev = func::CallOp::create(b, loc, callee, ValueRange{dyn, bytes})
                    .getResult(0);
    Value result = memref::CastOp::create(b, loc, flatStatic, dev);
    if (type.getRank() == 0)
      return memref::CollapseShapeOp::create(
                 b, loc, result, SmallVector<ReassociationIndices>{})
          .getResult();
    if (type.getRank() > 1)
      result = memref::ExpandShapeOp::create(
          b, loc, type, result,
          SmallVector<ReassociationIndices>{
              llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()))});
    return result;
  }

  /// No host op may dereference device memory.
  LogicalResult verifyHost(func::FuncOp func) {
    WalkResult result = func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp>(op))
        return WalkResult::skip();
      if (!dereferences(op))
        return WalkResult::advance();
      for (Value v : op->getOperands()) {
        if (!isMemRef(v))
          continue;
        if (isa_and_nonnull<gpu::AllocOp>(rootOf(v).getDefiningOp())) {
          op->emitError("'")
              << op->getName()
              << "' would read or write GPU memory on the host: only "
                 "kernels, copies and returns may use a buffer that GPU "
                 "kernels use";
          return WalkResult::interrupt();
        }
      }
      return WalkResult::advance();
    });
    return failure(result.wasInterrupted());
  }
};

} // namespace
