//===- ReferenceKernel.cu - Attention straight from the slices, on the GPU ===//
//
// The GPU counterpart of Reference.cpp, sharing no code with the generated
// kernels: it reads the mask as the list of slices (docs/spec.md §1) and
// decides every (row, key) cell with the same interval formula as
// mask::Slice::keysOfRow. Two modes:
//
// - exact: scores, softmax and both products in fp64 (online softmax over
//   chunks of keys), out and lse written as double;
// - naive: what eager PyTorch's materialized-scores attention gives in the
//   input dtype (Reference.h, naiveAttention): both matmuls accumulate in
//   fp32 and round their result to the dtype, every element-wise step rounds,
//   softmax runs in fp32 and its probabilities are rounded; out and lse
//   written as float. That needs the final row max and sum before any
//   probability, hence two passes over the keys.
//
// A block owns kTileRows query rows of one query head. For each slice it
// walks the keys any of its rows attends in chunks of kTileKeys; one thread
// scores one (row, key) cell. Since the cells of a valid mask belong to at
// most one slice, every attended cell is visited exactly once.
//
// Compiled to PTX at build time (compute_80, JIT-compiled by the driver) and
// embedded in the runtime. The unit tests also compile it as plain C++ with
// FATTN_EMULATE_CUDA defined and run the blocks on CPU threads, which is why
// it uses no warp intrinsics and reaches the few CUDA-only operations through
// the fattn* hooks below.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Mask/RowKeys.h"
#include "ReferenceKernelArgs.h"

#ifndef FATTN_EMULATE_CUDA
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#define FATTN_DECLARE_DYNAMIC_SHARED(name) extern __shared__ double name[]

__device__ __forceinline__ float fattnHalfToFloat(unsigned short bits) {
  return __half2float(__ushort_as_half(bits));
}
__device__ __forceinline__ float fattnBFloat16ToFloat(unsigned short bits) {
  return __uint_as_float(unsigned(bits) << 16);
}
__device__ __forceinline__ float fattnRoundHalf(float value) {
  return __half2float(__float2half_rn(value));
}
__device__ __forceinline__ float fattnRoundBFloat16(float value) {
  return __bfloat162float(__float2bfloat16_rn(value));
}
#endif // FATTN_EMULATE_CUDA

namespace fattn::runtime::reference_kernel {
namespace {

constexpr double kInfinity = __builtin_huge_val();
constexpr float kInfinityF = __builtin_huge_valf();

template <bool Naive> struct Precision;
template <> struct Precision<false> {
  using Acc = double;
  static __device__ double exponential(double x) { return exp(x); }
  static __device__ double logarithm(double x) { return log(x); }
  static constexpr double kNegInfinity = -kInfinity;
};
template <> struct Precision<true> {
  using Acc = float;
  static __device__ float exponential(float x) { return expf(x); }
  static __device__ float logarithm(float x) { return logf(x); }
  static constexpr float kNegInfinity = -kInfinityF;
};

__device__ __forceinline__ int64_t minimum(int64_t a, int64_t b) {
  return a < b ? a : b;
}
__device__ __forceinline__ int64_t maximum(int64_t a, int64_t b) {
  return a > b ? a : b;
}

__device__ __forceinline__ float loadElement(uint64_t base, int32_t dtype,
                                             int64_t index) {
  if (dtype == kDtypeF32)
    return reinterpret_cast<const float *>(base)[index];
  unsigned short bits = reinterpret_cast<const unsigned short *>(base)[index];
  return dtype == kDtypeF16 ? fattnHalfToFloat(bits)
                            : fattnBFloat16ToFloat(bits);
}

__device__ __forceinline__ float roundToDtype(float value, int32_t dtype) {
  if (dtype == kDtypeF16)
    return fattnRoundHalf(value);
  if (dtype == kDtypeBF16)
    return fattnRoundBFloat16(value);
  return value;
}

/// Keys [begin, end) a slice lets global row `row` attend: the mask library's
/// own formula (FlashDialect/Mask/RowKeys.h). Both bounds grow with the row,
/// which is what lets a tile bound its key span by its first and last row.
using KeyBounds = fattn::mask::KeyBounds<int64_t>;
__device__ __forceinline__ KeyBounds rowBounds(const int64_t *slice,
                                               int64_t row) {
  return fattn::mask::rowKeys(fattn::mask::HostRowKeys{}, slice[4], row,
                              slice[0], slice[1], slice[2], slice[3]);
}

__device__ __forceinline__ bool attends(const int64_t *slice, int64_t row,
                                        int64_t key) {
  if (row < slice[0] || row >= slice[1])
    return false;
  KeyBounds bounds = rowBounds(slice, row);
  return key >= bounds.begin && key < bounds.end;
}

/// The scaled (and soft-capped) score of query row `query` against key row
/// `key`, both `headDim` floats.
template <bool Naive>
__device__ typename Precision<Naive>::Acc
score(const Args &args, const float *query, const float *key);

template <>
__device__ double score<false>(const Args &args, const float *query,
                               const float *key) {
  double dot = 0;
  for (int d = 0; d < args.headDim; ++d)
    dot += double(query[d]) * double(key[d]);
  double value = args.scale * dot;
  if (args.softcap > 0)
    value = args.softcap * tanh(value / args.softcap);
  return value;
}

template <>
__device__ float score<true>(const Args &args, const float *query,
                             const float *key) {
  // Eager PyTorch in the input dtype: the matmul result is rounded, then the
  // scaling, then each step of the softcap.
  float dot = 0;
  for (int d = 0; d < args.headDim; ++d)
    dot += query[d] * key[d];
  float value = roundToDtype(roundToDtype(dot, args.dtype) * float(args.scale),
                             args.dtype);
  if (args.softcap > 0) {
    float cap = float(args.softcap);
    value = roundToDtype(
        cap * roundToDtype(tanhf(roundToDtype(value / cap, args.dtype)),
                           args.dtype),
        args.dtype);
  }
  return value;
}

template <bool Naive>
__device__ void attendTile(const Args &args, double *shared) {
  using Acc = typename Precision<Naive>::Acc;
  const Acc negInfinity = Precision<Naive>::kNegInfinity;
  const int headDim = args.headDim;
  const int thread = int(threadIdx.x);
  const int head = int(blockIdx.y);
  const int kvHead = head / (args.headsQ / args.headsK);
  const int64_t rowBegin = int64_t(blockIdx.x) * kTileRows;
  const int numRows = int(minimum(kTileRows, args.numQ - rowBegin));
  const int64_t *slices = reinterpret_cast<const int64_t *>(args.slices);

  // Carve the dynamic shared memory as ReferenceKernelArgs.h lays it out.
  Acc *acc = reinterpret_cast<Acc *>(shared);
  Acc *scores = reinterpret_cast<Acc *>(shared + kTileRows * headDim);
  double *rowState = shared + kTileRows * headDim + kTileRows * kTileKeys;
  Acc *rowMax = reinterpret_cast<Acc *>(rowState);
  Acc *rowSum = reinterpret_cast<Acc *>(rowState + kTileRows);
  Acc *rowRescale = reinterpret_cast<Acc *>(rowState + 2 * kTileRows);
  float *queryTile = reinterpret_cast<float *>(shared + sharedDoubles(headDim));
  float *keyTile = queryTile + kTileRows * (headDim + 1);
  float *valueTile = keyTile + kTileKeys * (headDim + 1);

  for (int i = thread; i < kTileRows * headDim; i += kThreads) {
    int r = i / headDim, d = i % headDim;
    queryTile[r * (headDim + 1) + d] =
        r < numRows
            ? loadElement(args.q, args.dtype,
                          ((rowBegin + r) * args.headsQ + head) * headDim + d)
            : 0.0f;
    acc[i] = 0;
  }
  if (thread < kTileRows) {
    rowMax[thread] = negInfinity;
    rowSum[thread] = 0;
    rowRescale[thread] = 1;
  }
  __syncthreads();

  // Exact: one pass with online softmax. Naive: pass 0 finds each row's max
  // and sum, pass 1 forms the rounded probabilities and accumulates P@V.
  const int numPasses = Naive ? 2 : 1;
  for (int pass = 0; pass < numPasses; ++pass) {
    const bool accumulate = !Naive || pass == 1;
    for (int64_t s = 0; s < args.numSlices; ++s) {
      const int64_t *slice = slices + 5 * s;
      int64_t firstRow = maximum(rowBegin, slice[0]);
      int64_t lastRow = minimum(rowBegin + numRows, slice[1]) - 1;
      if (firstRow > lastRow)
        continue;
      int64_t keyBegin = maximum(rowBounds(slice, firstRow).begin, 0);
      int64_t keyEnd = minimum(rowBounds(slice, lastRow).end, args.numK);

      for (int64_t chunk = keyBegin; chunk < keyEnd; chunk += kTileKeys) {
        for (int i = thread; i < kTileKeys * headDim; i += kThreads) {
          int c = i / headDim, d = i % headDim;
          int64_t key = chunk + c;
          bool inRange = key < keyEnd;
          int64_t index = (key * args.headsK + kvHead) * headDim + d;
          keyTile[c * (headDim + 1) + d] =
              inRange ? loadElement(args.k, args.dtype, index) : 0.0f;
          if (accumulate)
            valueTile[c * headDim + d] =
                inRange ? loadElement(args.v, args.dtype, index) : 0.0f;
        }
        __syncthreads();

        {
          int r = thread / kTileKeys, c = thread % kTileKeys;
          int64_t row = rowBegin + r, key = chunk + c;
          Acc value = negInfinity;
          if (r < numRows && key < keyEnd && attends(slice, row, key))
            value = score<Naive>(args, queryTile + r * (headDim + 1),
                                 keyTile + c * (headDim + 1));
          scores[thread] = value;
        }
        __syncthreads();

        if (thread < kTileRows) {
          Acc *rowScores = scores + thread * kTileKeys;
          if (Naive && pass == 1) {
            // Final max and sum known: probabilities as eager softmax rounds
            // them.
            for (int c = 0; c < kTileKeys; ++c)
              rowScores[c] =
                  rowScores[c] == negInfinity
                      ? Acc(0)
                      : Acc(roundToDtype(
                            float(Precision<Naive>::exponential(
                                      rowScores[c] - rowMax[thread]) /
                                  rowSum[thread]),
                            args.dtype));
            rowRescale[thread] = 1;
          } else {
            Acc chunkMax = negInfinity;
            for (int c = 0; c < kTileKeys; ++c)
              chunkMax = rowScores[c] > chunkMax ? rowScores[c] : chunkMax;
            Acc oldMax = rowMax[thread];
            Acc newMax = chunkMax > oldMax ? chunkMax : oldMax;
            if (newMax == negInfinity) {
              // Nothing attended yet: exp(-inf - -inf) would be NaN.
              for (int c = 0; c < kTileKeys; ++c)
                rowScores[c] = 0;
              rowRescale[thread] = 1;
            } else {
              Acc rescale = Precision<Naive>::exponential(oldMax - newMax);
              Acc sum = 0;
              for (int c = 0; c < kTileKeys; ++c) {
                Acc p = Precision<Naive>::exponential(rowScores[c] - newMax);
                rowScores[c] = p;
                sum += p;
              }
              rowSum[thread] = rowSum[thread] * rescale + sum;
              rowMax[thread] = newMax;
              rowRescale[thread] = rescale;
            }
          }
        }
        __syncthreads();

        if (accumulate) {
          for (int i = thread; i < kTileRows * headDim; i += kThreads) {
            int r = i / headDim, d = i % headDim;
            Acc sum = acc[i] * rowRescale[r];
            for (int c = 0; c < kTileKeys; ++c)
              sum +=
                  scores[r * kTileKeys + c] * Acc(valueTile[c * headDim + d]);
            acc[i] = sum;
          }
        }
        // The next chunk overwrites the tiles and scores read above.
        __syncthreads();
      }
    }
  }

  Acc *out = reinterpret_cast<Acc *>(args.out);
  Acc *lse = reinterpret_cast<Acc *>(args.lse);
  for (int i = thread; i < numRows * headDim; i += kThreads) {
    int r = i / headDim, d = i % headDim;
    int64_t index = ((rowBegin + r) * args.headsQ + head) * headDim + d;
    if (Naive)
      // Probabilities were normalized already; P@V rounds once. Empty rows
      // accumulated nothing and stay 0.
      out[index] = Acc(roundToDtype(float(acc[i]), args.dtype));
    else
      out[index] = rowSum[r] > 0 ? acc[i] / rowSum[r] : Acc(0);
  }
  if (thread < numRows)
    lse[(rowBegin + thread) * args.headsQ + head] =
        rowSum[thread] > 0
            ? rowMax[thread] + Precision<Naive>::logarithm(rowSum[thread])
            : negInfinity;
}

} // namespace
} // namespace fattn::runtime::reference_kernel

extern "C" __global__ void
__launch_bounds__(fattn::runtime::reference_kernel::kThreads)
    fattn_reference_attention(fattn::runtime::reference_kernel::Args args) {
  FATTN_DECLARE_DYNAMIC_SHARED(fattnShared);
  if (args.naive)
    fattn::runtime::reference_kernel::attendTile<true>(args, fattnShared);
  else
    fattn::runtime::reference_kernel::attendTile<false>(args, fattnShared);
}
