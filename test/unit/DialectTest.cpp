//===- DialectTest.cpp - unit tests of sparsenn C++ helpers ---------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Runtime/SPGC8.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

SPGC8Type parseSPGC8(MLIRContext &ctx, llvm::StringRef text) {
  return dyn_cast_or_null<SPGC8Type>(parseType(text, &ctx));
}

// The dialect's traversal (used by folders and the compression pass) must be
// the runtime codec's traversal (docs/spgc8.md §2): check on tensors whose
// values are their own logical index.
TEST(SPGC8Type, StreamIndexMatchesRuntimeTraversal) {
  MLIRContext ctx;
  ctx.loadDialect<SparseNNDialect>();
  for (llvm::StringRef text :
       {"!sparsenn.spgc8<37xi16>", "!sparsenn.spgc8<5x21xi16>",
        "!sparsenn.spgc8<3x18x2x3xi16, interleaved>",
        "!sparsenn.spgc8<2x16x1x1xi16>"}) {
    SPGC8Type type = parseSPGC8(ctx, text);
    ASSERT_TRUE(type) << text.str();
    int64_t n = type.getNumElements();
    std::vector<int16_t> values(n);
    std::iota(values.begin(), values.end(), 1);
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    bool interleave = type.getLayout() == GroupLayout::interleaved;
    std::vector<uint8_t> stream(sparsenn_spgc8_tensor_stream_max_size(
        shape.data(), shape.size(), type.getBits(), interleave));
    size_t size = 0;
    ASSERT_EQ(sparsenn_spgc8_encode_tensor_stream_i16(
                  values.data(), shape.data(), shape.size(), type.getBits(),
                  interleave, /*is_unsigned=*/0, stream.data(), stream.size(),
                  &size),
              SPARSENN_OK);
    std::vector<int16_t> flat(type.getNumStreamValues());
    size_t consumed = 0;
    ASSERT_EQ(sparsenn_spgc8_decode_raw_i16(stream.data(), size, flat.size(),
                                   type.getBits(), interleave, 0, flat.data(),
                                   &consumed),
              SPARSENN_OK);
    EXPECT_EQ(consumed, size);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(flat[type.getStreamIndex(i)], values[i])
          << text.str() << " index " << i;
  }
}

TEST(SPGC8Type, Geometry) {
  MLIRContext ctx;
  ctx.loadDialect<SparseNNDialect>();
  SPGC8Type conv = parseSPGC8(ctx, "!sparsenn.spgc8<4x20x3x3xi8>");
  ASSERT_TRUE(conv);
  EXPECT_EQ(conv.getVectorLength(), 20);
  EXPECT_EQ(conv.getPaddedVectorLength(), 32);
  EXPECT_EQ(conv.getNumVectors(), 4 * 3 * 3);
  EXPECT_EQ(conv.getNumStreamValues(), 4 * 3 * 3 * 32);
  EXPECT_EQ(conv.getBits(), 8u);
  EXPECT_FALSE(parseSPGC8(ctx, "!sparsenn.spgc8<4x20x3xi8>"));
  EXPECT_FALSE(parseSPGC8(ctx, "!sparsenn.spgc8<4x20xi32>"));
}

// Reference values computed independently: sigmoid(0.5) = 0.6224593312,
// hard_sigmoid(x) = clamp(x/6 + 1/2, 0, 1) (PyTorch's hardsigmoid).
TEST(Normalization, MatchesReference) {
  EXPECT_NEAR(normalizeSparsity(Normalization::sigmoid, 0.5), 0.6224593312,
              1e-9);
  EXPECT_DOUBLE_EQ(normalizeSparsity(Normalization::sigmoid, 0.0), 0.5);
  EXPECT_DOUBLE_EQ(normalizeSparsity(Normalization::hard_sigmoid, 1.5), 0.75);
  EXPECT_DOUBLE_EQ(normalizeSparsity(Normalization::hard_sigmoid, -4.0), 0.0);
  EXPECT_DOUBLE_EQ(normalizeSparsity(Normalization::hard_sigmoid, 9.0), 1.0);
  EXPECT_DOUBLE_EQ(normalizeSparsity(Normalization::none, 0.3), 0.3);
}

} // namespace
