//===- ReferenceKernelArgs.h - ABI of the GPU reference kernel --*- C++ -*-===//
//
// Shared by ReferenceKernel.cu (compiled by nvcc to PTX) and GpuReference.cpp
// (the host that launches it), so that the argument struct and the shared
// memory layout cannot drift apart. Plain fixed-width types only: nvcc lays
// out a struct exactly as the host compiler does.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_LIB_RUNTIME_REFERENCEKERNELARGS_H
#define FATTN_LIB_RUNTIME_REFERENCEKERNELARGS_H

#include <stddef.h>
#include <stdint.h>

// The shared-memory layout functions run on both sides.
#ifdef __CUDACC__
#define FATTN_HOST_DEVICE __host__ __device__
#else
#define FATTN_HOST_DEVICE
#endif

namespace fattn::runtime::reference_kernel {

/// Each block computes kTileRows query rows of one query head, walking the
/// keys kTileKeys at a time; one thread per (row, key) score.
constexpr int kTileRows = 16;
constexpr int kTileKeys = 16;
constexpr int kThreads = kTileRows * kTileKeys;

/// The entry symbol in the PTX.
constexpr const char *kEntryName = "fattn_reference_attention";

/// Element type codes, equal to the order of runtime::ElementType.
constexpr int32_t kDtypeF32 = 0;
constexpr int32_t kDtypeF16 = 1;
constexpr int32_t kDtypeBF16 = 2;

struct Args {
  uint64_t q, k, v;  // device pointers to "thd" tensors of `dtype`
  uint64_t slices;   // int64 [numSlices][5]: qBegin qEnd kBegin kEnd kind
  uint64_t out, lse; // double (exact mode) or float (naive mode)
  int64_t numQ, numK;
  int64_t numSlices;
  int32_t headsQ, headsK, headDim;
  int32_t dtype;
  int32_t naive;   // 0: fp64 reference; 1: naive low precision in dtype
  int32_t padding; // keeps the doubles 8-byte aligned explicitly
  double scale;    // effective scale
  double softcap;  // <= 0: none
};

// The PTX declares the parameter as 112 bytes aligned to 8; the host passes
// this struct's bytes.
static_assert(sizeof(Args) == 112, "Args layout changed: rebuild both sides");

/// Dynamic shared memory of one block: the per-row accumulators, scores and
/// softmax state as doubles (the naive mode uses the same slots as floats),
/// then the query, key and value tiles as floats. Query and key rows are
/// padded by one float so that the 16 keys one warp reads sit in different
/// banks.
FATTN_HOST_DEVICE inline size_t sharedDoubles(int headDim) {
  return size_t(kTileRows) * headDim + size_t(kTileRows) * kTileKeys +
         3 * size_t(kTileRows);
}
FATTN_HOST_DEVICE inline size_t sharedFloats(int headDim) {
  return size_t(kTileRows) * (headDim + 1) + size_t(kTileKeys) * (headDim + 1) +
         size_t(kTileKeys) * headDim;
}
FATTN_HOST_DEVICE inline size_t sharedBytes(int headDim) {
  return 8 * sharedDoubles(headDim) + 4 * sharedFloats(headDim);
}

} // namespace fattn::runtime::reference_kernel

#endif // FATTN_LIB_RUNTIME_REFERENCEKERNELARGS_H
