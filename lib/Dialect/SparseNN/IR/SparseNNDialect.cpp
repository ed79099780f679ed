//===- SparseNNDialect.cpp - sparsenn dialect, attributes, types ----------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNDialect.h"
#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::sparsenn;

#include "sparsenn/Dialect/SparseNN/IR/SparseNNDialect.cpp.inc"
#include "sparsenn/Dialect/SparseNN/IR/SparseNNEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "sparsenn/Dialect/SparseNN/IR/SparseNNAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "sparsenn/Dialect/SparseNN/IR/SparseNNTypes.cpp.inc"

void SparseNNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "sparsenn/Dialect/SparseNN/IR/SparseNNAttrs.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "sparsenn/Dialect/SparseNN/IR/SparseNNTypes.cpp.inc"
      >();
  // Attached by registerSparseNNAdjointModels (they build linalg code).
  declarePromisedInterfaces<DifferentiableOpInterface, LinearOp, Conv2DOp,
                            KWinnersOp, PruneOp>();
}

Operation *SparseNNDialect::materializeConstant(OpBuilder &builder,
                                                Attribute value, Type type,
                                                Location loc) {
  auto typed = dyn_cast<TypedAttr>(value);
  if (!typed || !arith::ConstantOp::isBuildableWith(value, type))
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, typed);
}

//===----------------------------------------------------------------------===//
// SparsityAttr
//===----------------------------------------------------------------------===//

LogicalResult SparsityAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   APFloat density,
                                   std::optional<int64_t> fanIn) {
  double d = density.convertToDouble();
  if (!(d >= 0.0 && d <= 1.0))
    return emitError() << "density must be in [0, 1], got " << d;
  if (fanIn && *fanIn < 0)
    return emitError() << "fan_in must be non-negative, got " << *fanIn;
  return success();
}

//===----------------------------------------------------------------------===//
// SPGC8Type
//===----------------------------------------------------------------------===//

LogicalResult SPGC8Type::verify(function_ref<InFlightDiagnostic()> emitError,
                                ArrayRef<int64_t> shape,
                                IntegerType elementType, GroupLayout layout) {
  if (shape.size() != 1 && shape.size() != 2 && shape.size() != 4)
    return emitError() << "SPGC8 weights must have rank 1, 2 ([out, in]) or "
                          "4 ([C_out, C_in, kH, kW]), got rank "
                       << shape.size();
  for (int64_t d : shape)
    if (d <= 0)
      return emitError() << "SPGC8 weights need static positive dimensions";
  if (!elementType.isSignless() ||
      (elementType.getWidth() != 8 && elementType.getWidth() != 16))
    return emitError() << "SPGC8 coefficients must be i8 or i16, got "
                       << elementType;
  return success();
}

Type SPGC8Type::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> shape;
  Type elementType;
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                /*withTrailingX=*/true) ||
      parser.parseType(elementType))
    return {};
  auto intType = dyn_cast<IntegerType>(elementType);
  if (!intType) {
    parser.emitError(loc, "SPGC8 coefficients must be i8 or i16, got ")
        << elementType;
    return {};
  }
  GroupLayout layout = GroupLayout::adjacent;
  if (succeeded(parser.parseOptionalComma())) {
    SMLoc kwLoc = parser.getCurrentLocation();
    StringRef keyword;
    if (parser.parseKeyword(&keyword))
      return {};
    std::optional<GroupLayout> parsed = symbolizeGroupLayout(keyword);
    if (!parsed) {
      parser.emitError(kwLoc, "expected 'adjacent' or 'interleaved', got '")
          << keyword << "'";
      return {};
    }
    layout = *parsed;
  }
  if (parser.parseGreater())
    return {};
  return SPGC8Type::getChecked([&] { return parser.emitError(loc); },
                               parser.getContext(), shape, intType, layout);
}

void SPGC8Type::print(AsmPrinter &printer) const {
  printer << "<";
  for (int64_t d : getShape())
    printer << d << "x";
  printer << getElementType();
  if (getLayout() != GroupLayout::adjacent)
    printer << ", " << stringifyGroupLayout(getLayout());
  printer << ">";
}

int64_t SPGC8Type::getNumElements() const {
  int64_t n = 1;
  for (int64_t d : getShape())
    n *= d;
  return n;
}

int64_t SPGC8Type::getVectorLength() const {
  ArrayRef<int64_t> shape = getShape();
  return shape.size() == 1 ? shape[0] : shape[1];
}

int64_t SPGC8Type::getNumVectors() const {
  return getNumElements() / getVectorLength();
}

int64_t SPGC8Type::getPaddedVectorLength() const {
  return (getVectorLength() + 15) / 16 * 16;
}

int64_t SPGC8Type::getStreamIndex(int64_t logicalIndex) const {
  ArrayRef<int64_t> shape = getShape();
  int64_t padded = getPaddedVectorLength();
  if (shape.size() == 1)
    return logicalIndex;
  if (shape.size() == 2)
    return logicalIndex / shape[1] * padded + logicalIndex % shape[1];
  // [C_out, C_in, kH, kW]: vectors of C_in values at each (o, kh, kw).
  int64_t spatial = shape[2] * shape[3];
  int64_t o = logicalIndex / (shape[1] * spatial);
  int64_t c = logicalIndex / spatial % shape[1];
  int64_t khkw = logicalIndex % spatial;
  return (o * spatial + khkw) * padded + c;
}
