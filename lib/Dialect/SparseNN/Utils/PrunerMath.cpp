//===- PrunerMath.cpp - the pruner logic of seed 003 on host arrays -------===//

#include "sparsenn/Dialect/SparseNN/Utils/PrunerMath.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir;
using namespace mlir::sparsenn;

double mlir::sparsenn::erfinv(double x) {
  if (std::isnan(x) || x < -1.0 || x > 1.0)
    return std::numeric_limits<double>::quiet_NaN();
  if (x == 1.0)
    return std::numeric_limits<double>::infinity();
  if (x == -1.0)
    return -std::numeric_limits<double>::infinity();
  // Giles' single-precision approximation as a start, then Newton steps on
  // erf(y) - x (erf' = 2/√π·exp(-y²)) to full double precision.
  double w = -std::log((1.0 - x) * (1.0 + x)), p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    for (double c :
         {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
          -0.00125372503, -0.00417768164, 0.246640727, 1.50140941})
      p = c + p * w;
  } else {
    w = std::sqrt(w) - 3.0;
    p = -0.000200214257;
    for (double c :
         {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
          -0.0076224613, 0.00943887047, 1.00167406, 2.83297682})
      p = c + p * w;
  }
  double y = p * x;
  const double twoOverSqrtPi = 1.1283791670955126;
  for (int i = 0; i < 3; ++i) {
    double err = std::erf(y) - x;
    y -= err / (twoOverSqrtPi * std::exp(-y * y));
  }
  return y;
}

SmallVector<int64_t> mlir::sparsenn::getSPGC8AlignedGroupShape(int64_t rank) {
  SmallVector<int64_t> group(rank, 1);
  group[rank == 1 ? 0 : 1] = 16;
  return group;
}

namespace {

/// Mean and population standard deviation.
std::pair<double, double> meanStd(ArrayRef<double> values) {
  if (values.empty())
    return {0.0, 0.0};
  double mean =
      std::accumulate(values.begin(), values.end(), 0.0) / values.size();
  double var = 0.0;
  for (double v : values)
    var += (v - mean) * (v - mean);
  return {mean, std::sqrt(var / values.size())};
}

/// Maps every element to its group and reduces `magnitude` over groups.
struct GroupGrid {
  std::vector<int64_t> groupOf; // element -> group index
  int64_t numGroups = 1;
  int64_t groupSize = 1; // full (padded) group size

  GroupGrid(ArrayRef<int64_t> shape, ArrayRef<int64_t> group) {
    int64_t rank = shape.size();
    SmallVector<int64_t> grid(rank);
    for (int64_t d = 0; d < rank; ++d) {
      grid[d] = (shape[d] + group[d] - 1) / group[d];
      numGroups *= grid[d];
      groupSize *= group[d];
    }
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    groupOf.resize(n);
    SmallVector<int64_t> idx(rank, 0);
    for (int64_t i = 0; i < n; ++i) {
      int64_t g = 0;
      for (int64_t d = 0; d < rank; ++d)
        g = g * grid[d] + idx[d] / group[d];
      groupOf[i] = g;
      for (int64_t d = rank - 1; d >= 0; --d) {
        if (++idx[d] < shape[d])
          break;
        idx[d] = 0;
      }
    }
  }

  std::vector<double> reduce(ArrayRef<double> magnitude,
                             Reduction reduction) const {
    std::vector<double> out(numGroups, 0.0);
    for (size_t i = 0; i < groupOf.size(); ++i) {
      double &r = out[groupOf[i]];
      r = reduction == Reduction::max ? std::max(r, magnitude[i])
                                      : r + magnitude[i];
    }
    if (reduction == Reduction::mean)
      for (double &r : out)
        r /= groupSize; // padded zeros count (docs/semantics.md §4.3)
    return out;
  }
};

} // namespace

std::vector<bool> mlir::sparsenn::computePruneMask(ArrayRef<double> weights,
                                                   ArrayRef<int64_t> shape,
                                                   ArrayRef<int64_t> groupShape,
                                                   PruneMethod method,
                                                   Reduction reduction,
                                                   double sparsity) {
  size_t n = weights.size();
  std::vector<bool> keep(n, true);
  if (n == 0)
    return keep;
  sparsity = std::clamp(sparsity, 0.0, 1.0);

  if (method == PruneMethod::gaussian) {
    // FIG. 7c, eq. 3-4: the threshold relative to the mean.
    auto [mu, psi] = meanStd(weights);
    double t = psi * std::sqrt(2.0) * erfinv(sparsity);
    for (size_t i = 0; i < n; ++i)
      keep[i] = std::fabs(weights[i] - mu) > t;
    return keep;
  }

  GroupGrid grid(shape, groupShape);
  std::vector<bool> keepGroup(grid.numGroups, true);
  if (method == PruneMethod::quantile) {
    // FIG. 7a/7b: saliency = reduction(|w|); prune exactly round(s·G).
    std::vector<double> magnitude(n);
    for (size_t i = 0; i < n; ++i)
      magnitude[i] = std::fabs(weights[i]);
    std::vector<double> saliency = grid.reduce(magnitude, reduction);
    int64_t numPruned = static_cast<int64_t>(
        std::nearbyint(sparsity * static_cast<double>(grid.numGroups)));
    std::vector<int64_t> order(grid.numGroups);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return saliency[a] < saliency[b];
    });
    for (int64_t i = 0; i < numPruned; ++i)
      keepGroup[order[i]] = false;
  } else {
    // FIG. 7d, eq. 7-10: a Gumbel model of the group reductions of |w - μ|.
    auto [mu, psi] = meanStd(weights);
    (void)psi;
    std::vector<double> centred(n);
    for (size_t i = 0; i < n; ++i)
      centred[i] = std::fabs(weights[i] - mu);
    std::vector<double> reduced = grid.reduce(centred, reduction);
    auto [rMean, rStd] = meanStd(reduced);
    const double gamma = 0.5772156649015329;
    double beta = rStd * std::sqrt(6.0) / M_PI;
    double phi = rMean - beta * gamma;
    // s = 0 keeps everything (τ = -inf), s = 1 prunes everything (τ = +inf);
    // handled apart so that a zero β never meets an infinity.
    double tau;
    if (sparsity <= 0.0)
      tau = -std::numeric_limits<double>::infinity();
    else if (sparsity >= 1.0)
      tau = std::numeric_limits<double>::infinity();
    else
      tau = phi - beta * std::log(std::log(1.0 / sparsity));
    for (int64_t g = 0; g < grid.numGroups; ++g)
      keepGroup[g] = reduced[g] > tau;
  }
  for (size_t i = 0; i < n; ++i)
    keep[i] = keepGroup[grid.groupOf[i]];
  return keep;
}
