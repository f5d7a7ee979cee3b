//===- MaskTest.cpp - Slice semantics, validation, normalization ----------===//

#include "FlashDialect/Mask/Mask.h"
#include "SpecOracle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

using namespace fattn::mask;
namespace oracle = fattn::mask::oracle;

namespace {

constexpr SliceKind kAllKinds[] = {SliceKind::Full, SliceKind::Causal,
                                   SliceKind::InvCausal, SliceKind::BiCausal};

Slice makeSlice(SliceKind kind, int64_t qBegin, int64_t qEnd, int64_t kBegin,
                int64_t kEnd) {
  return Slice{qBegin, qEnd, kBegin, kEnd, kind};
}

//===----------------------------------------------------------------------===//
// Kinds and per-row semantics
//===----------------------------------------------------------------------===//

TEST(SliceKindTest, NamesAndCodesRoundTrip) {
  const char *names[] = {"full", "causal", "inv_causal", "bi_causal"};
  for (int64_t code = 0; code < kNumSliceKinds; ++code) {
    auto kind = static_cast<SliceKind>(code);
    EXPECT_EQ(stringifySliceKind(kind), names[code]);
    EXPECT_EQ(symbolizeSliceKind(names[code]), kind);
    EXPECT_EQ(sliceKindFromCode(code), kind);
  }
  EXPECT_EQ(symbolizeSliceKind("Full"), std::nullopt);
  EXPECT_EQ(symbolizeSliceKind(""), std::nullopt);
  EXPECT_EQ(sliceKindFromCode(-1), std::nullopt);
  EXPECT_EQ(sliceKindFromCode(kNumSliceKinds), std::nullopt);
}

TEST(SliceTest, KeysOfRowMatchesSpecForAllKindsAndShapes) {
  for (SliceKind kind : kAllKinds)
    for (int64_t sq = 0; sq <= 7; ++sq)
      for (int64_t sk = 0; sk <= 7; ++sk)
        for (int64_t qBegin : {0, 3})
          for (int64_t kBegin : {0, 5}) {
            Slice slice =
                makeSlice(kind, qBegin, qBegin + sq, kBegin, kBegin + sk);
            SCOPED_TRACE(formatSlice(slice));
            int64_t pairs = 0;
            for (int64_t gi = qBegin - 2; gi < qBegin + sq + 2; ++gi) {
              Range keys = slice.keysOfRow(gi);
              for (int64_t gj = kBegin - 2; gj < kBegin + sk + 2; ++gj) {
                bool expected = oracle::attends(slice, gi, gj);
                pairs += expected;
                EXPECT_EQ(slice.contains(gi, gj), expected)
                    << "q " << gi << ", k " << gj;
                EXPECT_EQ(gj >= keys.begin && gj < keys.end, expected)
                    << "q " << gi << ", k " << gj;
              }
            }
            EXPECT_EQ(slice.countPairs(), pairs);
            EXPECT_EQ(slice.attendsNothing(), pairs == 0);
          }
}

// The consequences docs/spec.md §1 spells out, with Sq < Sk and Sq > Sk.
TEST(SliceTest, SpecExamplesWithUnequalLengths) {
  auto rows = [](const Slice &slice) {
    std::vector<std::pair<int64_t, int64_t>> result;
    for (int64_t row = slice.qBegin; row < slice.qEnd; ++row) {
      Range keys = slice.keysOfRow(row);
      if (keys.empty())
        result.push_back({0, 0});
      else
        result.push_back({keys.begin - slice.kBegin, keys.end - slice.kBegin});
    }
    return result;
  };
  using Rows = std::vector<std::pair<int64_t, int64_t>>;
  // Sq = 4 > Sk = 2.
  EXPECT_EQ(rows(makeSlice(SliceKind::Full, 10, 14, 100, 102)),
            (Rows{{0, 2}, {0, 2}, {0, 2}, {0, 2}}));
  EXPECT_EQ(rows(makeSlice(SliceKind::Causal, 10, 14, 100, 102)),
            (Rows{{0, 0}, {0, 0}, {0, 1}, {0, 2}}));
  EXPECT_EQ(rows(makeSlice(SliceKind::InvCausal, 10, 14, 100, 102)),
            (Rows{{0, 2}, {1, 2}, {0, 0}, {0, 0}}));
  EXPECT_TRUE(
      makeSlice(SliceKind::BiCausal, 10, 14, 100, 102).attendsNothing());
  // Sq = 2 < Sk = 4.
  EXPECT_EQ(rows(makeSlice(SliceKind::Causal, 10, 12, 100, 104)),
            (Rows{{0, 3}, {0, 4}}));
  EXPECT_EQ(rows(makeSlice(SliceKind::InvCausal, 10, 12, 100, 104)),
            (Rows{{0, 4}, {1, 4}}));
  EXPECT_EQ(rows(makeSlice(SliceKind::BiCausal, 10, 12, 100, 104)),
            (Rows{{0, 3}, {1, 4}}));
  // Square.
  EXPECT_EQ(rows(makeSlice(SliceKind::BiCausal, 0, 3, 7, 10)),
            (Rows{{0, 1}, {1, 2}, {2, 3}}));
  EXPECT_TRUE(makeSlice(SliceKind::Causal, 5, 5, 0, 9).keysOfRow(5).empty());
}

TEST(SliceTest, FormatSlice) {
  EXPECT_EQ(formatSlice(makeSlice(SliceKind::Causal, 0, 128, 0, 256)),
            "causal [0:128, 0:256]");
  EXPECT_EQ(formatSlice(makeSlice(SliceKind::InvCausal, 3, 4, 5, 6)),
            "inv_causal [3:4, 5:6]");
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

TEST(ValidateTest, CheckSliceMessages) {
  EXPECT_EQ(checkSlice(makeSlice(SliceKind::Full, -1, 4, 0, 4), 8, 8),
            "q range [-1, 4) starts below 0");
  EXPECT_EQ(checkSlice(makeSlice(SliceKind::Full, 0, 4, 5, 3), 8, 8),
            "k range [5, 3) is reversed");
  EXPECT_EQ(checkSlice(makeSlice(SliceKind::Full, 0, 9, 0, 4), 8, 8),
            "q range [0, 9) exceeds query length 8");
  EXPECT_EQ(checkSlice(makeSlice(SliceKind::Causal, 0, 4, 0, 5000), 8, 4096),
            "k range [0, 5000) exceeds key length 4096");
  EXPECT_EQ(checkSlice(Slice{0, 1, 0, 1, static_cast<SliceKind>(7)}, 8, 8),
            "unknown slice kind 7");
  // -1 lengths are dynamic: only the sign and order of the range are checked.
  EXPECT_EQ(
      checkSlice(makeSlice(SliceKind::Full, 0, 1 << 20, 0, 1 << 20), -1, -1),
      std::nullopt);
  EXPECT_EQ(checkSlice(makeSlice(SliceKind::Full, 0, 4, -2, 4), -1, -1),
            "k range [-2, 4) starts below 0");
  EXPECT_EQ(checkSlice(makeSlice(SliceKind::BiCausal, 8, 8, 4, 4), 8, 8),
            std::nullopt);
}

TEST(ValidateTest, MessagesNameTheSlices) {
  Mask outOfBounds = {makeSlice(SliceKind::Full, 0, 4, 0, 4),
                      makeSlice(SliceKind::Full, 0, 4, 4, 5000)};
  EXPECT_EQ(validate(outOfBounds, 8, 4096),
            "slice 1: k range [4, 5000) exceeds key length 4096");
  // Only cell (3, 5) is shared, by slices 0 and 2.
  Mask overlapping = {makeSlice(SliceKind::Full, 3, 4, 5, 6),
                      makeSlice(SliceKind::Full, 0, 3, 0, 8),
                      makeSlice(SliceKind::Full, 3, 8, 0, 8)};
  EXPECT_EQ(validate(overlapping, 8, 8),
            "slices 0 and 2 both attend (q 3, k 5)");
  Mask disjointKeysSameRows = {makeSlice(SliceKind::Causal, 0, 8, 0, 8),
                               makeSlice(SliceKind::InvCausal, 0, 8, 1, 9)};
  EXPECT_EQ(validate(disjointKeysSameRows, 8, 9), std::nullopt);
  EXPECT_EQ(validate(disjointKeysSameRows, -1, -1), std::nullopt);
  EXPECT_EQ(validate({}, 0, 0), std::nullopt);
}

bool shareCellBruteForce(const Slice &a, const Slice &b) {
  for (int64_t gi = std::max(a.qBegin, b.qBegin); gi < std::min(a.qEnd, b.qEnd);
       ++gi)
    for (int64_t gj = std::max(a.kBegin, b.kBegin);
         gj < std::min(a.kEnd, b.kEnd); ++gj)
      if (oracle::attends(a, gi, gj) && oracle::attends(b, gi, gj))
        return true;
  return false;
}

Slice shifted(Slice slice, int64_t rows, int64_t keys) {
  slice.qBegin += rows;
  slice.qEnd += rows;
  slice.kBegin += keys;
  slice.kEnd += keys;
  return slice;
}

TEST(ValidateTest, FindSharedCellIsExact) {
  std::mt19937_64 rng(1);
  int sharing = 0;
  for (int trial = 0; trial < 30000; ++trial) {
    int64_t extent = oracle::uniform(rng, 1, 24);
    Slice a = oracle::randomSlice(rng, extent, extent);
    Slice b = oracle::randomSlice(rng, extent, extent);
    bool expected = shareCellBruteForce(a, b);
    sharing += expected;
    std::optional<Cell> cell = findSharedCell(a, b);
    ASSERT_EQ(cell.has_value(), expected)
        << formatSlice(a) << " vs " << formatSlice(b);
    if (cell) {
      EXPECT_TRUE(oracle::attends(a, cell->row, cell->key));
      EXPECT_TRUE(oracle::attends(b, cell->row, cell->key));
    }
    EXPECT_EQ(findSharedCell(b, a).has_value(), expected);
    // Far from the origin, where sampling rows could not find a lone cell.
    int64_t rows = oracle::uniform(rng, 0, 1) << 40;
    int64_t keys = oracle::uniform(rng, 0, 1) << 41;
    EXPECT_EQ(findSharedCell(shifted(a, rows, keys), shifted(b, rows, keys))
                  .has_value(),
              expected);
  }
  // Both outcomes must be well represented for the comparison to mean much.
  EXPECT_GT(sharing, 1000);
  EXPECT_LT(sharing, 29000);
}

TEST(ValidateTest, FindSharedCellOnThinDiagonals) {
  // Two one-key-wide diagonals that cross at a single cell far away.
  int64_t base = int64_t(1) << 30;
  Slice diagonal =
      makeSlice(SliceKind::BiCausal, base, base + 1000, base, base + 1000);
  Slice lone = makeSlice(SliceKind::Full, base + 777, base + 778, base + 777,
                         base + 778);
  std::optional<Cell> cell = findSharedCell(diagonal, lone);
  ASSERT_TRUE(cell);
  EXPECT_EQ(cell->row, base + 777);
  EXPECT_EQ(cell->key, base + 777);
  Slice beside = makeSlice(SliceKind::Full, base + 777, base + 778, base + 778,
                           base + 1000);
  EXPECT_FALSE(findSharedCell(diagonal, beside));
  Slice upper =
      makeSlice(SliceKind::InvCausal, base, base + 1000, base + 1, base + 1001);
  EXPECT_FALSE(findSharedCell(diagonal, upper));
}

TEST(ValidateTest, FindOverlapReportsTheFirstSliceOverlappingAnEarlierOne) {
  std::mt19937_64 rng(2);
  for (int trial = 0; trial < 3000; ++trial) {
    Mask mask;
    for (int64_t count = oracle::uniform(rng, 0, 6); count > 0; --count)
      mask.push_back(oracle::randomSlice(rng, 12, 12));
    // The first slice sharing a cell with an earlier one, and the earliest
    // slice it shares one with.
    std::optional<std::pair<size_t, size_t>> expected;
    for (size_t j = 1; j < mask.size() && !expected; ++j)
      for (size_t i = 0; i < j && !expected; ++i)
        if (shareCellBruteForce(mask[i], mask[j]))
          expected = {i, j};
    std::optional<Overlap> overlap = findOverlap(mask);
    ASSERT_EQ(overlap.has_value(), expected.has_value())
        << oracle::describe(mask);
    if (!overlap)
      continue;
    EXPECT_EQ(overlap->first, expected->first) << oracle::describe(mask);
    EXPECT_EQ(overlap->second, expected->second) << oracle::describe(mask);
    EXPECT_TRUE(oracle::attends(mask[overlap->first], overlap->cell.row,
                                overlap->cell.key));
    EXPECT_TRUE(oracle::attends(mask[overlap->second], overlap->cell.row,
                                overlap->cell.key));
  }
}

TEST(CountTest, CountAttendedPairsMatchesCells) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 1000; ++trial) {
    int64_t numQ = oracle::uniform(rng, 0, 20);
    int64_t numK = oracle::uniform(rng, 0, 20);
    Mask mask = oracle::randomValidMask(rng, numQ, numK, 8);
    std::vector<int> grid = oracle::coverage(mask, numQ, numK);
    int64_t cells = 0;
    for (int covered : grid)
      cells += covered;
    EXPECT_EQ(countAttendedPairs(mask), cells) << oracle::describe(mask);
  }
  EXPECT_EQ(countAttendedPairs({}), 0);
  EXPECT_EQ(
      countAttendedPairs({makeSlice(SliceKind::Causal, 0, 4096, 0, 4096)}),
      int64_t(4096) * 4097 / 2);
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

/// The cells of `slice` as a grid of the given size.
std::vector<int> cellsOf(const Slice &slice, int64_t numQ, int64_t numK) {
  return oracle::coverage({slice}, numQ, numK);
}

/// The bounding box of the attended cells of `grid`, as a full slice;
/// nullopt when nothing is attended.
std::optional<Slice> boundingBox(const std::vector<int> &grid, int64_t numQ,
                                 int64_t numK) {
  std::optional<Slice> box;
  for (int64_t gi = 0; gi < numQ; ++gi)
    for (int64_t gj = 0; gj < numK; ++gj) {
      if (!grid[gi * numK + gj])
        continue;
      if (!box) {
        box = makeSlice(SliceKind::Full, gi, gi + 1, gj, gj + 1);
        continue;
      }
      box->qBegin = std::min(box->qBegin, gi);
      box->qEnd = std::max(box->qEnd, gi + 1);
      box->kBegin = std::min(box->kBegin, gj);
      box->kEnd = std::max(box->kEnd, gj + 1);
    }
  return box;
}

/// Whether some single slice attends exactly the cells of `grid`. Any slice
/// attends what the same kind does on its bounding box, so the box is the
/// only place to look.
bool isOneSlice(const std::vector<int> &grid, int64_t numQ, int64_t numK) {
  std::optional<Slice> box = boundingBox(grid, numQ, numK);
  if (!box)
    return false;
  for (SliceKind kind : kAllKinds) {
    box->kind = kind;
    if (cellsOf(*box, numQ, numK) == grid)
      return true;
  }
  return false;
}

bool canonicallyOrdered(const Mask &mask) {
  return std::is_sorted(
      mask.begin(), mask.end(), [](const Slice &x, const Slice &y) {
        return std::make_tuple(x.qBegin, x.kBegin, x.qEnd, x.kEnd, x.kind) <
               std::make_tuple(y.qBegin, y.kBegin, y.qEnd, y.kEnd, y.kind);
      });
}

/// Everything normalize() promises about `normalized`, the result for `mask`.
void expectNormalForm(const Mask &mask, const Mask &normalized, int64_t numQ,
                      int64_t numK) {
  SCOPED_TRACE(oracle::describe(mask) + " -> " + oracle::describe(normalized));
  EXPECT_EQ(oracle::coverage(normalized, numQ, numK),
            oracle::coverage(mask, numQ, numK));
  EXPECT_EQ(validate(normalized, numQ, numK), std::nullopt);
  EXPECT_TRUE(canonicallyOrdered(normalized));
  EXPECT_EQ(normalize(normalized), normalized);
  for (const Slice &slice : normalized) {
    std::vector<int> cells = cellsOf(slice, numQ, numK);
    std::optional<Slice> box = boundingBox(cells, numQ, numK);
    ASSERT_TRUE(box) << formatSlice(slice) << " attends nothing";
    EXPECT_EQ(slice.qRange(), box->qRange()) << formatSlice(slice);
    EXPECT_EQ(slice.kRange(), box->kRange()) << formatSlice(slice);
    for (SliceKind simpler : kAllKinds) {
      if (simpler == slice.kind)
        break;
      box->kind = simpler;
      EXPECT_NE(cellsOf(*box, numQ, numK), cells)
          << formatSlice(slice) << " is also " << formatSlice(*box);
    }
  }
  for (size_t i = 0; i < normalized.size(); ++i)
    for (size_t j = i + 1; j < normalized.size(); ++j) {
      std::vector<int> both =
          oracle::coverage({normalized[i], normalized[j]}, numQ, numK);
      EXPECT_FALSE(isOneSlice(both, numQ, numK))
          << formatSlice(normalized[i]) << " and " << formatSlice(normalized[j])
          << " form one slice";
    }
}

TEST(NormalizeTest, RandomMasksReachNormalForm) {
  std::mt19937_64 rng(4);
  for (int trial = 0; trial < 1500; ++trial) {
    int64_t numQ = oracle::uniform(rng, 0, 16);
    int64_t numK = oracle::uniform(rng, 0, 16);
    Mask mask = oracle::randomValidMask(rng, numQ, numK, 10);
    Mask normalized = normalize(mask);
    expectNormalForm(mask, normalized, numQ, numK);
    // Order of the input carries no meaning, so it cannot change the result.
    std::shuffle(mask.begin(), mask.end(), rng);
    EXPECT_EQ(normalize(mask), normalized);
  }
}

/// Rows [qBegin, row) and [row, qEnd) of `slice`, each as a slice of the same
/// kind, from the global forms in docs/spec.md §1: the row bound of a piece
/// moves and the key bound tied to it by the diagonal moves with it.
std::pair<Slice, Slice> splitRows(const Slice &slice, int64_t row) {
  Slice top = slice, bottom = slice;
  top.qEnd = row;
  bottom.qBegin = row;
  bool boundsAbove =
      slice.kind == SliceKind::Causal || slice.kind == SliceKind::BiCausal;
  bool boundsBelow =
      slice.kind == SliceKind::InvCausal || slice.kind == SliceKind::BiCausal;
  if (boundsAbove) // gj <= gi + (ke - qe) must keep its offset
    top.kEnd = std::max(top.kBegin, slice.kEnd - (slice.qEnd - row));
  if (boundsBelow) // gj >= gi + (ks - qs) likewise
    bottom.kBegin = std::min(bottom.kEnd, slice.kBegin + (row - slice.qBegin));
  return {top, bottom};
}

TEST(NormalizeTest, RowSplitsMergeBack) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 1500; ++trial) {
    int64_t numQ = oracle::uniform(rng, 1, 16);
    int64_t numK = oracle::uniform(rng, 1, 16);
    Slice whole = oracle::randomSlice(rng, numQ, numK);
    Mask pieces = {whole};
    for (int split = 0; split < 3; ++split) {
      size_t index = oracle::uniform(rng, 0, pieces.size() - 1);
      Slice piece = pieces[index];
      if (piece.qRange().size() < 2)
        continue;
      auto [top, bottom] = splitRows(
          piece, oracle::uniform(rng, piece.qBegin + 1, piece.qEnd - 1));
      pieces[index] = top;
      pieces.push_back(bottom);
    }
    ASSERT_EQ(oracle::coverage(pieces, numQ, numK),
              oracle::coverage({whole}, numQ, numK))
        << "bad split of " << formatSlice(whole) << ": "
        << oracle::describe(pieces);
    Mask normalized = normalize(pieces);
    expectNormalForm(pieces, normalized, numQ, numK);
    EXPECT_EQ(normalized, normalize({whole})) << oracle::describe(pieces);
    EXPECT_LE(normalized.size(), 1u);
  }
}

TEST(NormalizeTest, TightensToTheSimplestKind) {
  // Rows 0..5 attend nothing: gj <= gi - 6.
  EXPECT_EQ(normalize({makeSlice(SliceKind::Causal, 0, 10, 0, 4)}),
            (Mask{makeSlice(SliceKind::Causal, 6, 10, 0, 4)}));
  // Only row 3 attends anything, so it is a full 1 x 1 slice.
  EXPECT_EQ(normalize({makeSlice(SliceKind::Causal, 0, 4, 0, 1)}),
            (Mask{makeSlice(SliceKind::Full, 3, 4, 0, 1)}));
  EXPECT_EQ(normalize({makeSlice(SliceKind::InvCausal, 0, 6, 0, 3)}),
            (Mask{makeSlice(SliceKind::InvCausal, 0, 3, 0, 3)}));
  EXPECT_EQ(normalize({makeSlice(SliceKind::BiCausal, 2, 3, 0, 9)}),
            (Mask{makeSlice(SliceKind::Full, 2, 3, 0, 9)}));
  EXPECT_EQ(normalize({makeSlice(SliceKind::BiCausal, 0, 4, 0, 4)}),
            (Mask{makeSlice(SliceKind::BiCausal, 0, 4, 0, 4)}));
  // Nothing attended: bi_causal with Sq > Sk, and empty ranges.
  EXPECT_EQ(normalize({makeSlice(SliceKind::BiCausal, 0, 5, 0, 4),
                       makeSlice(SliceKind::Full, 3, 3, 0, 4),
                       makeSlice(SliceKind::Full, 0, 4, 2, 2)}),
            Mask{});
  EXPECT_EQ(normalize({}), Mask{});
}

TEST(NormalizeTest, MergesNeighboursThatFormOneSlice) {
  // Same q range, touching keys.
  EXPECT_EQ(normalize({makeSlice(SliceKind::Full, 0, 4, 3, 7),
                       makeSlice(SliceKind::Full, 0, 4, 0, 3)}),
            (Mask{makeSlice(SliceKind::Full, 0, 4, 0, 7)}));
  // Same k range, touching rows.
  EXPECT_EQ(normalize({makeSlice(SliceKind::Full, 0, 2, 0, 5),
                       makeSlice(SliceKind::Full, 2, 6, 0, 5)}),
            (Mask{makeSlice(SliceKind::Full, 0, 6, 0, 5)}));
  // A full block left of a causal one: row gi attends [0, gi + 5).
  EXPECT_EQ(normalize({makeSlice(SliceKind::Full, 0, 4, 0, 4),
                       makeSlice(SliceKind::Causal, 0, 4, 4, 8)}),
            (Mask{makeSlice(SliceKind::Causal, 0, 4, 0, 8)}));
  // A causal square cut into its top, its bottom-left block and bottom-right
  // triangle.
  EXPECT_EQ(normalize({makeSlice(SliceKind::Causal, 4, 8, 4, 8),
                       makeSlice(SliceKind::Causal, 0, 4, 0, 4),
                       makeSlice(SliceKind::Full, 4, 8, 0, 4)}),
            (Mask{makeSlice(SliceKind::Causal, 0, 8, 0, 8)}));
  // One-token documents form a diagonal.
  EXPECT_EQ(normalize(*varlenMask({0, 1, 2, 3}, {0, 1, 2, 3}, false)),
            (Mask{makeSlice(SliceKind::BiCausal, 0, 3, 0, 3)}));
  // Block causal: each block's two slices are one full slice.
  EXPECT_EQ(normalize(*blockCausalMask(10, 4)),
            (Mask{makeSlice(SliceKind::Full, 0, 4, 0, 4),
                  makeSlice(SliceKind::Full, 4, 8, 0, 8),
                  makeSlice(SliceKind::Full, 8, 10, 0, 10)}));
}

TEST(NormalizeTest, KeepsSlicesThatDoNotFormOneSlice) {
  // Touching rows but different keys.
  Mask steps = {makeSlice(SliceKind::Full, 2, 6, 1, 5),
                makeSlice(SliceKind::Full, 0, 2, 0, 5)};
  EXPECT_EQ(normalize(steps), (Mask{steps[1], steps[0]}));
  // A gap between the key ranges.
  Mask gap = {makeSlice(SliceKind::Full, 0, 4, 0, 3),
              makeSlice(SliceKind::Full, 0, 4, 4, 7)};
  EXPECT_EQ(normalize(gap), gap);
  // Diagonal blocks of two tokens are not one diagonal.
  Mask blocks = *varlenMask({0, 2, 4}, {0, 2, 4}, false);
  EXPECT_EQ(normalize(blocks), blocks);
}

TEST(NormalizeTest, BlockCausalIsOneFullSlicePerBlock) {
  for (int64_t numTokens = 0; numTokens <= 40; ++numTokens)
    for (int64_t blockSize = 1; blockSize <= 12; ++blockSize) {
      Mask normalized = normalize(*blockCausalMask(numTokens, blockSize));
      Mask expected;
      for (int64_t begin = 0; begin < numTokens; begin += blockSize) {
        int64_t end = std::min(begin + blockSize, numTokens);
        expected.push_back(makeSlice(SliceKind::Full, begin, end, 0, end));
      }
      // A single token per block is a causal mask.
      if (blockSize == 1 && numTokens > 1)
        expected = {makeSlice(SliceKind::Causal, 0, numTokens, 0, numTokens)};
      EXPECT_EQ(normalized, expected)
          << numTokens << " tokens, blocks of " << blockSize << ": "
          << oracle::describe(normalized);
    }
}

} // namespace

TEST(MaskTest, SameAttendedPairsIgnoresHowTheMaskIsCut) {
  Mask blocks = *blockCausalMask(300, 64);
  EXPECT_TRUE(sameAttendedPairs(blocks, normalize(blocks)));
  EXPECT_TRUE(sameAttendedPairs(causalMask(50, 50),
                                {Slice{0, 20, 0, 20, SliceKind::Causal},
                                 Slice{20, 50, 0, 50, SliceKind::Causal}}));
  EXPECT_FALSE(sameAttendedPairs(causalMask(50, 50), fullMask(50, 50)));
  // Same pair count, different pairs.
  EXPECT_FALSE(sameAttendedPairs({Slice{0, 1, 0, 2, SliceKind::Full}},
                                 {Slice{0, 1, 1, 3, SliceKind::Full}}));
}

//===----------------------------------------------------------------------===//
// Cost follows the slices, not the lengths in them. These would run for
// minutes (or exhaust memory) if any step walked rows or compared all pairs;
// ctest's timeout turns that into a failure.
//===----------------------------------------------------------------------===//

TEST(ScaleTest, HundredThousandSlicesValidateAndNormalize) {
  constexpr int64_t kSlices = 100000;
  // One row each, stacked into a causal triangle: one slice after merging.
  Mask rows, stripes, blocks;
  for (int64_t row = 0; row < kSlices; ++row)
    rows.push_back(makeSlice(SliceKind::Full, row, row + 1, 0, row + 1));
  // One key each over the same rows: side by side, one full slice.
  for (int64_t key = 0; key < kSlices; ++key)
    stripes.push_back(makeSlice(SliceKind::Full, 0, kSlices, key, key + 1));
  // Diagonal blocks that touch only at corners: nothing merges.
  for (int64_t block = 0; block < kSlices; ++block)
    blocks.push_back(makeSlice(SliceKind::Full, 2 * block, 2 * block + 2,
                               2 * block, 2 * block + 2));
  EXPECT_EQ(validate(rows, kSlices, kSlices), std::nullopt);
  EXPECT_EQ(normalize(rows),
            (Mask{makeSlice(SliceKind::Causal, 0, kSlices, 0, kSlices)}));
  EXPECT_EQ(validate(stripes, kSlices, kSlices), std::nullopt);
  EXPECT_EQ(normalize(stripes),
            (Mask{makeSlice(SliceKind::Full, 0, kSlices, 0, kSlices)}));
  EXPECT_EQ(validate(blocks, 2 * kSlices, 2 * kSlices), std::nullopt);
  EXPECT_EQ(normalize(blocks), blocks);
  // The same stripes, one of them a key too wide: found, and named.
  stripes[kSlices / 2].kEnd += 1;
  EXPECT_EQ(validate(stripes, kSlices, kSlices),
            "slices 50000 and 50001 both attend (q 0, k 50001)");
}

TEST(ScaleTest, LengthsUpToTheLimitCostNothing) {
  int64_t rows = kMaxKernelTokens, huge = kMaxIndex;
  Mask causal = causalMask(rows, rows);
  EXPECT_EQ(validate(causal, rows, rows), std::nullopt);
  EXPECT_EQ(countAttendedPairs(causal), PairCount(rows) * (rows + 1) / 2);
  EXPECT_EQ(normalize(causal), causal);
  // 2^62 x 2^62: 2^123 + 2^61 pairs, beyond int64 but exact.
  Mask vast = causalMask(huge, huge);
  EXPECT_EQ(validate(vast, huge, huge), std::nullopt);
  EXPECT_EQ(formatPairCount(countAttendedPairs(vast)),
            "10633823966279326985536299491456450560");
  EXPECT_EQ(pairCountToInt64(countAttendedPairs(vast)), std::nullopt);
  // Two thin diagonals a long way apart, crossing once near the end.
  Mask crossing = {makeSlice(SliceKind::BiCausal, 0, huge, 0, huge),
                   makeSlice(SliceKind::Full, huge - 7, huge - 6, 0, huge)};
  EXPECT_EQ(validate(crossing, huge, huge),
            "slices 0 and 1 both attend (q " + std::to_string(huge - 7) +
                ", k " + std::to_string(huge - 7) + ")");
}

TEST(ScaleTest, BoundsBeyondTheLimitAreRejected) {
  int64_t past = kMaxIndex + 1;
  EXPECT_EQ(validate({makeSlice(SliceKind::Full, 0, past, 0, 1)}, -1, -1),
            "slice 0: q range [0, " + std::to_string(past) +
                ") exceeds the largest index a mask may hold, 2^62");
  EXPECT_EQ(validate({}, past, 1),
            "query length " + std::to_string(past) +
                " exceeds the largest a mask may describe, 2^62");
  EXPECT_EQ(formatPairCount(-PairCount(12)), "-12");
  EXPECT_EQ(pairCountToInt64(PairCount(INT64_MAX)), INT64_MAX);
  EXPECT_EQ(pairCountToInt64(PairCount(INT64_MAX) + 1), std::nullopt);
}


namespace {

TEST(MaskFromRangesTest, BuildsTheSlicesInOrder) {
  int32_t q[] = {0, 4, 4, 8}, k[] = {0, 4, 0, 8}, kinds[] = {1, 0};
  std::string error;
  std::optional<Mask> mask = maskFromRanges(q, k, kinds, 2, 8, 8, &error);
  ASSERT_TRUE(mask) << error;
  ASSERT_EQ(mask->size(), 2u);
  EXPECT_EQ((*mask)[0], (Slice{0, 4, 0, 4, SliceKind::Causal}));
  EXPECT_EQ((*mask)[1], (Slice{4, 8, 0, 8, SliceKind::Full}));
  // No kinds: every slice full. No slices: the empty mask.
  mask = maskFromRanges(q, k, nullptr, 2, 8, 8, &error);
  ASSERT_TRUE(mask);
  EXPECT_EQ((*mask)[0].kind, SliceKind::Full);
  mask = maskFromRanges(nullptr, nullptr, nullptr, 0, 0, 0, &error);
  ASSERT_TRUE(mask);
  EXPECT_TRUE(mask->empty());
}

TEST(MaskFromRangesTest, NamesTheSliceAndTheValue) {
  auto problem = [](std::vector<int32_t> q, std::vector<int32_t> k,
                    std::vector<int32_t> kinds, int64_t numQ, int64_t numK) {
    std::string error;
    EXPECT_FALSE(maskFromRanges(q.data(), k.data(), kinds.data(),
                                int64_t(kinds.size()), numQ, numK, &error));
    return error;
  };
  EXPECT_EQ(problem({0, 4, 0, 9}, {0, 4, 0, 4}, {0, 0}, 8, 8),
            "slice 1: q range [0, 9) exceeds query length 8");
  EXPECT_EQ(problem({0, 4}, {5, 2}, {0}, 8, 8),
            "slice 0: k range [5, 2) is reversed");
  EXPECT_EQ(problem({-1, 4}, {0, 2}, {0}, 8, 8),
            "slice 0: q range [-1, 4) starts below 0");
  EXPECT_EQ(problem({0, 4, 0, 4}, {0, 2, 2, 4}, {3, 4}, 8, 8),
            "slice 1: kind 4 is not one of 0 (full), 1 (causal), 2 "
            "(inv_causal), 3 (bi_causal)");
  EXPECT_EQ(problem({0, 4}, {0, 2}, {-1}, 8, 8),
            "slice 0: kind -1 is not one of 0 (full), 1 (causal), 2 "
            "(inv_causal), 3 (bi_causal)");
  std::string error;
  EXPECT_FALSE(maskFromRanges(nullptr, nullptr, nullptr, -1, 8, 8, &error));
  EXPECT_EQ(error, "slice count -1 is negative");
  EXPECT_FALSE(maskFromRanges(nullptr, nullptr, nullptr, 3, 8, 8, &error));
  EXPECT_EQ(error, "q_ranges and k_ranges must be given for 3 slices");
}

/// Shared cells are legal at run time (each slice adds its own).
TEST(MaskFromRangesTest, OverlapsAreKept) {
  int32_t q[] = {0, 4, 0, 4}, k[] = {0, 4, 0, 4};
  EXPECT_TRUE(maskFromRanges(q, k, nullptr, 2, 4, 4));
}

} // namespace
