//===- Reference.cpp - fp64 reference and naive low-precision attention ---===//
//
// Both attentions read the mask only through Slice::keysOfRow, so they agree
// with the mask library on which pairs attend while sharing none of the
// kernels' tiling logic.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Runtime/Reference.h"
#include "FlashDialect/Runtime/Elements.h"

#include "ReferenceRows.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace fattn::runtime {

using reference_rows::dot;
using reference_rows::gatherKeys;
using reference_rows::gatherValuesTransposed;
using reference_rows::RowKeys;
using reference_rows::RowScores;
using reference_rows::scoreRow;
using reference_rows::weightedSum;

void referenceAttention(const mask::Mask &mask, const AttentionShape &shape,
                        const AttentionParams &params, const float *q,
                        const float *k, const float *v, double *out,
                        double *lse) {
  assert(!checkShape(shape) && "invalid attention shape");
  const int64_t headDim = shape.headDim;
  const int64_t groupSize = shape.headsQ / shape.headsK;
  const double scale = params.effectiveScale(shape);
  const double softcap = params.softcap;
  RowKeys rowKeys(mask, shape.numQ, shape.numK);
  RowScores scores;
  std::vector<double> keys, values, query(headDim);

  for (int64_t kvHead = 0; kvHead < shape.headsK; ++kvHead) {
    gatherKeys(k, shape, kvHead, keys);
    gatherValuesTransposed(v, shape, kvHead, values);
    for (int64_t row = 0; row < shape.numQ; ++row) {
      for (int64_t head = kvHead * groupSize; head < (kvHead + 1) * groupSize;
           ++head) {
        const int64_t index = row * shape.headsQ + head;
        std::copy_n(q + index * headDim, headDim, query.begin());
        double *output = out + index * headDim;
        if (!scoreRow(rowKeys, row, keys, query.data(), headDim, scale,
                      softcap, scores)) {
          std::fill(output, output + headDim, 0.0);
          lse[index] = -std::numeric_limits<double>::infinity();
          continue;
        }
        weightedSum(rowKeys.begin(row), rowKeys.end(row),
                    scores.weights.data(), values.data(), shape.numK, headDim,
                    output);
        for (int64_t d = 0; d < headDim; ++d)
          output[d] /= scores.sum;
        lse[index] = scores.lse();
      }
    }
  }
}

void naiveAttention(const mask::Mask &mask, const AttentionShape &shape,
                    const AttentionParams &params, ElementType type,
                    const float *q, const float *k, const float *v, float *out,
                    float *lse) {
  // Mirrors eager PyTorch in `type`: matmuls accumulate in fp32 and round
  // their result once, each element-wise op rounds its result, and softmax
  // works in fp32 internally with its output rounded.
  assert(!checkShape(shape) && "invalid attention shape");
  auto round = [type](float value) { return roundTo(type, value); };
  const int64_t headDim = shape.headDim;
  const int64_t groupSize = shape.headsQ / shape.headsK;
  const float scale = float(params.effectiveScale(shape));
  const float softcap = float(params.softcap);
  RowKeys rowKeys(mask, shape.numQ, shape.numK);
  std::vector<float> scores(rowKeys.maxKeysPerRow(shape.numQ));
  std::vector<float> keys, values;

  for (int64_t kvHead = 0; kvHead < shape.headsK; ++kvHead) {
    gatherKeys(k, shape, kvHead, keys);
    gatherValuesTransposed(v, shape, kvHead, values);
    for (int64_t row = 0; row < shape.numQ; ++row) {
      for (int64_t head = kvHead * groupSize; head < (kvHead + 1) * groupSize;
           ++head) {
        const int64_t index = row * shape.headsQ + head;
        const float *query = q + index * headDim;
        float *output = out + index * headDim;

        // Masked-out scores would be -inf and contribute exact zeros, so only
        // attended keys are materialized.
        float maxScore = -std::numeric_limits<float>::infinity();
        int64_t numScores = 0;
        for (auto it = rowKeys.begin(row); it != rowKeys.end(row); ++it)
          for (int64_t key = it->begin; key < it->end; ++key) {
            float score =
                round(round(dot(query, &keys[key * headDim], headDim)) * scale);
            if (softcap > 0)
              score = round(softcap * round(std::tanh(round(score / softcap))));
            scores[numScores++] = score;
            maxScore = std::max(maxScore, score);
          }

        if (numScores == 0) {
          // Where eager softmax would produce NaN, follow docs/spec.md §1.
          std::fill(output, output + headDim, 0.0f);
          lse[index] = -std::numeric_limits<float>::infinity();
          continue;
        }

        float sum = 0;
        for (int64_t i = 0; i < numScores; ++i)
          sum += std::exp(scores[i] - maxScore);
        lse[index] = maxScore + std::log(sum);

        for (int64_t i = 0; i < numScores; ++i)
          scores[i] = round(std::exp(scores[i] - maxScore) / sum);
        weightedSum(rowKeys.begin(row), rowKeys.end(row), scores.data(),
                    values.data(), shape.numK, headDim, output);
        for (int64_t d = 0; d < headDim; ++d)
          output[d] = round(output[d]);
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// Random inputs
//===----------------------------------------------------------------------===//

namespace {
/// splitmix64: tiny, well mixed, and the same sequence everywhere, unlike the
/// distributions of <random> whose algorithms vary between libraries.
class SplitMix64 {
public:
  explicit SplitMix64(uint64_t seed) : state(seed) {}

  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  /// Uniform in [-1, 1) with 53 random bits.
  double nextSigned() { return double(next() >> 11) * 0x1p-52 - 1.0; }

private:
  uint64_t state;
};
} // namespace

std::vector<float> randomTensor(int64_t count, uint64_t seed,
                                ElementType type) {
  std::vector<float> values(std::max<int64_t>(count, 0));
  SplitMix64 generator(seed);
  // Marsaglia's polar method: needs only sqrt (exactly rounded everywhere)
  // and log, so the values do not depend on a library's trigonometry.
  for (int64_t i = 0; i < count; i += 2) {
    double x, y, radiusSquared;
    do {
      x = generator.nextSigned();
      y = generator.nextSigned();
      radiusSquared = x * x + y * y;
    } while (radiusSquared >= 1.0 || radiusSquared == 0.0);
    double factor = std::sqrt(-2.0 * std::log(radiusSquared) / radiusSquared);
    values[i] = roundTo(type, float(x * factor));
    if (i + 1 < count)
      values[i + 1] = roundTo(type, float(y * factor));
  }
  return values;
}

} // namespace fattn::runtime
