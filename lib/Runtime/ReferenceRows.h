//===- ReferenceRows.h - The references' view of a mask, row by row -*- C++ -*-===//
//
// Internal to the oracle (Reference.cpp, ReferenceGrad.cpp): each query
// row's attended key intervals, read through Slice::keysOfRow only, and the
// gathers and dot products the references accumulate with.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_RUNTIME_REFERENCEROWS_H
#define FATTN_RUNTIME_REFERENCEROWS_H

#include "FlashDialect/Mask/Mask.h"
#include "FlashDialect/Runtime/Problem.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace fattn::runtime::reference_rows {

/// The key intervals of every query row, in CSR form: row r attends the
/// union of intervals[offsets[r] .. offsets[r + 1]). Built once, slice by
/// slice, so that the cost is the total q extent of the mask rather than rows
/// times slices.
struct RowKeys {
  std::vector<int64_t> offsets;
  std::vector<mask::Range> intervals;

  RowKeys(const mask::Mask &mask, int64_t numQ, int64_t numK) {
    offsets.assign(numQ + 1, 0);
    // Clipping to the shape keeps an invalid mask from reading out of bounds.
    auto clippedRows = [&](const mask::Slice &slice) {
      return mask::Range{std::max<int64_t>(slice.qBegin, 0),
                         std::min(slice.qEnd, numQ)};
    };
    auto clippedKeys = [&](const mask::Slice &slice, int64_t row) {
      mask::Range keys = slice.keysOfRow(row);
      keys.begin = std::max<int64_t>(keys.begin, 0);
      keys.end = std::min(keys.end, numK);
      return keys;
    };
    for (const mask::Slice &slice : mask) {
      mask::Range rows = clippedRows(slice);
      for (int64_t row = rows.begin; row < rows.end; ++row)
        if (!clippedKeys(slice, row).empty())
          ++offsets[row + 1];
    }
    for (int64_t row = 0; row < numQ; ++row)
      offsets[row + 1] += offsets[row];
    intervals.resize(offsets[numQ]);
    std::vector<int64_t> next(offsets.begin(), offsets.end() - 1);
    for (const mask::Slice &slice : mask) {
      mask::Range rows = clippedRows(slice);
      for (int64_t row = rows.begin; row < rows.end; ++row) {
        mask::Range keys = clippedKeys(slice, row);
        if (!keys.empty())
          intervals[next[row]++] = keys;
      }
    }
  }

  const mask::Range *begin(int64_t row) const {
    return intervals.data() + offsets[row];
  }
  const mask::Range *end(int64_t row) const {
    return intervals.data() + offsets[row + 1];
  }
  int64_t numKeys(int64_t row) const {
    int64_t total = 0;
    for (const mask::Range *it = begin(row); it != end(row); ++it)
      total += it->size();
    return total;
  }
  int64_t maxKeysPerRow(int64_t numQ) const {
    int64_t most = 0;
    for (int64_t row = 0; row < numQ; ++row)
      most = std::max(most, numKeys(row));
    return most;
  }
};

/// One kv head's keys (key-major) or values (dimension-major), gathered
/// contiguously in the accumulation type. Both matmuls then become dot
/// products over contiguous memory that stays in cache across all rows of the
/// head group, and each element is converted once rather than once per row.
template <typename T>
void gatherKeys(const float *source, const AttentionShape &shape,
                       int64_t kvHead, std::vector<T> &keys) {
  keys.resize(shape.numK * shape.headDim);
  for (int64_t key = 0; key < shape.numK; ++key) {
    const float *row = source + (key * shape.headsK + kvHead) * shape.headDim;
    std::copy(row, row + shape.headDim, keys.begin() + key * shape.headDim);
  }
}

template <typename T>
void gatherValuesTransposed(const float *source,
                                   const AttentionShape &shape, int64_t kvHead,
                                   std::vector<T> &values) {
  values.resize(shape.numK * shape.headDim);
  for (int64_t key = 0; key < shape.numK; ++key) {
    const float *row = source + (key * shape.headsK + kvHead) * shape.headDim;
    for (int64_t d = 0; d < shape.headDim; ++d)
      values[d * shape.numK + key] = row[d];
  }
}

/// Dot product with eight independent partial sums, so that several
/// multiply-adds are in flight (and pairs of them fit a SIMD register); the
/// summation order is as arbitrary as a matmul's. Named accumulators rather
/// than an array keep them in registers without relying on the compiler
/// unrolling a lane loop.
template <typename T> T dot(const T *a, const T *b, int64_t n) {
  T sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0, sum4 = 0, sum5 = 0, sum6 = 0,
    sum7 = 0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    sum0 += a[i] * b[i];
    sum1 += a[i + 1] * b[i + 1];
    sum2 += a[i + 2] * b[i + 2];
    sum3 += a[i + 3] * b[i + 3];
    sum4 += a[i + 4] * b[i + 4];
    sum5 += a[i + 5] * b[i + 5];
    sum6 += a[i + 6] * b[i + 6];
    sum7 += a[i + 7] * b[i + 7];
  }
  for (; i < n; ++i)
    sum0 += a[i] * b[i];
  return ((sum0 + sum4) + (sum1 + sum5)) + ((sum2 + sum6) + (sum3 + sum7));
}

/// output[d] = sum over the row's keys of weights[n] * values[key][d], with
/// weights in the order the row's intervals list the keys and `values`
/// dimension-major (numK per dimension).
template <typename T>
void weightedSum(const mask::Range *intervals,
                        const mask::Range *intervalsEnd, const T *weights,
                        const T *values, int64_t numK, int64_t headDim,
                        T *output) {
  for (int64_t d = 0; d < headDim; ++d) {
    T sum = 0;
    const T *weight = weights;
    for (const mask::Range *it = intervals; it != intervalsEnd; ++it) {
      sum += dot(weight, values + d * numK + it->begin, it->size());
      weight += it->size();
    }
    output[d] = sum;
  }
}

/// One (row, head)'s attended keys in the order the row's intervals list
/// them (a key several slices attend appears once per slice), with each
/// key's scaled score before the softcap (`raw`) and its softmax weight
/// exp(score - max) unnormalized; the weights sum to `sum`.
struct RowScores {
  std::vector<int64_t> keys;
  std::vector<double> raw, weights;
  double max = 0, sum = 0;

  double lse() const { return max + std::log(sum); }
};

/// Fills `row` from query vector `query` and a kv head's gathered keys
/// (key-major, fp64), with docs/spec.md's scale and softcap; false when the
/// row attends no key.
inline bool scoreRow(const RowKeys &rowKeys, int64_t rowIndex,
                     const std::vector<double> &keys, const double *query,
                     int64_t headDim, double scale, double softcap,
                     RowScores &row) {
  row.keys.clear();
  row.raw.clear();
  row.weights.clear();
  row.max = -std::numeric_limits<double>::infinity();
  for (auto it = rowKeys.begin(rowIndex); it != rowKeys.end(rowIndex); ++it)
    for (int64_t key = it->begin; key < it->end; ++key) {
      double raw = scale * dot(query, &keys[key * headDim], headDim);
      double score = softcap > 0 ? softcap * std::tanh(raw / softcap) : raw;
      row.keys.push_back(key);
      row.raw.push_back(raw);
      row.weights.push_back(score);
      row.max = std::max(row.max, score);
    }
  if (row.keys.empty())
    return false;
  row.sum = 0;
  for (double &weight : row.weights)
    row.sum += (weight = std::exp(weight - row.max));
  return true;
}

} // namespace fattn::runtime::reference_rows

#endif // FATTN_RUNTIME_REFERENCEROWS_H
