//===- CompressWeights.cpp - SPGC8-encode constant layer weights ----------===//
//
// Seed 003 [0100]-[0109]: coefficients are quantised to D-bit signed
// integers (one scale per output channel) and stored as SPGC8 subsets of 8
// with 3- or 4-bit headers and bit-plane bodies (docs/spgc8.md).
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"
#include "sparsenn/Interfaces/LayerOpInterface.h"
#include "sparsenn/Runtime/SPGC8.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/ToolOutputFile.h"

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_SPARSENNCOMPRESSWEIGHTSPASS
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

struct SparseNNCompressWeightsPass
    : public sparsenn::impl::SparseNNCompressWeightsPassBase<
          SparseNNCompressWeightsPass> {
  using Base::Base;

  struct LayerReport {
    std::string name;
    std::string shape;
    int64_t floatBytes, rawBytes, streamBytes;
  };
  std::vector<LayerReport> reports;

  LogicalResult compressLayer(Operation *layer, OpOperand &weightOperand) {
    DenseElementsAttr attr;
    if (!matchPattern(weightOperand.get(), m_Constant(&attr)))
      return success();
    auto type = cast<ShapedType>(attr.getType());
    if (!type.getElementType().isF32() || !type.hasStaticShape() ||
        type.getNumElements() == 0) {
      layer->emitRemark("weights are not a static f32 constant: not "
                        "compressed");
      return success();
    }
    MLIRContext *ctx = layer->getContext();
    SmallVector<int64_t> shape(type.getShape());
    int rank = shape.size();
    std::vector<float> weights(attr.getValues<float>().begin(),
                               attr.getValues<float>().end());
    std::vector<int16_t> q(weights.size());
    std::vector<float> scales(sparsenn_spgc8_num_channels(shape.data(), rank));
    sparsenn_status status = sparsenn_spgc8_quantize_f32(weights.data(), shape.data(), rank,
                                             bits, q.data(), scales.data());
    if (status != SPARSENN_OK)
      return layer->emitError("cannot quantise weights: ")
             << sparsenn_status_string(status);
    std::vector<uint8_t> stream(
        sparsenn_spgc8_tensor_stream_max_size(shape.data(), rank, bits, interleave));
    size_t size = 0;
    status = sparsenn_spgc8_encode_tensor_stream_i16(
        q.data(), shape.data(), rank, bits, interleave, /*is_unsigned=*/0,
        stream.data(), stream.size(), &size);
    if (status != SPARSENN_OK)
      return layer->emitError("cannot encode weights: ")
             << sparsenn_status_string(status);

    auto compressedType = SPGC8Type::get(
        ctx, shape, IntegerType::get(ctx, bits),
        interleave ? GroupLayout::interleaved : GroupLayout::adjacent);
    auto i8 = IntegerType::get(ctx, 8);
    auto data = DenseElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(size)}, i8),
        ArrayRef<int8_t>(reinterpret_cast<const int8_t *>(stream.data()),
                         size));
    auto scalesAttr = DenseElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(scales.size())},
                              Float32Type::get(ctx)),
        ArrayRef<float>(scales));
    OpBuilder builder(layer);
    Value weight = CompressedConstantOp::create(
        builder, layer->getLoc(), compressedType, data, scalesAttr);
    if (decompress)
      weight = DecompressOp::create(builder, layer->getLoc(), type, weight);
    Operation *oldConstant = weightOperand.get().getDefiningOp();
    weightOperand.set(weight);
    if (oldConstant && oldConstant->use_empty())
      oldConstant->erase();

    int64_t raw = type.getNumElements() * bits / 8;
    std::string shapeText;
    llvm::raw_string_ostream os(shapeText);
    llvm::interleave(shape, os, "x");
    reports.push_back({layer->getName().getStringRef().str(), shapeText,
                       type.getNumElements() * 4, raw,
                       static_cast<int64_t>(size)});
    return success();
  }

  void writeReport() {
    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> file = openOutputFile(report, &error);
    if (!file) {
      getOperation().emitError("cannot open report: ") << error;
      return signalPassFailure();
    }
    raw_ostream &os = file->os();
    os << llvm::formatv("SPGC8 compression, D = {0}, {1}\n", bits,
                        interleave ? "interleaved" : "adjacent");
    os << llvm::formatv("  {0,-16} {1,-14} {2,12} {3,12} {4,12} {5,8}\n",
                        "layer", "weights", "fp32 bytes", "int bytes",
                        "spgc8 bytes", "ratio");
    int64_t totalFloat = 0, totalRaw = 0, totalStream = 0;
    for (const LayerReport &r : reports) {
      os << llvm::formatv(
          "  {0,-16} {1,-14} {2,12} {3,12} {4,12} {5,7:F2}x\n", r.name, r.shape,
          r.floatBytes, r.rawBytes, r.streamBytes,
          double(r.rawBytes) / std::max<int64_t>(r.streamBytes, 1));
      totalFloat += r.floatBytes;
      totalRaw += r.rawBytes;
      totalStream += r.streamBytes;
    }
    os << llvm::formatv("  {0,-16} {1,-14} {2,12} {3,12} {4,12} {5,7:F2}x\n",
                        "total", "", totalFloat, totalRaw, totalStream,
                        double(totalRaw) / std::max<int64_t>(totalStream, 1));
    file->keep();
  }

  void runOnOperation() override {
    if (bits != 8 && bits != 16) {
      getOperation().emitError("sparsenn-compress-weights: bits must be 8 or "
                               "16, got ")
          << static_cast<unsigned>(bits);
      return signalPassFailure();
    }
    SmallVector<Operation *> layers;
    getOperation().walk([&](Operation *op) {
      if (isa<LayerOpInterface>(op))
        layers.push_back(op);
    });
    for (Operation *layer : layers)
      if (failed(compressLayer(
              layer, cast<LayerOpInterface>(layer).getLayerWeightOperand())))
        return signalPassFailure();
    if (!report.empty())
      writeReport();
  }
};

} // namespace
