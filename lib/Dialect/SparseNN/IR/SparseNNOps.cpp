//===- SparseNNOps.cpp - sparsenn operations ------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Runtime/SPGC8.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace mlir::sparsenn;

#define GET_OP_CLASSES
#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

ArrayRef<int64_t> mlir::sparsenn::getWeightShape(Type weightType) {
  if (auto compressed = dyn_cast<SPGC8Type>(weightType))
    return compressed.getShape();
  return cast<ShapedType>(weightType).getShape();
}

double mlir::sparsenn::normalizeSparsity(Normalization normalization,
                                         double raw) {
  switch (normalization) {
  case Normalization::sigmoid:
    return 1.0 / (1.0 + std::exp(-raw));
  case Normalization::hard_sigmoid:
    return std::clamp(raw / 6.0 + 0.5, 0.0, 1.0);
  case Normalization::none:
    return raw;
  }
  llvm_unreachable("unknown normalization");
}

/// True when two static extents disagree (dynamic extents never disagree).
static bool mismatch(int64_t a, int64_t b) {
  return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
}

static std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "[";
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  os << "]";
  return s;
}

/// Element type of a weight operand, or null for compressed weights.
static Type getWeightElementType(Type weightType) {
  if (auto shaped = dyn_cast<RankedTensorType>(weightType))
    return shaped.getElementType();
  return {};
}

static LogicalResult verifyLayerTypes(Operation *op, Type input, Type weight,
                                      Value bias, Type output) {
  Type elt = cast<ShapedType>(input).getElementType();
  if (Type w = getWeightElementType(weight); w && w != elt)
    return op->emitOpError("weight element type ")
           << w << " does not match input element type " << elt;
  if (bias && cast<ShapedType>(bias.getType()).getElementType() != elt)
    return op->emitOpError("bias element type does not match input element "
                           "type ")
           << elt;
  if (cast<ShapedType>(output).getElementType() != elt)
    return op->emitOpError("result element type does not match input element "
                           "type ")
           << elt;
  return success();
}

static LogicalResult verifyFanIn(Operation *op,
                                 std::optional<SparsityAttr> sparsity,
                                 int64_t fanInLimit) {
  if (!sparsity || !sparsity->getFanIn())
    return success();
  int64_t fanIn = *sparsity->getFanIn();
  if (!ShapedType::isDynamic(fanInLimit) && fanIn > fanInLimit)
    return op->emitOpError("fan_in ") << fanIn << " exceeds the " << fanInLimit
                                      << " coefficients of one output unit";
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  auto inputType = cast<RankedTensorType>(getInput().getType());
  auto outputType = cast<RankedTensorType>(getOutput().getType());
  ArrayRef<int64_t> w = getWeightShape(getWeight().getType());
  if (w.size() != 2)
    return emitOpError("expects weight of rank 2 ([out, in]), got rank ")
           << w.size();
  if (inputType.getRank() < 1)
    return emitOpError("expects input of rank >= 1");
  if (mismatch(inputType.getShape().back(), w[1]))
    return emitOpError("input features ")
           << inputType.getShape().back() << " do not match weight [out, in] "
           << shapeStr(w);
  if (getBias() &&
      mismatch(cast<RankedTensorType>(getBias().getType()).getDimSize(0), w[0]))
    return emitOpError("bias of shape ")
           << shapeStr(cast<RankedTensorType>(getBias().getType()).getShape())
           << " does not match " << w[0] << " output features";
  SmallVector<int64_t> expected(inputType.getShape());
  expected.back() = w[0];
  if (outputType.getRank() != inputType.getRank() ||
      llvm::any_of(llvm::zip(expected, outputType.getShape()), [](auto p) {
        return mismatch(std::get<0>(p), std::get<1>(p));
      }))
    return emitOpError("result shape ")
           << shapeStr(outputType.getShape()) << " does not match expected "
           << shapeStr(expected);
  if (failed(verifyLayerTypes(*this, inputType, getWeight().getType(),
                              getBias(), outputType)))
    return failure();
  return verifyFanIn(*this, getSparsity(), w[1]);
}

//===----------------------------------------------------------------------===//
// Conv2DOp
//===----------------------------------------------------------------------===//

/// The geometry shared by the two conv2d gradient ops: `x` the forward
/// input's shape [N, C_in, H, W], `w` the weights' [C_out, C_in, kH, kW],
/// `dy` the output gradient's [N, C_out, OH, OW] (dynamic sizes match
/// anything).
static LogicalResult verifyConvGradient(Operation *op, ArrayRef<int64_t> x,
                                        ArrayRef<int64_t> w,
                                        ArrayRef<int64_t> dy,
                                        ArrayRef<int64_t> strides,
                                        ArrayRef<int64_t> padding,
                                        ArrayRef<int64_t> dilations) {
  if (strides.size() != 2 ||
      llvm::any_of(strides, [](int64_t s) { return s < 1; }))
    return op->emitOpError("strides must be two positive integers");
  if (dilations.size() != 2 ||
      llvm::any_of(dilations, [](int64_t s) { return s < 1; }))
    return op->emitOpError("dilations must be two positive integers");
  if (padding.size() != 4 ||
      llvm::any_of(padding, [](int64_t s) { return s < 0; }))
    return op->emitOpError("padding must be four non-negative integers [top, "
                           "bottom, left, right]");
  if (mismatch(x[0], dy[0]))
    return op->emitOpError("batch ")
           << dy[0] << " of the output gradient does not match the input's "
           << x[0];
  if (mismatch(x[1], w[1]))
    return op->emitOpError("weights ")
           << shapeStr(w) << " do not match " << x[1]
           << " input channels (groups 1)";
  if (mismatch(w[0], dy[1]))
    return op->emitOpError("weights ")
           << shapeStr(w) << " do not match " << dy[1]
           << " output-gradient channels";
  for (int i = 0; i < 2; ++i) {
    if (ShapedType::isDynamic(x[2 + i]) || ShapedType::isDynamic(w[2 + i]) ||
        ShapedType::isDynamic(dy[2 + i]))
      continue;
    int64_t span = x[2 + i] + padding[2 * i] + padding[2 * i + 1] -
                   dilations[i] * (w[2 + i] - 1) - 1;
    if (span < 0 || span / strides[i] + 1 != dy[2 + i])
      return op->emitOpError("output gradient ")
             << shapeStr(dy) << " is not the convolution output of input "
             << shapeStr(x) << " and weights " << shapeStr(w);
  }
  return success();
}

LogicalResult Conv2DBackwardInputOp::verify() {
  auto dy = getOutputGrad().getType(), w = getWeight().getType(),
       dx = getInputGrad().getType();
  if (dy.getElementType() != w.getElementType() ||
      dx.getElementType() != w.getElementType())
    return emitOpError("expects one element type for the output gradient, "
                       "weights and result");
  return verifyConvGradient(*this, dx.getShape(), w.getShape(), dy.getShape(),
                            getStrides(), getPadding(), getDilations());
}

LogicalResult Conv2DBackwardWeightOp::verify() {
  auto x = getInput().getType(), dy = getOutputGrad().getType(),
       dw = getWeightGrad().getType();
  if (x.getElementType() != dy.getElementType() ||
      dw.getElementType() != dy.getElementType())
    return emitOpError("expects one element type for the input, output "
                       "gradient and result");
  if (Value mask = getMask()) {
    auto m = cast<RankedTensorType>(mask.getType());
    if (llvm::any_of(llvm::zip(m.getShape(), dw.getShape()), [](auto p) {
          return mismatch(std::get<0>(p), std::get<1>(p));
        }))
      return emitOpError("mask ")
             << shapeStr(m.getShape()) << " does not match the result "
             << shapeStr(dw.getShape());
  }
  return verifyConvGradient(*this, x.getShape(), dw.getShape(), dy.getShape(),
                            getStrides(), getPadding(), getDilations());
}

LogicalResult BatchNormOp::verify() {
  auto x = getInput().getType();
  if (x.getRank() != 2 && x.getRank() != 4)
    return emitOpError("expects a [N, C] or [N, C, H, W] input, got rank ")
           << x.getRank();
  auto g = getGamma().getType();
  if (g.getElementType() != x.getElementType())
    return emitOpError("expects the parameters in the input's element type");
  if (mismatch(g.getDimSize(0), x.getDimSize(1)))
    return emitOpError("parameters of ")
           << g.getDimSize(0) << " channels for an input of "
           << x.getDimSize(1);
  if (!(getEpsilon().convertToDouble() > 0.0))
    return emitOpError("epsilon must be positive");
  double m = getMomentum().convertToDouble();
  if (!(m >= 0.0 && m <= 1.0))
    return emitOpError("momentum must be in [0, 1], got ") << m;
  return success();
}

LogicalResult Conv2DOp::verify() {
  auto inputType = cast<RankedTensorType>(getInput().getType());
  auto outputType = cast<RankedTensorType>(getOutput().getType());
  ArrayRef<int64_t> w = getWeightShape(getWeight().getType());
  ArrayRef<int64_t> strides = getStrides(), padding = getPadding(),
                    dilations = getDilations();
  if (strides.size() != 2 ||
      llvm::any_of(strides, [](int64_t s) { return s < 1; }))
    return emitOpError("strides must be two positive integers");
  if (dilations.size() != 2 ||
      llvm::any_of(dilations, [](int64_t s) { return s < 1; }))
    return emitOpError("dilations must be two positive integers");
  if (padding.size() != 4 ||
      llvm::any_of(padding, [](int64_t s) { return s < 0; }))
    return emitOpError("padding must be four non-negative integers [top, "
                       "bottom, left, right]");
  int64_t groups = getGroups();
  if (groups < 1)
    return emitOpError("groups must be positive, got ") << groups;
  if (w.size() != 4)
    return emitOpError("expects weight of rank 4 ([C_out, C_in/groups, kH, "
                       "kW]), got rank ")
           << w.size();
  int64_t cin = inputType.getDimSize(1);
  if (!ShapedType::isDynamic(cin) && cin % groups != 0)
    return emitOpError("input channels ")
           << cin << " are not divisible by groups " << groups;
  if (w[0] % groups != 0)
    return emitOpError("output channels ")
           << w[0] << " are not divisible by groups " << groups;
  if (!ShapedType::isDynamic(cin) && w[1] != cin / groups)
    return emitOpError("weight shape ")
           << shapeStr(w) << " expects " << w[1] * groups
           << " input channels with groups = " << groups << ", input has "
           << cin;
  if (getBias() &&
      mismatch(cast<RankedTensorType>(getBias().getType()).getDimSize(0), w[0]))
    return emitOpError("bias does not match ") << w[0] << " output channels";

  SmallVector<int64_t> expected = {inputType.getDimSize(0), w[0]};
  for (int i = 0; i < 2; ++i) {
    int64_t in = inputType.getDimSize(2 + i);
    if (ShapedType::isDynamic(in)) {
      expected.push_back(ShapedType::kDynamic);
      continue;
    }
    int64_t span = in + padding[2 * i] + padding[2 * i + 1] -
                   dilations[i] * (w[2 + i] - 1) - 1;
    if (span < 0)
      return emitOpError("kernel ")
             << shapeStr(w) << " does not fit the padded input "
             << shapeStr(inputType.getShape());
    expected.push_back(span / strides[i] + 1);
  }
  if (llvm::any_of(llvm::zip(expected, outputType.getShape()), [](auto p) {
        return mismatch(std::get<0>(p), std::get<1>(p));
      }))
    return emitOpError("result shape ")
           << shapeStr(outputType.getShape()) << " does not match expected "
           << shapeStr(expected);
  if (failed(verifyLayerTypes(*this, inputType, getWeight().getType(),
                              getBias(), outputType)))
    return failure();
  return verifyFanIn(*this, getSparsity(), w[1] * w[2] * w[3]);
}

//===----------------------------------------------------------------------===//
// KWinnersOp
//===----------------------------------------------------------------------===//

int64_t KWinnersOp::getDomainSize() {
  ArrayRef<int64_t> shape = getInput().getType().getShape();
  switch (getMode()) {
  case KWinnersMode::global: {
    int64_t n = 1;
    for (int64_t d : shape.drop_front())
      n *= d;
    return n;
  }
  case KWinnersMode::group:
    return getGroupSize() ? *getGroupSize() : 0;
  case KWinnersMode::local:
    return shape[1];
  case KWinnersMode::channel:
    return shape[2] * shape[3];
  }
  llvm_unreachable("unknown k-winners mode");
}

int64_t KWinnersOp::getNumDomainsPerSample() {
  int64_t perSample = 1;
  for (int64_t d : getInput().getType().getShape().drop_front())
    perSample *= d;
  int64_t n = getDomainSize();
  return n > 0 ? perSample / n : 0;
}

int64_t KWinnersOp::getEffectiveK() {
  if (getK())
    return *getK();
  // nupic.torch: k = int(round(n * percent_on)), Python's round is
  // half-to-even, as is nearbyint in the default rounding mode.
  return static_cast<int64_t>(
      std::nearbyint(getDensity()->convertToDouble() * getDomainSize()));
}

LogicalResult KWinnersOp::verify() {
  RankedTensorType inputType = getInput().getType();
  if (inputType != getOutput().getType())
    return emitOpError("result type ")
           << getOutput().getType() << " must match input type " << inputType;
  int64_t rank = inputType.getRank();
  if (rank != 2 && rank != 4)
    return emitOpError("expects input [B, F] or [B, C, H, W], got rank ")
           << rank;
  if (llvm::any_of(inputType.getShape().drop_front(), ShapedType::isDynamic))
    return emitOpError("non-batch dimensions must be static");
  KWinnersMode mode = getMode();
  if ((mode == KWinnersMode::local || mode == KWinnersMode::channel) &&
      rank != 4)
    return emitOpError("mode '")
           << stringifyKWinnersMode(mode) << "' needs a [B, C, H, W] input";
  if (mode == KWinnersMode::group) {
    if (!getGroupSize())
      return emitOpError("mode 'group' needs group_size");
    int64_t perSample = 1;
    for (int64_t d : inputType.getShape().drop_front())
      perSample *= d;
    int64_t g = *getGroupSize();
    if (g < 1 || perSample % g != 0)
      return emitOpError("group_size ") << g << " does not divide the "
                                        << perSample << " elements of a sample";
  } else if (getGroupSize()) {
    return emitOpError("group_size is only meaningful in mode 'group'");
  }
  if (static_cast<bool>(getK()) == static_cast<bool>(getDensity()))
    return emitOpError("expects exactly one of k and density");
  int64_t n = getDomainSize();
  if (getDensity()) {
    double d = getDensity()->convertToDouble();
    if (!(d > 0.0 && d <= 1.0))
      return emitOpError("density must be in (0, 1], got ") << d;
  }
  int64_t k = getEffectiveK();
  if (k < 1 || k > n)
    return emitOpError("k = ")
           << k << " is out of range [1, " << n << "] for mode '"
           << stringifyKWinnersMode(mode) << "'";
  double beta = getBoostStrengthOrZero();
  if (!(beta >= 0.0) || std::isinf(beta))
    return emitOpError("boost strength must be finite and non-negative");
  if (beta > 0.0 && !getDutyCycle())
    return emitOpError("boosting (boost > 0) needs a duty_cycle operand");
  if (Value duty = getDutyCycle()) {
    auto dutyType = cast<RankedTensorType>(duty.getType());
    // Per unit [F] for [B, F]; per channel [C] for [B, C, H, W] (eq. 3).
    SmallVector<int64_t> expected = {inputType.getDimSize(1)};
    if (dutyType.getShape() != ArrayRef<int64_t>(expected))
      return emitOpError("duty_cycle must have shape ")
             << shapeStr(expected) << " (per "
             << (rank == 2 ? "unit" : "channel") << "), got "
             << shapeStr(dutyType.getShape());
    if (dutyType.getElementType() != inputType.getElementType())
      return emitOpError("duty_cycle element type must match the input");
  }
  return success();
}

OpFoldResult KWinnersOp::fold(FoldAdaptor) {
  // Every element of a domain wins: with no boosting and no relu the
  // activation is the identity.
  if (getEffectiveK() >= getDomainSize() && getBoostStrengthOrZero() == 0.0 &&
      !getRelu())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// DutyCycleUpdateOp
//===----------------------------------------------------------------------===//

LogicalResult DutyCycleUpdateOp::verify() {
  auto dutyType = cast<RankedTensorType>(getDutyCycle().getType());
  auto actType = cast<RankedTensorType>(getActivations().getType());
  if (getNewDutyCycle().getType() != dutyType)
    return emitOpError("new duty cycle type must match the duty_cycle operand");
  if (static_cast<bool>(getAlpha()) == static_cast<bool>(getPeriod()))
    return emitOpError("expects exactly one of alpha (eq. 1) and period "
                       "(nupic.torch form)");
  if (getAlpha()) {
    double a = getAlpha()->convertToDouble();
    if (!(a > 0.0 && a <= 1.0))
      return emitOpError("alpha must be in (0, 1], got ") << a;
    if (getSeen() || getNewSeen())
      return emitOpError("the fixed-alpha form takes no seen counter");
  } else {
    if (*getPeriod() < 1)
      return emitOpError("period must be positive, got ") << *getPeriod();
    if (!getSeen() || !getNewSeen())
      return emitOpError("the period form needs the seen counter operand "
                         "and returns its update");
  }
  int64_t rank = actType.getRank();
  if (rank != 2 && rank != 4)
    return emitOpError("expects activations [B, F] or [B, C, H, W], got rank ")
           << rank;
  if (dutyType.getRank() != 1 ||
      mismatch(dutyType.getDimSize(0), actType.getDimSize(1)))
    return emitOpError("duty_cycle must have shape [")
           << actType.getDimSize(1) << "] (per "
           << (rank == 2 ? "unit" : "channel") << "), got "
           << shapeStr(dutyType.getShape());
  if (dutyType.getElementType() != actType.getElementType())
    return emitOpError("duty_cycle element type must match the activations");
  return success();
}

//===----------------------------------------------------------------------===//
// PruneOp
//===----------------------------------------------------------------------===//

SmallVector<int64_t>
mlir::sparsenn::getPruneGroupShape(PruneGranularity granularity,
                                   ArrayRef<int64_t> shape,
                                   ArrayRef<int64_t> groupShape) {
  SmallVector<int64_t> group(shape.size(), 1);
  switch (granularity) {
  case PruneGranularity::element:
    break;
  case PruneGranularity::group:
    group.assign(groupShape.begin(), groupShape.end());
    break;
  case PruneGranularity::input_channel:
    // One group per input channel: every dimension but dimension 1.
    group.assign(shape.begin(), shape.end());
    group[1] = 1;
    break;
  case PruneGranularity::output_filter:
    group.assign(shape.begin(), shape.end());
    group[0] = 1;
    break;
  }
  return group;
}

SmallVector<int64_t> PruneOp::getEffectiveGroupShape() {
  return getPruneGroupShape(getGranularity(), getWeights().getType().getShape(),
                            getGroupShape().value_or(ArrayRef<int64_t>()));
}

LogicalResult PruneOp::verify() {
  auto wType = getWeights().getType();
  if (getPruned().getType() != wType)
    return emitOpError("pruned result type must match the weights");
  if (getMask().getType().getShape() != wType.getShape())
    return emitOpError("mask shape ")
           << shapeStr(getMask().getType().getShape())
           << " must match the weights " << shapeStr(wType.getShape());
  PruneGranularity granularity = getGranularity();
  if (granularity == PruneGranularity::group) {
    if (!getGroupShape())
      return emitOpError("granularity 'group' needs group_shape");
    ArrayRef<int64_t> g = *getGroupShape();
    if (g.size() != static_cast<size_t>(wType.getRank()))
      return emitOpError("group_shape has ")
             << g.size() << " entries, the weights have rank "
             << wType.getRank();
    // A group may be larger than a dimension (e.g. SPGC8's 1x16 groups on a
    // layer with fewer than 16 input channels): remainder groups are
    // zero-padded for the reduction only (seed 003 FIG. 7b).
    if (llvm::any_of(g, [](int64_t gi) { return gi < 1; }))
      return emitOpError("group_shape ")
             << shapeStr(g) << " must have positive entries";
  } else if (getGroupShape()) {
    return emitOpError("group_shape is only meaningful with granularity "
                       "'group'");
  }
  if ((granularity == PruneGranularity::input_channel ||
       granularity == PruneGranularity::output_filter) &&
      wType.getRank() < 2)
    return emitOpError("channel and filter granularity need weights of rank "
                       ">= 2");
  if (getMethod() == PruneMethod::gaussian &&
      granularity != PruneGranularity::element)
    return emitOpError("the gaussian pruner (FIG. 7c) works on elements only");
  if (getMethod() == PruneMethod::gumbel &&
      (llvm::any_of(wType.getShape(), ShapedType::isDynamic)))
    return emitOpError("the gumbel pruner needs static weight shapes");
  return success();
}

/// Reads a constant scalar float operand.
static std::optional<double> getConstantScalar(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseFPElementsAttr>(attr);
  if (!dense || !dense.isSplat())
    return std::nullopt;
  return dense.getSplatValue<APFloat>().convertToDouble();
}

LogicalResult PruneOp::fold(FoldAdaptor adaptor,
                            SmallVectorImpl<OpFoldResult> &results) {
  std::optional<double> raw = getConstantScalar(adaptor.getSparsity());
  if (!raw)
    return failure();
  double s = normalizeSparsity(getNormalization(), *raw);
  // Quantile pruners remove round(s·N) items and the Gumbel threshold is -inf
  // at s = 0: nothing is pruned. (Gaussian keeps |w - mu| > 0, which can
  // still prune coefficients equal to the mean, so it does not fold.)
  if (s != 0.0 || getMethod() == PruneMethod::gaussian)
    return failure();
  results.push_back(getWeights());
  results.push_back(DenseElementsAttr::get(getMask().getType(),
                                           BoolAttr::get(getContext(), true)));
  return success();
}

//===----------------------------------------------------------------------===//
// ApplyMaskOp
//===----------------------------------------------------------------------===//

LogicalResult ApplyMaskOp::verify() {
  if (getMask().getType().getShape() != getWeights().getType().getShape())
    return emitOpError("mask shape ")
           << shapeStr(getMask().getType().getShape())
           << " must match the weights "
           << shapeStr(getWeights().getType().getShape());
  return success();
}

OpFoldResult ApplyMaskOp::fold(FoldAdaptor adaptor) {
  auto mask = dyn_cast_or_null<DenseIntElementsAttr>(adaptor.getMask());
  if (!mask || !mask.isSplat())
    return {};
  if (mask.getSplatValue<bool>())
    return getWeights();
  auto type = getWeights().getType();
  if (!type.hasStaticShape())
    return {};
  return DenseElementsAttr::get(type,
                                FloatAttr::get(type.getElementType(), 0.0));
}

//===----------------------------------------------------------------------===//
// SparsityLossOp
//===----------------------------------------------------------------------===//

LogicalResult SparsityLossOp::verify() {
  if (getSparsities().empty())
    return emitOpError("needs at least one sparsity parameter");
  if (getCounts().size() != getSparsities().size())
    return emitOpError("has ")
           << getSparsities().size() << " sparsity parameters but "
           << getCounts().size() << " counts";
  if (llvm::any_of(getCounts(), [](int64_t c) { return c < 1; }))
    return emitOpError("coefficient counts must be positive");
  double alpha = getAlpha().convertToDouble();
  if (!(alpha >= 0.0 && alpha <= 1.0))
    return emitOpError("alpha must be in [0, 1], got ") << alpha;
  if (getTheta()) {
    double theta = getTheta()->convertToDouble();
    if (!(theta > 0.0 && theta <= 1.0))
      return emitOpError("theta must be in (0, 1], got ") << theta;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizeOp / DequantizeOp
//===----------------------------------------------------------------------===//

static LogicalResult verifyQuantTypes(Operation *op, ShapedType in,
                                      ShapedType scales, ShapedType out,
                                      int64_t axis) {
  if (in.getShape() != out.getShape())
    return op->emitOpError("result shape ")
           << shapeStr(out.getShape()) << " must match the input "
           << shapeStr(in.getShape());
  if (axis < 0 || axis >= in.getRank())
    return op->emitOpError("axis ")
           << axis << " is out of range for rank " << in.getRank();
  if (mismatch(scales.getDimSize(0), in.getDimSize(axis)))
    return op->emitOpError("expects ")
           << in.getDimSize(axis) << " scales (dimension " << axis << "), got "
           << scales.getDimSize(0);
  return success();
}

LogicalResult QuantizeOp::verify() {
  return verifyQuantTypes(*this, getInput().getType(), getScales().getType(),
                          getOutput().getType(), getAxis());
}

LogicalResult DequantizeOp::verify() {
  return verifyQuantTypes(*this, getInput().getType(), getScales().getType(),
                          getOutput().getType(), getAxis());
}

//===----------------------------------------------------------------------===//
// CompressedConstantOp / DecompressOp
//===----------------------------------------------------------------------===//

/// The bytes of an i8 elements attribute, without a copy for the usual dense
/// storage (the verifier runs after every pass on possibly large streams);
/// other storage is copied into `storage`.
static ArrayRef<uint8_t> getBytes(ElementsAttr data,
                                  std::vector<uint8_t> &storage) {
  if (auto dense = dyn_cast<DenseElementsAttr>(data);
      dense && !dense.isSplat()) {
    ArrayRef<char> raw = dense.getRawData();
    return ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(raw.data()),
                             raw.size());
  }
  storage.clear();
  storage.reserve(data.getNumElements());
  for (int8_t v : data.getValues<int8_t>())
    storage.push_back(static_cast<uint8_t>(v));
  return storage;
}

LogicalResult CompressedConstantOp::verify() {
  SPGC8Type type = getOutput().getType();
  auto dataType = dyn_cast<RankedTensorType>(getData().getType());
  if (!dataType || dataType.getRank() != 1 ||
      !dataType.getElementType().isSignlessInteger(8))
    return emitOpError("data must be a 1-D tensor of i8 (the raw stream "
                       "bytes)");
  auto scalesType = dyn_cast<RankedTensorType>(getScales().getType());
  if (!scalesType || scalesType.getRank() != 1 ||
      !scalesType.getElementType().isF32())
    return emitOpError("scales must be a 1-D tensor of f32");
  if (scalesType.getDimSize(0) != type.getNumOutputChannels())
    return emitOpError("expects ")
           << type.getNumOutputChannels() << " scales (one per output "
           << "channel), got " << scalesType.getDimSize(0);
  std::vector<uint8_t> storage;
  ArrayRef<uint8_t> bytes = getBytes(getData(), storage);
  size_t streamSize = 0;
  sparsenn_status status = sparsenn_spgc8_raw_stream_size(
      bytes.data(), bytes.size(), type.getNumStreamValues(), type.getBits(),
      type.getLayout() == GroupLayout::interleaved, &streamSize);
  if (status != SPARSENN_OK)
    return emitOpError("data is not a valid SPGC8 stream for ")
           << type << ": " << sparsenn_status_string(status);
  if (streamSize != bytes.size())
    return emitOpError("data has ")
           << bytes.size() << " bytes but the SPGC8 stream of " << type
           << " encoded by its headers has " << streamSize;
  return success();
}

LogicalResult DecompressOp::verify() {
  SPGC8Type type = getInput().getType();
  RankedTensorType result = getOutput().getType();
  if (result.getShape() != type.getShape())
    return emitOpError("result shape ")
           << shapeStr(result.getShape()) << " must match the logical shape "
           << shapeStr(type.getShape());
  Type elt = result.getElementType();
  if (auto intType = dyn_cast<IntegerType>(elt);
      intType && intType.getWidth() != type.getBits())
    return emitOpError("integer result must have the stream's ")
           << type.getBits() << "-bit coefficients, got " << elt;
  return success();
}

DenseElementsAttr
mlir::sparsenn::decodeCompressedConstant(CompressedConstantOp source,
                                         RankedTensorType result) {
  SPGC8Type type = source.getOutput().getType();
  std::vector<uint8_t> storage;
  ArrayRef<uint8_t> bytes = getBytes(source.getData(), storage);
  std::vector<int16_t> stream(type.getNumStreamValues());
  size_t consumed = 0;
  if (sparsenn_spgc8_decode_raw_i16(
          bytes.data(), bytes.size(), stream.size(), type.getBits(),
          type.getLayout() == GroupLayout::interleaved,
          /*is_unsigned=*/0, stream.data(), &consumed) != SPARSENN_OK)
    return {};
  int64_t numElements = type.getNumElements();
  int64_t perChannel = numElements / type.getNumOutputChannels();
  if (auto intType = dyn_cast<IntegerType>(result.getElementType())) {
    SmallVector<APInt> values;
    values.reserve(numElements);
    for (int64_t i = 0; i < numElements; ++i)
      values.push_back(APInt(intType.getWidth(), stream[type.getStreamIndex(i)],
                             /*isSigned=*/true));
    return DenseElementsAttr::get(result, values);
  }
  auto floatType = cast<FloatType>(result.getElementType());
  SmallVector<float> scales;
  for (APFloat s : cast<ElementsAttr>(source.getScales()).getValues<APFloat>())
    scales.push_back(s.convertToFloat());
  SmallVector<APFloat> values;
  values.reserve(numElements);
  for (int64_t i = 0; i < numElements; ++i) {
    APFloat v(float(stream[type.getStreamIndex(i)]) * scales[i / perChannel]);
    bool losesInfo = false;
    v.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
              &losesInfo);
    values.push_back(v);
  }
  return DenseElementsAttr::get(result, values);
}

ArrayRef<uint8_t>
mlir::sparsenn::getCompressedBytes(CompressedConstantOp source,
                                   std::vector<uint8_t> &storage) {
  return getBytes(source.getData(), storage);
}

LogicalResult
mlir::sparsenn::decodeCompressedWeights(CompressedConstantOp source,
                                        std::vector<float> &values) {
  SPGC8Type type = source.getOutput().getType();
  std::vector<uint8_t> storage;
  ArrayRef<uint8_t> bytes = getBytes(source.getData(), storage);
  // The codec's tensor decoder also rejects non-zero padding, which the
  // fused runtime kernel refuses too.
  std::vector<int16_t> q(type.getNumElements());
  if (sparsenn_spgc8_decode_tensor_stream_i16(
          bytes.data(), bytes.size(), type.getShape().data(),
          static_cast<int>(type.getShape().size()), type.getBits(),
          type.getLayout() == GroupLayout::interleaved, /*is_unsigned=*/0,
          q.data(), /*consumed=*/nullptr) != SPARSENN_OK)
    return failure();
  std::vector<float> scales;
  for (APFloat s : cast<ElementsAttr>(source.getScales()).getValues<APFloat>())
    scales.push_back(s.convertToFloat());
  int64_t perChannel = q.size() / type.getNumOutputChannels();
  values.resize(q.size());
  for (size_t i = 0; i < q.size(); ++i)
    values[i] = float(q[i]) * scales[i / perChannel];
  return success();
}

OpFoldResult DecompressOp::fold(FoldAdaptor) {
  auto source = getInput().getDefiningOp<CompressedConstantOp>();
  if (!source)
    return {};
  return decodeCompressedConstant(source, getOutput().getType());
}
