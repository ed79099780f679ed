//===- ThreadPool.cpp - intra-op parallelism of the runtime kernels -------===//
//
// A small fork-join pool on std::thread (no OpenMP in our own kernels, so
// ThreadSanitizer sees every synchronisation). Workers are started lazily
// and sleep on a condition variable between calls; items are claimed from
// an atomic counter, so the split of items among threads varies but what
// each item computes does not (ThreadPool.h).
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"

#include "sparsenn/Runtime/Kernels.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace {

int defaultThreads() {
  if (const char *env = std::getenv("SPARSENN_NUM_THREADS")) {
    char *end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v > 0 && v <= 1024)
      return static_cast<int>(v);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

std::atomic<int> &setting() {
  static std::atomic<int> threads{defaultThreads()};
  return threads;
}

thread_local bool insideItem = false;

// Before sleeping, a waiting thread polls for this many rounds (about
// 0.1-0.5 ms): the layers of a network follow each other closely, and a
// condition-variable wake-up costs tens of microseconds on a VM.
constexpr int kSpinRounds = 4000;

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class Pool {
public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (std::thread &t : workers)
      t.join();
  }

  void run(int64_t items, int threads,
           const std::function<void(int64_t)> &fn) {
    // One job at a time: concurrent callers take turns.
    std::lock_guard<std::mutex> serial(callMutex);
    int helpers = std::min<int64_t>(threads, items) - 1;
    {
      std::unique_lock<std::mutex> lock(mutex);
      while (static_cast<int>(workers.size()) < helpers) {
        int index = static_cast<int>(workers.size());
        workers.emplace_back([this, index] { workerLoop(index); });
      }
      job = &fn;
      total = items;
      next.store(0, std::memory_order_relaxed);
      participants = helpers;
      remaining.store(helpers);
      ++generation;
      published.store(generation, std::memory_order_release);
    }
    wake.notify_all();
    work();
    for (int r = 0; r < kSpinRounds && remaining.load() != 0; ++r)
      cpuRelax();
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [this] { return remaining.load() == 0; });
    job = nullptr;
  }

  /// Spinning workers go to sleep now (another runtime's threads start).
  void quiesce() { quiet.fetch_add(1, std::memory_order_relaxed); }

private:
  void work() {
    insideItem = true;
    for (int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < total;)
      (*job)(i);
    insideItem = false;
  }

  void workerLoop(int index) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      if (!stopping && generation == seen) {
        lock.unlock();
        const uint64_t calm = quiet.load(std::memory_order_relaxed);
        for (int r = 0; r < kSpinRounds &&
                        published.load(std::memory_order_acquire) == seen &&
                        quiet.load(std::memory_order_relaxed) == calm;
             ++r)
          cpuRelax();
        lock.lock();
      }
      wake.wait(lock, [&] { return stopping || generation != seen; });
      if (stopping)
        return;
      seen = generation;
      if (index >= participants)
        continue;
      lock.unlock();
      work();
      // The last one wakes the caller (under the lock: no lost wake-up).
      if (remaining.fetch_sub(1) == 1) {
        lock.lock();
        done.notify_one();
      } else {
        lock.lock();
      }
    }
  }

  std::mutex callMutex;
  std::mutex mutex;
  std::condition_variable wake, done;
  std::vector<std::thread> workers;
  const std::function<void(int64_t)> *job = nullptr;
  std::atomic<int64_t> next{0};
  int64_t total = 0;
  int participants = 0;
  std::atomic<int> remaining{0};
  uint64_t generation = 0;
  std::atomic<uint64_t> published{0}; // generation, readable without the lock
  bool stopping = false;
  std::atomic<uint64_t> quiet{0}; // bumped by quiesce()
};

Pool &pool() {
  static Pool p;
  return p;
}

} // namespace

int sparsenn::threads::count() { return setting().load(); }

void sparsenn::threads::parallelFor(int64_t items,
                                    const std::function<void(int64_t)> &fn) {
  int threads = count();
  if (items <= 0)
    return;
  if (threads <= 1 || items == 1 || insideItem) {
    for (int64_t i = 0; i < items; ++i)
      fn(i);
    return;
  }
  pool().run(items, threads, fn);
}

void sparsenn::threads::quiesce() { pool().quiesce(); }

extern "C" int sparsenn_set_num_threads(int threads) {
  if (threads < 0 || threads > 1024)
    return SPARSENN_ERR_ARGUMENT;
  setting().store(threads == 0 ? defaultThreads() : threads);
  return SPARSENN_OK;
}

extern "C" int sparsenn_get_num_threads(void) { return setting().load(); }
