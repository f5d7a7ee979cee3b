//===- ReferenceGrad.cpp - fp64 gradients of the reference attention ------===//
//
// Straight from the forward's definition, with the same view of the mask
// (ReferenceRows.h) and nothing of the kernels' tiling or of their lse: for
// each query row and head, the scores and probabilities are recomputed in
// fp64 and the chain rule applied key by key.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Runtime/Reference.h"

#include "ReferenceRows.h"

#include <cassert>
#include <cmath>
#include <limits>

namespace fattn::runtime {

using reference_rows::dot;
using reference_rows::gatherKeys;
using reference_rows::RowKeys;
using reference_rows::RowScores;
using reference_rows::scoreRow;

void referenceAttentionGrad(const mask::Mask &mask, const AttentionShape &shape,
                            const AttentionParams &params, const float *q,
                            const float *k, const float *v, const float *dout,
                            double *dq, double *dk, double *dv) {
  assert(!checkShape(shape) && "invalid attention shape");
  const int64_t headDim = shape.headDim;
  const int64_t groupSize = shape.headsQ / shape.headsK;
  const double scale = params.effectiveScale(shape);
  const double softcap = params.softcap;
  RowKeys rowKeys(mask, shape.numQ, shape.numK);
  std::fill(dq, dq + shape.qElements(), 0.0);
  std::fill(dk, dk + shape.kvElements(), 0.0);
  std::fill(dv, dv + shape.kvElements(), 0.0);
  std::vector<double> keys, values, query(headDim), upstream(headDim);
  RowScores row;
  std::vector<double> dScores;

  for (int64_t kvHead = 0; kvHead < shape.headsK; ++kvHead) {
    gatherKeys(k, shape, kvHead, keys);
    gatherKeys(v, shape, kvHead, values); // key-major, as keys
    for (int64_t r = 0; r < shape.numQ; ++r)
      for (int64_t head = kvHead * groupSize; head < (kvHead + 1) * groupSize;
           ++head) {
        const int64_t index = r * shape.headsQ + head;
        std::copy_n(q + index * headDim, headDim, query.begin());
        std::copy_n(dout + index * headDim, headDim, upstream.begin());
        if (!scoreRow(rowKeys, r, keys, query.data(), headDim, scale, softcap,
                      row))
          continue; // no key: nothing flows back
        // dP_j = <dout, v_j>; delta = sum_j P_j dP_j (= <dout, out>).
        size_t count = row.keys.size();
        dScores.resize(count);
        auto probability = [&](size_t j) { return row.weights[j] / row.sum; };
        double delta = 0;
        for (size_t j = 0; j < count; ++j) {
          dScores[j] =
              dot(upstream.data(), &values[row.keys[j] * headDim], headDim);
          delta += probability(j) * dScores[j];
        }
        double *dqRow = dq + index * headDim;
        for (size_t j = 0; j < count; ++j) {
          int64_t key = row.keys[j];
          double p = probability(j);
          // dS on the capped score, then through c * tanh(x / c).
          double dScore = p * (dScores[j] - delta);
          if (softcap > 0) {
            double t = std::tanh(row.raw[j] / softcap);
            dScore *= 1 - t * t;
          }
          double *dkRow = dk + (key * shape.headsK + kvHead) * headDim;
          double *dvRow = dv + (key * shape.headsK + kvHead) * headDim;
          const double *keyRow = &keys[key * headDim];
          for (int64_t d = 0; d < headDim; ++d) {
            dqRow[d] += scale * dScore * keyRow[d];
            dkRow[d] += scale * dScore * query[d];
            dvRow[d] += p * upstream[d];
          }
        }
      }
  }
}

} // namespace fattn::runtime
