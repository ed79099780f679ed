//===- Targets.cpp - SIMD target selection of the runtime kernels ---------===//
//
// The kernels written with Google Highway are compiled for every target
// Highway attains on the architecture (x86-64: SSSE3, SSE4, AVX2, AVX-512,
// AVX-512 VNNI/VBMI2 "AVX3_DL"; aarch64: NEON, SVE) and dispatched at run
// time to the best one the CPU has. Tests and benchmarks restrict the
// choice to one target to run every path on one machine; the hand-written
// AVX-512 kernels follow the same choice (they run only while the chosen
// target is an AVX-512 one).
//
//===----------------------------------------------------------------------===//

#include <hwy/highway.h>
#include <hwy/targets.h>

#include "KernelsInternal.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace {

std::atomic<int64_t> selected{0}; // 0: automatic
std::mutex selectMutex;

const std::vector<int64_t> &available() {
  static const std::vector<int64_t> targets =
      hwy::SupportedAndGeneratedTargets();
  return targets;
}

} // namespace

bool sparsenn::kernels::targetAllowsAvx512() {
  int64_t t = selected.load(std::memory_order_relaxed);
  return t == 0 || t == HWY_AVX3 || t == HWY_AVX3_DL;
}

extern "C" int sparsenn_kernels_target_count(void) {
  return static_cast<int>(available().size());
}

extern "C" const char *sparsenn_kernels_target_name(int index) {
  const auto &t = available();
  if (index < 0 || index >= static_cast<int>(t.size()))
    return nullptr;
  return hwy::TargetName(t[index]);
}

extern "C" int sparsenn_kernels_select_target(const char *name) {
  std::lock_guard<std::mutex> lock(selectMutex);
  if (!name || !*name) {
    hwy::SetSupportedTargetsForTest(0);
    selected.store(0);
    return SPARSENN_OK;
  }
  for (int64_t t : available())
    if (std::strcmp(hwy::TargetName(t), name) == 0) {
      hwy::SetSupportedTargetsForTest(t);
      selected.store(t);
      return SPARSENN_OK;
    }
  return SPARSENN_ERR_ARGUMENT;
}

extern "C" const char *sparsenn_kernels_current_target(void) {
  if (sparsenn::kernels::portableForced())
    return "portable";
  // Automatic: the first of the list, which Highway orders best first.
  int64_t t = selected.load();
  if (t == 0 && !available().empty())
    t = available().front();
  return t ? hwy::TargetName(t) : "portable";
}

namespace {
// SPARSENN_KERNEL_TARGET=AVX2 (or any name of sparsenn_kernels_target_name,
// or "portable") runs every kernel of the process on that target: to see on
// one machine what a CPU without AVX-512 gets (with ONEDNN_MAX_CPU_ISA=AVX2
// for the dense library).
const bool environmentApplied = [] {
  const char *env = std::getenv("SPARSENN_KERNEL_TARGET");
  if (!env || !*env)
    return false;
  if (std::strcmp(env, "portable") == 0) {
    sparsenn_kernels_force_portable(1);
    return true;
  }
  if (sparsenn_kernels_select_target(env) == SPARSENN_OK)
    return true;
  std::string names;
  for (int i = 0; i < sparsenn_kernels_target_count(); ++i)
    names += std::string(" ") + sparsenn_kernels_target_name(i);
  std::fprintf(stderr,
               "sparsenn: SPARSENN_KERNEL_TARGET=%s is not a target of this "
               "CPU (it has:%s portable); using the best\n",
               env, names.c_str());
  return false;
}();
} // namespace
