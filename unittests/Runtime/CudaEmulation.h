//===- CudaEmulation.h - CUDA kernels run as C++ on the CPU -----*- C++ -*-===//
//
// CI has no GPU, yet kernels written in CUDA C++ (the GPU reference, the
// planning kernel) decide what the device runs. Their sources compile here
// as plain C++ against this tiny emulation: a block runs as std::threads
// sharing one dynamic-shared-memory buffer (and the kernel's static
// FATTN_BLOCK_SHARED arrays), with __syncthreads as a barrier. Include it
// before the kernel's .cu file.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_UNITTESTS_RUNTIME_CUDAEMULATION_H
#define FATTN_UNITTESTS_RUNTIME_CUDAEMULATION_H

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#define FATTN_EMULATE_CUDA 1
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(threads)
// One block runs at a time, so a function's statics are its block's.
#define FATTN_BLOCK_SHARED static

struct EmulatedDim3 {
  unsigned x = 0, y = 0, z = 0;
};
inline thread_local EmulatedDim3 threadIdx, blockIdx, blockDim;

namespace emulation {

/// Reusable barrier for the threads of one block.
class Barrier {
public:
  explicit Barrier(int count) : count(count) {}
  void wait() {
    std::unique_lock<std::mutex> lock(mutex);
    uint64_t myGeneration = generation;
    if (++waiting == count) {
      waiting = 0;
      ++generation;
      condition.notify_all();
      return;
    }
    condition.wait(lock, [&] { return generation != myGeneration; });
  }

private:
  std::mutex mutex;
  std::condition_variable condition;
  int count;
  int waiting = 0;
  uint64_t generation = 0;
};

inline Barrier *blockBarrier = nullptr;
inline double *blockShared = nullptr;

/// Runs `body` as block (bx, by) of `threads` threads, `shared` as its
/// dynamic shared memory.
inline void runBlock(unsigned bx, unsigned by, int threads, double *shared,
                     const std::function<void()> &body) {
  Barrier barrier(threads);
  blockBarrier = &barrier;
  blockShared = shared;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      threadIdx = {unsigned(t), 0, 0};
      blockIdx = {bx, by, 0};
      blockDim = {unsigned(threads), 1, 1};
      body();
    });
  for (std::thread &worker : workers)
    worker.join();
}

} // namespace emulation

inline void __syncthreads() { emulation::blockBarrier->wait(); }

#define FATTN_DECLARE_DYNAMIC_SHARED(name) double *name = emulation::blockShared

// The planning kernel's atomics and bit operations.
inline int32_t planAtomicAdd(int32_t *address, int32_t value) {
  return __atomic_fetch_add(address, value, __ATOMIC_SEQ_CST);
}
inline void planAtomicMin(int32_t *address, int32_t value) {
  int32_t seen = __atomic_load_n(address, __ATOMIC_SEQ_CST);
  while (value < seen && !__atomic_compare_exchange_n(
                             address, &seen, value, false, __ATOMIC_SEQ_CST,
                             __ATOMIC_SEQ_CST)) {
  }
}
inline void planAtomicMax(int32_t *address, int32_t value) {
  int32_t seen = __atomic_load_n(address, __ATOMIC_SEQ_CST);
  while (value > seen && !__atomic_compare_exchange_n(
                             address, &seen, value, false, __ATOMIC_SEQ_CST,
                             __ATOMIC_SEQ_CST)) {
  }
}
inline void planAtomicOr(uint32_t *address, uint32_t value) {
  __atomic_fetch_or(address, value, __ATOMIC_SEQ_CST);
}
inline int planPopcount(uint32_t bits) { return __builtin_popcount(bits); }
inline int planLowestBit(uint32_t bits) { return __builtin_ctz(bits); }

#endif // FATTN_UNITTESTS_RUNTIME_CUDAEMULATION_H
