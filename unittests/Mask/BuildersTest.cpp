//===- BuildersTest.cpp - Builders against their defining formulas --------===//
//
// Each builder's mask is evaluated cell by cell (SpecOracle.h) and compared
// with the pattern's own definition, written here directly from the formula.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Mask/Mask.h"
#include "SpecOracle.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>

using namespace fattn::mask;
namespace oracle = fattn::mask::oracle;

namespace {

/// `mask` attends exactly the cells where `definition` holds, each once, and
/// passes validation.
void expectMaskIs(const Mask &mask, int64_t numQ, int64_t numK,
                  const std::function<bool(int64_t, int64_t)> &definition) {
  SCOPED_TRACE(oracle::describe(mask));
  ASSERT_EQ(validate(mask, numQ, numK), std::nullopt);
  std::vector<int> grid = oracle::coverage(mask, numQ, numK);
  for (int64_t i = 0; i < numQ; ++i)
    for (int64_t j = 0; j < numK; ++j)
      ASSERT_EQ(grid[i * numK + j], definition(i, j) ? 1 : 0)
          << "q " << i << ", k " << j;
  for (const Slice &slice : mask) {
    EXPECT_FALSE(slice.qRange().empty()) << formatSlice(slice);
    EXPECT_FALSE(slice.kRange().empty()) << formatSlice(slice);
  }
}

TEST(BuildersTest, FullAndCausal) {
  for (int64_t numQ = 0; numQ <= 12; ++numQ)
    for (int64_t numK = 0; numK <= 12; ++numK) {
      expectMaskIs(fullMask(numQ, numK), numQ, numK,
                   [](int64_t, int64_t) { return true; });
      // Bottom-right aligned: the last query sees every key.
      expectMaskIs(causalMask(numQ, numK), numQ, numK,
                   [&](int64_t i, int64_t j) { return j <= i + numK - numQ; });
    }
  EXPECT_EQ(fullMask(4096, 8192),
            (Mask{Slice{0, 4096, 0, 8192, SliceKind::Full}}));
  EXPECT_EQ(causalMask(4096, 4096),
            (Mask{Slice{0, 4096, 0, 4096, SliceKind::Causal}}));
  EXPECT_EQ(fullMask(0, 5), Mask{});
}

/// FlashAttention's window, -1 unbounded.
bool inWindow(int64_t numQ, int64_t numK, int64_t left, int64_t right,
              int64_t i, int64_t j) {
  int64_t diagonal = i + numK - numQ;
  return (left < 0 || j >= diagonal - left) &&
         (right < 0 || j <= diagonal + right);
}

TEST(BuildersTest, SlidingWindowMatchesDefinition) {
  const int64_t sizes[] = {-1, 0, 1, 2, 3, 5, 8, 13, 30, 1000};
  for (int64_t numQ = 0; numQ <= 20; ++numQ)
    for (int64_t numK = 0; numK <= 20; ++numK)
      for (int64_t left : sizes)
        for (int64_t right : sizes) {
          SCOPED_TRACE(std::to_string(numQ) + " x " + std::to_string(numK) +
                       ", window (" + std::to_string(left) + ", " +
                       std::to_string(right) + ")");
          std::string error;
          std::optional<Mask> mask =
              slidingWindowMask(numQ, numK, left, right, &error);
          ASSERT_TRUE(mask) << error;
          expectMaskIs(*mask, numQ, numK, [&](int64_t i, int64_t j) {
            return inWindow(numQ, numK, left, right, i, j);
          });
          // Already canonical: tight, simplest kinds, and no two slices that
          // one could replace, so no fewer slices would do.
          EXPECT_EQ(normalize(*mask), *mask);
          EXPECT_LE(mask->size(), 3u);
          if (HasFatalFailure())
            return;
        }
}

TEST(BuildersTest, SlidingWindowShapes) {
  // Causal and unbounded windows are single slices.
  EXPECT_EQ(*slidingWindowMask(8, 8, -1, 0),
            (Mask{Slice{0, 8, 0, 8, SliceKind::Causal}}));
  EXPECT_EQ(*slidingWindowMask(6, 8, -1, -1),
            (Mask{Slice{0, 6, 0, 8, SliceKind::Full}}));
  EXPECT_EQ(*slidingWindowMask(4, 4, 1000, 1000),
            (Mask{Slice{0, 4, 0, 4, SliceKind::Full}}));
  // Causal with more queries than keys: the first two rows see nothing.
  EXPECT_EQ(*slidingWindowMask(6, 4, -1, 0),
            (Mask{Slice{2, 6, 0, 4, SliceKind::Causal}}));
  // A band: rising edge, diagonal band, falling edge. Rows 2 and 7 could
  // join either neighbour; the earlier slice takes them.
  EXPECT_EQ(*slidingWindowMask(10, 10, 2, 2),
            (Mask{Slice{0, 3, 0, 5, SliceKind::Causal},
                  Slice{3, 8, 1, 10, SliceKind::BiCausal},
                  Slice{8, 10, 6, 10, SliceKind::InvCausal}}));
  // A window wider than the keys: clipped on both sides in the middle rows.
  EXPECT_EQ(*slidingWindowMask(6, 6, 4, 4),
            (Mask{Slice{0, 2, 0, 6, SliceKind::Causal},
                  Slice{2, 5, 0, 6, SliceKind::Full},
                  Slice{5, 6, 1, 6, SliceKind::Full}}));
  // Row 3 meets both clips exactly, so two slices suffice.
  EXPECT_EQ(*slidingWindowMask(8, 8, 4, 4),
            (Mask{Slice{0, 4, 0, 8, SliceKind::Causal},
                  Slice{4, 8, 0, 8, SliceKind::InvCausal}}));
  // More queries than keys: row i sees [i - 9, i - 5], so rows 0..4 see
  // nothing.
  EXPECT_EQ(*slidingWindowMask(10, 4, 3, 1),
            (Mask{Slice{5, 9, 0, 4, SliceKind::Causal},
                  Slice{9, 10, 0, 4, SliceKind::Full}}));
  EXPECT_EQ(*slidingWindowMask(0, 4, 1, 1), Mask{});
  EXPECT_EQ(*slidingWindowMask(4, 0, 1, 1), Mask{});
  // Huge windows do not overflow.
  int64_t huge = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(*slidingWindowMask(3, 5, huge, huge),
            (Mask{Slice{0, 3, 0, 5, SliceKind::Full}}));
}

TEST(BuildersTest, SlidingWindowErrors) {
  std::string error;
  EXPECT_FALSE(slidingWindowMask(8, 8, -2, 0, &error));
  EXPECT_EQ(error, "window_size_left = -2 is invalid: use -1 (unbounded) or "
                   "a size >= 0");
  EXPECT_FALSE(slidingWindowMask(8, 8, 0, -5, &error));
  EXPECT_EQ(error, "window_size_right = -5 is invalid: use -1 (unbounded) or "
                   "a size >= 0");
  EXPECT_FALSE(slidingWindowMask(-1, 8, 0, 0, &error));
  EXPECT_EQ(error, "query length must be >= 0, got -1");
  EXPECT_FALSE(slidingWindowMask(8, -3, 0, 0, &error));
  EXPECT_EQ(error, "key length must be >= 0, got -3");
  EXPECT_FALSE(slidingWindowMask(8, 8, -7, 0));
}

/// Random cu_seqlens of `count` sequences, zero lengths included.
std::vector<int64_t> randomCuSeqlens(std::mt19937_64 &rng, int64_t count) {
  std::vector<int64_t> cu = {0};
  for (int64_t b = 0; b < count; ++b)
    cu.push_back(cu.back() +
                 oracle::uniform(rng, 0, 3) * oracle::uniform(rng, 0, 3));
  return cu;
}

TEST(BuildersTest, VarlenMatchesDefinition) {
  std::mt19937_64 rng(21);
  for (int trial = 0; trial < 500; ++trial) {
    int64_t count = oracle::uniform(rng, 0, 6);
    std::vector<int64_t> cuQ = randomCuSeqlens(rng, count);
    std::vector<int64_t> cuK = randomCuSeqlens(rng, count);
    bool causal = trial % 2;
    std::string error;
    std::optional<Mask> mask = varlenMask(cuQ, cuK, causal, &error);
    ASSERT_TRUE(mask) << error;
    // Sequence b: its queries see its keys, causal bottom-right aligned
    // within the sequence.
    expectMaskIs(*mask, cuQ.back(), cuK.back(), [&](int64_t i, int64_t j) {
      for (int64_t b = 0; b < count; ++b) {
        if (i < cuQ[b] || i >= cuQ[b + 1] || j < cuK[b] || j >= cuK[b + 1])
          continue;
        int64_t lengthQ = cuQ[b + 1] - cuQ[b], lengthK = cuK[b + 1] - cuK[b];
        return !causal || j - cuK[b] <= (i - cuQ[b]) + (lengthK - lengthQ);
      }
      return false;
    });
  }
  EXPECT_EQ(*varlenMask({0}, {0}, true), Mask{});
  EXPECT_EQ(*varlenMask({0, 3, 3, 5}, {0, 4, 6, 6}, false),
            (Mask{Slice{0, 3, 0, 4, SliceKind::Full}}));
}

TEST(BuildersTest, VarlenErrors) {
  std::string error;
  EXPECT_FALSE(varlenMask({}, {0}, false, &error));
  EXPECT_EQ(error, "cu_seqlens_q is empty; it needs at least the leading 0");
  EXPECT_FALSE(varlenMask({0}, {}, false, &error));
  EXPECT_EQ(error, "cu_seqlens_k is empty; it needs at least the leading 0");
  EXPECT_FALSE(varlenMask({1, 4}, {0, 4}, false, &error));
  EXPECT_EQ(error, "cu_seqlens_q[0] = 1, expected 0");
  EXPECT_FALSE(varlenMask({0, 4, 8, 12, 10}, {0, 4, 8, 12, 16}, true, &error));
  EXPECT_EQ(error, "cu_seqlens_q[4] = 10 is less than cu_seqlens_q[3] = 12");
  EXPECT_FALSE(varlenMask({0, 4, 8}, {0, 5, 3}, true, &error));
  EXPECT_EQ(error, "cu_seqlens_k[2] = 3 is less than cu_seqlens_k[1] = 5");
  EXPECT_FALSE(varlenMask({0, 4, 8}, {0, 8}, false, &error));
  EXPECT_EQ(error, "cu_seqlens_q has 3 entries but cu_seqlens_k has 2");
  EXPECT_FALSE(varlenMask({0, -1}, {0, 1}, false));
}

TEST(BuildersTest, BlockCausalMatchesDefinition) {
  for (int64_t numTokens = 0; numTokens <= 30; ++numTokens)
    for (int64_t blockSize = 1; blockSize <= 35; ++blockSize) {
      std::optional<Mask> mask = blockCausalMask(numTokens, blockSize);
      ASSERT_TRUE(mask);
      expectMaskIs(*mask, numTokens, numTokens, [&](int64_t i, int64_t j) {
        return j / blockSize <= i / blockSize;
      });
      int64_t blocks = (numTokens + blockSize - 1) / blockSize;
      EXPECT_EQ((int64_t)mask->size(), blocks > 0 ? 2 * blocks - 1 : 0);
    }
  // Overlapping q ranges, as in MagiAttention's examples.
  EXPECT_EQ(*blockCausalMask(5, 2), (Mask{Slice{0, 2, 0, 2, SliceKind::Full},
                                          Slice{2, 4, 0, 2, SliceKind::Full},
                                          Slice{2, 4, 2, 4, SliceKind::Full},
                                          Slice{4, 5, 0, 4, SliceKind::Full},
                                          Slice{4, 5, 4, 5, SliceKind::Full}}));
}

TEST(BuildersTest, BlockCausalErrors) {
  std::string error;
  EXPECT_FALSE(blockCausalMask(8, 0, &error));
  EXPECT_EQ(error, "block size must be > 0, got 0");
  EXPECT_FALSE(blockCausalMask(8, -4, &error));
  EXPECT_EQ(error, "block size must be > 0, got -4");
  EXPECT_FALSE(blockCausalMask(-1, 4, &error));
  EXPECT_EQ(error, "number of tokens must be >= 0, got -1");
  EXPECT_FALSE(blockCausalMask(-1, 0));
}

TEST(BuildersTest, SharedQuestionMatchesDefinition) {
  std::mt19937_64 rng(22);
  for (int trial = 0; trial < 500; ++trial) {
    int64_t questionLen = oracle::uniform(rng, 0, 8);
    std::vector<int64_t> answerLens(oracle::uniform(rng, 0, 5));
    for (int64_t &length : answerLens)
      length = oracle::uniform(rng, 0, 6);
    std::string error;
    std::optional<Mask> mask =
        sharedQuestionMask(questionLen, answerLens, &error);
    ASSERT_TRUE(mask) << error;
    int64_t total = questionLen;
    for (int64_t length : answerLens)
      total += length;
    expectMaskIs(*mask, total, total, [&](int64_t i, int64_t j) {
      if (i < questionLen)
        return j <= i;
      if (j < questionLen)
        return true;
      // Same answer and not in the future.
      int64_t begin = questionLen;
      for (int64_t length : answerLens) {
        if (i < begin + length)
          return j >= begin && j <= i;
        begin += length;
      }
      return false;
    });
  }
  EXPECT_EQ(*sharedQuestionMask(3, {2}),
            (Mask{Slice{0, 3, 0, 3, SliceKind::Causal},
                  Slice{3, 5, 0, 3, SliceKind::Full},
                  Slice{3, 5, 3, 5, SliceKind::Causal}}));
}

TEST(BuildersTest, SharedQuestionErrors) {
  std::string error;
  EXPECT_FALSE(sharedQuestionMask(-2, {1}, &error));
  EXPECT_EQ(error, "question length must be >= 0, got -2");
  EXPECT_FALSE(sharedQuestionMask(4, {1, 2, -1}, &error));
  EXPECT_EQ(error, "answer_lens[2] = -1 is negative");
  EXPECT_FALSE(sharedQuestionMask(4, {-1}));
}

TEST(BuildersTest, RandomBandsAreValidDisjointAndReproducible) {
  for (auto [tokens, slices] : {std::pair<int64_t, int64_t>{4096, 10000},
                                {16384, 10000}, {9, 2}, {8, 0}, {1000, 7}}) {
    std::string error;
    std::optional<Mask> mask = randomBandsMask(tokens, slices, 5, &error);
    ASSERT_TRUE(mask) << error;
    EXPECT_EQ(int64_t(mask->size()), slices);
    // validate() refuses two slices on one cell: the bands are disjoint in
    // q, a band's key ranges in k.
    EXPECT_EQ(validate(*mask, tokens, tokens), std::nullopt);
    for (const Slice &slice : *mask)
      EXPECT_GT(countAttendedPairs({slice}), 0) << formatSlice(slice);
    EXPECT_EQ(*mask, *randomBandsMask(tokens, slices, 5));
  }
  EXPECT_NE(*randomBandsMask(4096, 100, 1), *randomBandsMask(4096, 100, 2));
  // Two bands of 32 rows for 8 slices.
  Mask first = *randomBandsMask(64, 8, 1);
  EXPECT_EQ(first.front().qBegin, 0);
  EXPECT_EQ(first.front().qEnd, 32);
  EXPECT_EQ(first.back().qBegin, 32);
  std::string error;
  EXPECT_FALSE(randomBandsMask(100, 404, 1, &error));
  EXPECT_EQ(error, "404 slices need at least 101 tokens (a query row for "
                   "every 4 slices), got 100");
  EXPECT_FALSE(randomBandsMask(-1, 4, 1, &error));
  EXPECT_EQ(error, "number of tokens must be >= 0, got -1");
}

} // namespace
