//===- ExecutionCases.h - The masks every backend is tested on -*- C++ -*-===//
//
// The CPU execution tests run these cases; gpu-suite-programs writes the same
// masks as bf16/f16 programs for the GPU suite on the device.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_UNITTESTS_EXECUTIONCASES_H
#define FATTN_UNITTESTS_EXECUTIONCASES_H

#include "FlashDialect/Mask/Mask.h"
#include "FlashDialect/Runtime/Reference.h"

#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace fattn::testing {
namespace mask = ::fattn::mask;
namespace runtime = ::fattn::runtime;
using mask::Slice;
using mask::SliceKind;


struct ExecutionCase {
  std::string name;
  mask::Mask mask;
  runtime::AttentionShape shape;
  runtime::AttentionParams params = {};
  int64_t blockQ = 32, blockK = 32;
  bool alignQueryTiles = false;
};

inline std::ostream &operator<<(std::ostream &os, const ExecutionCase &c) {
  return os << c.name;
}

inline runtime::AttentionShape shapeOf(int64_t numQ, int64_t numK, int64_t headsQ = 2,
                                int64_t headsK = 1, int64_t headDim = 16) {
  runtime::AttentionShape shape;
  shape.numQ = numQ;
  shape.numK = numK;
  shape.headsQ = headsQ;
  shape.headsK = headsK;
  shape.headDim = headDim;
  return shape;
}

inline Slice slice(SliceKind kind, int64_t qBegin, int64_t qEnd, int64_t kBegin,
            int64_t kEnd) {
  return Slice{qBegin, qEnd, kBegin, kEnd, kind};
}

/// Random non-overlapping slices: candidates are drawn and kept only when
/// they share no cell with those already kept (checked cell by cell here).
inline mask::Mask randomMask(std::mt19937_64 &rng, int64_t numQ, int64_t numK,
                      int count) {
  std::vector<char> taken(numQ * numK, 0);
  mask::Mask result;
  auto pick = [&](int64_t limit) {
    return std::uniform_int_distribution<int64_t>(0, limit)(rng);
  };
  for (int attempt = 0; attempt < 200 && (int)result.size() < count;
       ++attempt) {
    int64_t q0 = pick(numQ - 1), q1 = q0 + 1 + pick(numQ - 1 - q0);
    int64_t k0 = pick(numK - 1), k1 = k0 + 1 + pick(numK - 1 - k0);
    Slice candidate = slice(static_cast<SliceKind>(pick(3)), q0, q1, k0, k1);
    bool clash = false;
    for (int64_t i = q0; i < q1 && !clash; ++i)
      for (int64_t j = k0; j < k1 && !clash; ++j)
        clash = candidate.contains(i, j) && taken[i * numK + j];
    if (clash)
      continue;
    for (int64_t i = q0; i < q1; ++i)
      for (int64_t j = k0; j < k1; ++j)
        if (candidate.contains(i, j))
          taken[i * numK + j] = 1;
    result.push_back(candidate);
  }
  return result;
}

inline std::vector<ExecutionCase> allCases() {
  std::vector<ExecutionCase> cases;
  auto add = [&](std::string name, mask::Mask m, runtime::AttentionShape shape,
                 runtime::AttentionParams params = {}, int64_t blockQ = 32,
                 int64_t blockK = 32) {
    cases.push_back({std::move(name), std::move(m), shape, params, blockQ,
                     blockK});
  };
  const char *kindNames[] = {"full", "causal", "inv_causal", "bi_causal"};

  // Each kind alone, square and with Sq != Sk both ways.
  for (int kind = 0; kind < 4; ++kind) {
    auto k = static_cast<SliceKind>(kind);
    add(std::string(kindNames[kind]) + "_square", {slice(k, 0, 96, 0, 96)},
        shapeOf(96, 96));
    add(std::string(kindNames[kind]) + "_more_keys", {slice(k, 0, 40, 0, 100)},
        shapeOf(40, 100));
    add(std::string(kindNames[kind]) + "_more_queries",
        {slice(k, 0, 100, 0, 40)}, shapeOf(100, 40));
    add(std::string(kindNames[kind]) + "_inner", {slice(k, 10, 70, 20, 90)},
        shapeOf(80, 100));
  }

  // Overlapping q ranges with disjoint keys.
  add("overlap_full_then_causal",
      {slice(SliceKind::Full, 32, 96, 0, 32),
       slice(SliceKind::Causal, 32, 96, 32, 96)},
      shapeOf(96, 96));
  add("overlap_three_ways",
      {slice(SliceKind::InvCausal, 0, 64, 0, 64),
       slice(SliceKind::Full, 0, 64, 64, 80),
       slice(SliceKind::Causal, 16, 48, 80, 112)},
      shapeOf(64, 112));
  add("overlap_causal_and_inv_causal_split",
      {slice(SliceKind::Causal, 0, 64, 0, 64),
       slice(SliceKind::InvCausal, 0, 63, 1, 64)},
      shapeOf(64, 64));

  // Rows that attend nothing: out 0, lse -inf.
  add("empty_mask", {}, shapeOf(40, 40));
  add("empty_rows_between", {slice(SliceKind::Full, 0, 10, 0, 50),
                             slice(SliceKind::Causal, 30, 60, 0, 50)},
      shapeOf(70, 50));
  add("causal_taller_than_wide", {slice(SliceKind::Causal, 0, 90, 0, 30)},
      shapeOf(90, 30));
  add("bi_causal_empty_when_tall", {slice(SliceKind::BiCausal, 0, 40, 0, 20),
                                    slice(SliceKind::Full, 40, 50, 0, 20)},
      shapeOf(50, 20));

  // Builders: varlen, sliding window, block-causal, shared question.
  std::vector<int64_t> cu = {0, 17, 40, 41, 100, 128};
  add("varlen_full", *mask::varlenMask(cu, cu, false), shapeOf(128, 128));
  add("varlen_causal", *mask::varlenMask(cu, cu, true), shapeOf(128, 128));
  std::vector<int64_t> cuK = {0, 30, 50, 51, 130, 160};
  add("varlen_causal_longer_keys", *mask::varlenMask(cu, cuK, true),
      shapeOf(128, 160));
  add("sliding_window_causal", *mask::slidingWindowMask(128, 128, 24, 0),
      shapeOf(128, 128));
  add("sliding_window_both_sides", *mask::slidingWindowMask(128, 128, 10, 7),
      shapeOf(128, 128));
  add("sliding_window_rectangular", *mask::slidingWindowMask(64, 100, 30, 5),
      shapeOf(64, 100));
  add("sliding_window_wider_than_sequence",
      *mask::slidingWindowMask(50, 50, 200, 200), shapeOf(50, 50));
  add("block_causal", *mask::blockCausalMask(128, 32), shapeOf(128, 128));
  add("block_causal_ragged", *mask::blockCausalMask(100, 24),
      shapeOf(100, 100));
  add("shared_question", *mask::sharedQuestionMask(20, {30, 10, 40}),
      shapeOf(100, 100));
  add("causal_builder_rectangular", mask::causalMask(70, 110),
      shapeOf(70, 110));

  // GQA/MQA and head dims 64 and 128.
  add("gqa_8_2_causal", mask::causalMask(64, 64), shapeOf(64, 64, 8, 2));
  add("gqa_32_4_causal", mask::causalMask(48, 48), shapeOf(48, 48, 32, 4, 8));
  add("mqa_4_1_varlen", *mask::varlenMask({0, 20, 64}, {0, 20, 64}, true),
      shapeOf(64, 64, 4, 1));
  add("head_dim_64", mask::causalMask(96, 96), shapeOf(96, 96, 2, 1, 64));
  add("head_dim_128", *mask::varlenMask({0, 50, 96}, {0, 50, 96}, true),
      shapeOf(96, 96, 2, 2, 128));
  add("gqa_8_2_head_dim_128", mask::causalMask(64, 80),
      shapeOf(64, 80, 8, 2, 128));

  // Scale and softcap.
  runtime::AttentionParams scaled;
  scaled.scale = 0.3;
  add("custom_scale", mask::causalMask(64, 64), shapeOf(64, 64), scaled);
  runtime::AttentionParams capped;
  capped.scale = 1.0;
  capped.softcap = 2.0;
  add("softcap", mask::fullMask(64, 80), shapeOf(64, 80), capped);
  add("softcap_block_causal", *mask::blockCausalMask(96, 32), shapeOf(96, 96),
      capped);

  // Tile sizes that do not divide the lengths, and one-row tiles.
  add("tiles_16x48", mask::causalMask(100, 100), shapeOf(100, 100),
      runtime::AttentionParams(), 16, 48);
  add("tiles_1x7", *mask::slidingWindowMask(30, 30, 5, 2), shapeOf(30, 30),
      runtime::AttentionParams(), 1, 7);
  add("tiles_larger_than_sequence", mask::causalMask(20, 20), shapeOf(20, 20),
      runtime::AttentionParams(), 64, 64);

  // Query tiles cut at slice boundaries (the GPU's tiling), on the CPU.
  for (ExecutionCase aligned :
       {ExecutionCase{"aligned_varlen_causal",
                      *mask::varlenMask(cu, cu, true), shapeOf(128, 128)},
        ExecutionCase{"aligned_varlen_full", *mask::varlenMask(cu, cu, false),
                      shapeOf(128, 128)},
        ExecutionCase{"aligned_shared_question",
                      *mask::sharedQuestionMask(20, {30, 10, 40}),
                      shapeOf(100, 100)},
        ExecutionCase{"aligned_block_causal_ragged",
                      *mask::blockCausalMask(100, 24), shapeOf(100, 100)},
        ExecutionCase{"aligned_sliding_window",
                      *mask::slidingWindowMask(96, 96, 20, 3),
                      shapeOf(96, 96)}}) {
    aligned.alignQueryTiles = true;
    cases.push_back(aligned);
  }

  // Random valid masks.
  std::mt19937_64 rng(20261122);
  for (int i = 0; i < 16; ++i) {
    int64_t numQ = 8 + (int64_t)(rng() % 100);
    int64_t numK = 8 + (int64_t)(rng() % 100);
    add("random_" + std::to_string(i), randomMask(rng, numQ, numK, 1 + i % 6),
        shapeOf(numQ, numK, 2, 1, 16), {}, 8 + (int64_t)(rng() % 40),
        8 + (int64_t)(rng() % 40));
  }
  return cases;
}

} // namespace fattn::testing

#endif // FATTN_UNITTESTS_EXECUTIONCASES_H
