//===- ThreadPool.h - intra-op parallelism of the runtime kernels -*- C++ -*-===//
//
// One process-wide pool. Kernels split their work into items whose number
// and boundaries depend only on the problem shape, never on the thread
// count, and every output element is computed by exactly one item: results
// are then bit-identical for any number of threads. Not installed.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_RUNTIME_THREADPOOL_H
#define SPARSENN_RUNTIME_THREADPOOL_H

#include <cstdint>
#include <functional>

namespace sparsenn {
namespace threads {

/// Threads the next kernel calls use (>= 1).
int count();

/// Runs fn(i) for every i in [0, items), each exactly once, on up to
/// count() threads (the caller is one of them); returns when all are done.
/// A call made from inside an item runs inline, so kernels may nest.
void parallelFor(int64_t items, const std::function<void(int64_t)> &fn);

/// Workers spinning for the next job go to sleep at once: called before
/// work runs on another runtime's threads (oneDNN's OpenMP), which would
/// otherwise share the cores with the spinning workers.
void quiesce();

/// Items of about `grain` units each for `total` units: a shape-only split.
inline int64_t chunks(int64_t total, int64_t grain) {
  return total <= 0 ? 0 : (total + grain - 1) / grain;
}

} // namespace threads
} // namespace sparsenn

#endif // SPARSENN_RUNTIME_THREADPOOL_H
