//===- PrunerMathTest.cpp - pruner logic against references ---------------===//

#include "sparsenn/Dialect/SparseNN/Utils/PrunerMath.h"
#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir::sparsenn;

namespace {

// Reference values of erfinv (Abramowitz-Stegun tables / mpmath, 16 digits).
TEST(PrunerMath, ErfinvKnownValues) {
  EXPECT_NEAR(erfinv(0.0), 0.0, 1e-15);
  EXPECT_NEAR(erfinv(0.5), 0.4769362762044699, 1e-13);
  EXPECT_NEAR(erfinv(-0.9), -1.1630871536766743, 1e-13);
  EXPECT_NEAR(erfinv(0.999), 2.3267537655135246, 1e-12);
  EXPECT_TRUE(std::isinf(erfinv(1.0)));
  EXPECT_TRUE(std::isnan(erfinv(1.5)));
  // Round trip through the C library's erf.
  for (double x = -0.99; x < 1.0; x += 0.0137)
    EXPECT_NEAR(std::erf(erfinv(x)), x, 1e-14) << x;
}

std::vector<double> normalSample(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(0.3, 2.0);
  std::vector<double> w(n);
  for (double &v : w)
    v = dist(rng);
  return w;
}

double prunedFraction(const std::vector<bool> &keep) {
  size_t pruned = 0;
  for (bool k : keep)
    pruned += !k;
  return double(pruned) / keep.size();
}

// FIG. 7a: exactly round(s·N) coefficients go, and they are the smallest:
// every pruned |w| <= every kept |w| (checked with a plain loop).
TEST(PrunerMath, QuantileIsExact) {
  std::vector<double> w = normalSample(1000, 1);
  for (double s : {0.0, 0.1, 0.337, 0.5, 0.9, 1.0}) {
    std::vector<bool> keep = computePruneMask(
        w, {10, 100}, {1, 1}, mlir::sparsenn::PruneMethod::quantile,
        mlir::sparsenn::Reduction::max, s);
    EXPECT_EQ(std::lround(prunedFraction(keep) * 1000),
              static_cast<long>(std::nearbyint(s * 1000)));
    double maxPruned = 0.0, minKept = INFINITY;
    for (size_t i = 0; i < w.size(); ++i) {
      if (keep[i])
        minKept = std::min(minKept, std::fabs(w[i]));
      else
        maxPruned = std::max(maxPruned, std::fabs(w[i]));
    }
    EXPECT_LE(maxPruned, minKept);
  }
}

// FIG. 7c: on normally distributed weights the Gaussian threshold prunes a
// fraction s of them (seed 003 [0126]-[0127]).
TEST(PrunerMath, GaussianPrunesFractionS) {
  std::vector<double> w = normalSample(200000, 2);
  for (double s : {0.25, 0.5, 0.9}) {
    std::vector<bool> keep = computePruneMask(
        w, {200000}, {1}, mlir::sparsenn::PruneMethod::gaussian,
        mlir::sparsenn::Reduction::max, s);
    EXPECT_NEAR(prunedFraction(keep), s, 0.01) << s;
  }
}

// FIG. 7d: max-pooled |w - μ| of normal data is close to Gumbel, so the
// Gumbel threshold prunes roughly a fraction s of the groups
// ([0156]-[0158]); the model is approximate, hence the looser tolerance.
TEST(PrunerMath, GumbelPrunesAboutFractionS) {
  std::vector<double> w = normalSample(64 * 4096, 3);
  for (double s : {0.5, 0.8}) {
    std::vector<bool> keep = computePruneMask(
        w, {4096, 64}, {1, 16}, mlir::sparsenn::PruneMethod::gumbel,
        mlir::sparsenn::Reduction::max, s);
    EXPECT_NEAR(prunedFraction(keep), s, 0.05) << s;
    // Whole groups go: every aligned 16-block is all kept or all pruned.
    for (size_t g = 0; g < keep.size(); g += 16)
      for (size_t i = 1; i < 16; ++i)
        ASSERT_EQ(keep[g], keep[g + i]);
  }
}

TEST(PrunerMath, GroupShapes) {
  using mlir::sparsenn::PruneGranularity;
  EXPECT_EQ(
      getPruneGroupShape(PruneGranularity::input_channel, {8, 4, 3, 3}, {}),
      (llvm::SmallVector<int64_t>{8, 1, 3, 3}));
  EXPECT_EQ(getPruneGroupShape(PruneGranularity::output_filter, {8, 4}, {}),
            (llvm::SmallVector<int64_t>{1, 4}));
  EXPECT_EQ(getSPGC8AlignedGroupShape(4),
            (llvm::SmallVector<int64_t>{1, 16, 1, 1}));
  EXPECT_EQ(getSPGC8AlignedGroupShape(2), (llvm::SmallVector<int64_t>{1, 16}));
}

} // namespace
