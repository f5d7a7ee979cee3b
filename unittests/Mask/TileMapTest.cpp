//===- TileMapTest.cpp - Tile classification against cell counting -------===//

#include "FlashDialect/Mask/Mask.h"
#include "SpecOracle.h"

#include <gtest/gtest.h>

using namespace fattn::mask;
namespace oracle = fattn::mask::oracle;

namespace {

/// One tile as counted cell by cell.
struct ExpectedTile {
  int64_t attended = 0;
  int64_t area = 0;
  std::vector<int32_t> slices; // ascending, those attending a cell in it

  TileKind kind() const {
    if (attended == 0)
      return TileKind::Skip;
    return attended == area ? TileKind::Full : TileKind::Partial;
  }
};

std::vector<std::vector<ExpectedTile>>
countTiles(const Mask &mask, int64_t numQ, int64_t numK, TileSizes tile,
           KeyEdge keyEdge, const std::vector<int32_t> &qTileBegins) {
  int64_t numQTiles = (int64_t)qTileBegins.size() - 1;
  int64_t numKTiles = (numK + tile.k - 1) / tile.k;
  std::vector<std::vector<ExpectedTile>> tiles(
      numQTiles, std::vector<ExpectedTile>(numKTiles));
  std::vector<int64_t> qTileOfRow(numQ);
  for (int64_t qTile = 0; qTile < numQTiles; ++qTile)
    for (int64_t row = qTileBegins[qTile]; row < qTileBegins[qTile + 1]; ++row)
      qTileOfRow[row] = qTile;
  for (int64_t gi = 0; gi < numQ; ++gi)
    for (int64_t gj = 0; gj < numK; ++gj) {
      ExpectedTile &expected = tiles[qTileOfRow[gi]][gj / tile.k];
      ++expected.area;
      for (size_t index = 0; index < mask.size(); ++index) {
        if (!oracle::attends(mask[index], gi, gj))
          continue;
        ++expected.attended;
        if (expected.slices.empty() || expected.slices.back() != (int32_t)index)
          expected.slices.push_back(index);
      }
    }
  // Whole key tiles also count the padding columns past numK, which no slice
  // attends.
  if (keyEdge == KeyEdge::Whole && numK % tile.k != 0)
    for (auto &row : tiles) {
      ExpectedTile &last = row.back();
      last.area = last.area / (numK % tile.k) * tile.k;
    }
  // Cells are visited row by row, so a tile's slices may repeat out of order.
  for (auto &row : tiles)
    for (ExpectedTile &expected : row) {
      std::sort(expected.slices.begin(), expected.slices.end());
      expected.slices.erase(
          std::unique(expected.slices.begin(), expected.slices.end()),
          expected.slices.end());
    }
  return tiles;
}

bool isCsrOffsets(const std::vector<int32_t> &offsets, size_t rows,
                  size_t entries) {
  return offsets.size() == rows + 1 && offsets.front() == 0 &&
         std::is_sorted(offsets.begin(), offsets.end()) &&
         (size_t)offsets.back() == entries;
}

/// Compares every field of `map` with cell-by-cell counting.
/// Query tile boundaries: strictly increasing from 0 to numQ, no tile longer
/// than tile.q; uniform ones every tile.q rows; slice-aligned ones at every
/// slice boundary that does not end a sliver folded into its predecessor.
void expectValidQueryTiles(const std::vector<int32_t> &begins, const Mask &mask,
                           int64_t numQ, TileSizes tile, QueryTiles queryTiles) {
  ASSERT_FALSE(begins.empty());
  EXPECT_EQ(begins.front(), 0);
  EXPECT_EQ(begins.back(), numQ);
  for (size_t i = 0; i + 1 < begins.size(); ++i) {
    EXPECT_LT(begins[i], begins[i + 1]);
    EXPECT_LE(begins[i + 1] - begins[i], tile.q);
  }
  if (queryTiles == QueryTiles::Uniform) {
    for (size_t i = 0; i + 1 < begins.size(); ++i)
      EXPECT_EQ(begins[i], (int64_t)i * tile.q);
    return;
  }
  // Inside a tile, slice boundaries may only cut off slivers: pieces between
  // consecutive boundaries (or the tile's end) shorter than tile.q / 4.
  std::vector<int64_t> cuts;
  for (const Slice &slice : mask)
    if (!slice.attendsNothing())
      for (int64_t cut : {slice.qBegin, slice.qEnd})
        cuts.push_back(std::clamp<int64_t>(cut, 0, numQ));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  for (size_t i = 0; i + 1 < begins.size(); ++i) {
    std::vector<int64_t> inner;
    for (int64_t cut : cuts)
      if (cut > begins[i] && cut < begins[i + 1])
        inner.push_back(cut);
    inner.push_back(begins[i + 1]);
    for (size_t j = 0; j + 1 < inner.size(); ++j)
      EXPECT_LT(inner[j + 1] - inner[j], (tile.q + 3) / 4)
          << "slice boundary " << inner[j] << " inside tile [" << begins[i]
          << ", " << begins[i + 1] << ")";
  }
}

void expectMatchesCells(const Mask &mask, int64_t numQ, int64_t numK,
                        TileSizes tile, KeyEdge keyEdge = KeyEdge::Clipped,
                        QueryTiles queryTiles = QueryTiles::Uniform) {
  SCOPED_TRACE(oracle::describe(mask) + " over " + std::to_string(numQ) +
               " x " + std::to_string(numK) + ", tiles " +
               std::to_string(tile.q) + " x " + std::to_string(tile.k));
  TileMap map = *classifyTiles(mask, numQ, numK, tile, keyEdge, queryTiles);
  expectValidQueryTiles(map.qTileBegins, mask, numQ, tile, queryTiles);
  if (::testing::Test::HasFatalFailure())
    return;
  std::vector<std::vector<ExpectedTile>> expected =
      countTiles(mask, numQ, numK, tile, keyEdge, map.qTileBegins);
  ASSERT_EQ(map.numQ, numQ);
  ASSERT_EQ(map.numK, numK);
  ASSERT_EQ(map.numQTiles, (int64_t)expected.size());
  ASSERT_EQ(map.qTileBegins.size(), (size_t)map.numQTiles + 1);
  ASSERT_EQ(map.numKTiles, (numK + tile.k - 1) / tile.k);
  ASSERT_TRUE(
      isCsrOffsets(map.fullOffsets, map.numQTiles, map.fullKTiles.size()));
  ASSERT_TRUE(isCsrOffsets(map.partialOffsets, map.numQTiles,
                           map.partialKTiles.size()));
  ASSERT_TRUE(isCsrOffsets(map.partialSliceOffsets, map.partialKTiles.size(),
                           map.partialSlices.size()));

  int64_t attended = 0;
  for (int64_t qTile = 0; qTile < map.numQTiles; ++qTile) {
    std::vector<int32_t> full, partial;
    std::vector<std::vector<int32_t>> partialSlices;
    for (int64_t kTile = 0; kTile < map.numKTiles; ++kTile) {
      const ExpectedTile &tileCells = expected[qTile][kTile];
      attended += tileCells.attended;
      EXPECT_EQ(map.kindOf(qTile, kTile), tileCells.kind())
          << "tile (" << qTile << ", " << kTile << ")";
      if (tileCells.kind() == TileKind::Full)
        full.push_back(kTile);
      if (tileCells.kind() == TileKind::Partial) {
        partial.push_back(kTile);
        partialSlices.push_back(tileCells.slices);
      }
    }
    EXPECT_EQ(std::vector<int32_t>(
                  map.fullKTiles.begin() + map.fullOffsets[qTile],
                  map.fullKTiles.begin() + map.fullOffsets[qTile + 1]),
              full)
        << "q tile " << qTile;
    ASSERT_EQ(std::vector<int32_t>(
                  map.partialKTiles.begin() + map.partialOffsets[qTile],
                  map.partialKTiles.begin() + map.partialOffsets[qTile + 1]),
              partial)
        << "q tile " << qTile;
    for (size_t n = 0; n < partial.size(); ++n) {
      size_t p = map.partialOffsets[qTile] + n;
      EXPECT_EQ(std::vector<int32_t>(
                    map.partialSlices.begin() + map.partialSliceOffsets[p],
                    map.partialSlices.begin() + map.partialSliceOffsets[p + 1]),
                partialSlices[n])
          << "tile (" << qTile << ", " << partial[n] << ")";
    }
  }
  EXPECT_EQ(attended, countAttendedPairs(mask));
}

TEST(TileMapTest, RandomMasksMatchCellCounting) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 3000; ++trial) {
    // Mostly small, sometimes empty, sometimes a few tiles across.
    int64_t numQ = oracle::uniform(rng, 0, trial % 10 == 0 ? 3 : 48);
    int64_t numK = oracle::uniform(rng, 0, trial % 10 == 1 ? 3 : 48);
    TileSizes tile{oracle::uniform(rng, 1, 17), oracle::uniform(rng, 1, 17)};
    Mask mask = oracle::randomValidMask(rng, numQ, numK, 10);
    expectMatchesCells(mask, numQ, numK, tile);
    if (HasFatalFailure())
      return;
  }
}

TEST(TileMapTest, BuilderMasksMatchCellCounting) {
  for (TileSizes tile :
       {TileSizes{16, 16}, TileSizes{8, 24}, TileSizes{7, 5}}) {
    expectMatchesCells(causalMask(100, 100), 100, 100, tile);
    expectMatchesCells(causalMask(60, 130), 60, 130, tile);
    expectMatchesCells(causalMask(130, 60), 130, 60, tile);
    expectMatchesCells(*slidingWindowMask(90, 120, 17, 3), 90, 120, tile);
    expectMatchesCells(*varlenMask({0, 13, 13, 50, 97}, {0, 20, 31, 31, 88},
                                   /*causal=*/true),
                       97, 88, tile);
    expectMatchesCells(*blockCausalMask(77, 10), 77, 77, tile);
    expectMatchesCells(*sharedQuestionMask(21, {9, 0, 30, 5}), 65, 65, tile);
  }
}

TEST(TileMapTest, CausalSquare) {
  TileMap map = *classifyTiles(causalMask(128, 128), 128, 128, {64, 64});
  EXPECT_EQ(map.numQTiles, 2);
  EXPECT_EQ(map.numKTiles, 2);
  EXPECT_EQ(map.kindOf(0, 0), TileKind::Partial);
  EXPECT_EQ(map.kindOf(0, 1), TileKind::Skip);
  EXPECT_EQ(map.kindOf(1, 0), TileKind::Full);
  EXPECT_EQ(map.kindOf(1, 1), TileKind::Partial);
  EXPECT_EQ(map.fullOffsets, (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(map.fullKTiles, (std::vector<int32_t>{0}));
  EXPECT_EQ(map.partialOffsets, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(map.partialKTiles, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(map.partialSliceOffsets, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(map.partialSlices, (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(map.numFullTiles(), 1);
  EXPECT_EQ(map.numPartialTiles(), 2);
  // Outside the grid nothing is visited.
  EXPECT_EQ(map.kindOf(-1, 0), TileKind::Skip);
  EXPECT_EQ(map.kindOf(2, 0), TileKind::Skip);
  EXPECT_EQ(map.kindOf(1, 2), TileKind::Skip);
}

TEST(TileMapTest, EdgeTilesAreClipped) {
  // 70 x 70 full: the edge tiles are 6 wide and still Full.
  TileMap map = *classifyTiles(fullMask(70, 70), 70, 70, {64, 64});
  for (int64_t qTile = 0; qTile < 2; ++qTile)
    for (int64_t kTile = 0; kTile < 2; ++kTile)
      EXPECT_EQ(map.kindOf(qTile, kTile), TileKind::Full);
  EXPECT_EQ(map.numPartialTiles(), 0);
}

TEST(TileMapTest, WholeKeyTilesCrossingTheEndArePartial) {
  // 70 x 70 full in whole 64 x 64 tiles: key tile 1 holds 58 padding
  // columns, so it needs the mask.
  TileMap map =
      *classifyTiles(fullMask(70, 70), 70, 70, {64, 64}, KeyEdge::Whole);
  for (int64_t qTile = 0; qTile < 2; ++qTile) {
    EXPECT_EQ(map.kindOf(qTile, 0), TileKind::Full);
    EXPECT_EQ(map.kindOf(qTile, 1), TileKind::Partial);
  }
  // Lengths that are multiples of the tile are unaffected.
  TileMap aligned =
      *classifyTiles(fullMask(128, 128), 128, 128, {64, 64}, KeyEdge::Whole);
  EXPECT_EQ(aligned.numPartialTiles(), 0);
}

TEST(TileMapTest, RandomMasksMatchCellCountingWholeKeyTiles) {
  std::mt19937_64 rng(7071);
  for (int trial = 0; trial < 500; ++trial) {
    int64_t numQ = 1 + (int64_t)(rng() % 90), numK = 1 + (int64_t)(rng() % 90);
    TileSizes tile{1 + (int64_t)(rng() % 33), 1 + (int64_t)(rng() % 33)};
    Mask mask = oracle::randomValidMask(rng, numQ, numK, 1 + trial % 6);
    expectMatchesCells(mask, numQ, numK, tile, KeyEdge::Whole);
    if (HasFatalFailure())
      return;
  }
}

TEST(TileMapTest, RandomMasksMatchCellCountingSliceAlignedQueryTiles) {
  std::mt19937_64 rng(9091);
  for (int trial = 0; trial < 800; ++trial) {
    int64_t numQ = 1 + (int64_t)(rng() % 90), numK = 1 + (int64_t)(rng() % 90);
    TileSizes tile{1 + (int64_t)(rng() % 33), 1 + (int64_t)(rng() % 33)};
    Mask mask = oracle::randomValidMask(rng, numQ, numK, 1 + trial % 6);
    expectMatchesCells(mask, numQ, numK, tile,
                       trial % 2 ? KeyEdge::Whole : KeyEdge::Clipped,
                       QueryTiles::SliceAligned);
    if (HasFatalFailure())
      return;
  }
}

TEST(TileMapTest, SliceAlignedTilesFollowDocuments) {
  // Documents of 300, 40 and 200 rows in tiles of 128: every document starts
  // a tile, and the 44-row tail of the first one stays its own tile.
  Mask mask = *varlenMask({0, 300, 340, 540}, {0, 300, 340, 540}, true);
  TileMap map = *classifyTiles(mask, 540, 540, {128, 64}, KeyEdge::Whole,
                              QueryTiles::SliceAligned);
  EXPECT_EQ(map.qTileBegins,
            (std::vector<int32_t>{0, 128, 256, 300, 340, 468, 540}));
  // Within one document no query tile visits another document's keys.
  EXPECT_EQ(map.kindOf(3, 0), TileKind::Skip); // rows 300..339, keys 0..63
  EXPECT_EQ(map.kindOf(0, 2), TileKind::Skip); // rows 0..127, keys 128..191
}

TEST(TileMapTest, DegenerateShapesGiveEmptyMaps) {
  auto expectEmpty = [](const TileMap &map, int64_t numQTiles) {
    EXPECT_EQ(map.numQTiles, numQTiles);
    EXPECT_EQ(map.fullOffsets, std::vector<int32_t>(numQTiles + 1, 0));
    EXPECT_EQ(map.partialOffsets, std::vector<int32_t>(numQTiles + 1, 0));
    EXPECT_EQ(map.partialSliceOffsets, (std::vector<int32_t>{0}));
    EXPECT_TRUE(map.fullKTiles.empty());
    EXPECT_TRUE(map.partialKTiles.empty());
    EXPECT_TRUE(map.partialSlices.empty());
    EXPECT_EQ(map.kindOf(0, 0), TileKind::Skip);
  };
  Mask mask = fullMask(10, 10);
  EXPECT_FALSE(classifyTiles(mask, 10, 10, {0, 64}));
  EXPECT_FALSE(classifyTiles(mask, 10, 10, {64, 0}));
  EXPECT_FALSE(classifyTiles(mask, 10, 10, {-3, -3}));
  expectEmpty(*classifyTiles({}, 0, 10, {4, 4}), 0);
  TileMap noKeys = *classifyTiles({}, 10, 0, {4, 4});
  expectEmpty(noKeys, 3);
  EXPECT_EQ(noKeys.numKTiles, 0);
  expectEmpty(*classifyTiles({}, 10, 10, {4, 4}), 3);
  EXPECT_EQ(TileMap{}.kindOf(0, 0), TileKind::Skip);
}

TEST(TileMapTest, SlicesPastTheBoundsNeverIndexOutside) {
  // Not a valid mask; classifyTiles rejects nothing but must stay in bounds.
  Mask mask = {Slice{-5, 200, -7, 300, SliceKind::Full},
               Slice{3, 9, 40, 50, SliceKind::Causal}};
  TileMap map = *classifyTiles(mask, 10, 12, {4, 4});
  EXPECT_EQ(map.numQTiles, 3);
  EXPECT_EQ(map.numFullTiles(), 9);
}

TEST(TileMapTest, LargeMaskIsLinearInRows) {
  // 64k x 64k cells would take seconds cell by cell.
  int64_t length = 1 << 16;
  TileMap map = *classifyTiles(*slidingWindowMask(length, length, 1000, 0),
                              length, length, {128, 128});
  EXPECT_EQ(map.numQTiles, 512);
  // Each query tile sees its diagonal tile partially, the window's lower
  // edge in at most two partial tiles (it moves 128 keys over the tile's
  // rows), and full tiles in between.
  EXPECT_EQ(map.kindOf(511, 511), TileKind::Partial);
  EXPECT_EQ(map.kindOf(511, 510), TileKind::Full);
  EXPECT_EQ(map.kindOf(511, 500), TileKind::Skip);
  EXPECT_LE(map.numPartialTiles(), 3 * 512);
  EXPECT_GE(map.numFullTiles(), 6 * 500);
}

} // namespace

TEST(TileMapTest, CostFollowsTheTilesProducedNotTheLengths) {
  // 16 queries against 2^31 - 1 keys: 2^27 key tiles of 16, all full, more
  // than a map may hold; refused before a single tile is written.
  int64_t keys = kMaxKernelTokens;
  EXPECT_FALSE(classifyTiles(fullMask(16, keys), 16, keys, {16, 16}));
  // The same keys under a window: a handful of tiles, and no memory per key
  // tile.
  Mask window = *slidingWindowMask(64, keys, 100, 0);
  std::optional<TileMap> map = classifyTiles(window, 64, keys, {64, 64});
  ASSERT_TRUE(map);
  EXPECT_EQ(map->numKTiles, (keys + 63) / 64);
  EXPECT_EQ(map->numFullTiles() + map->numPartialTiles(), 3);
  // Lengths past what int32 tables index are refused, with the reason.
  EXPECT_FALSE(classifyTiles(fullMask(4, kMaxIndex), 4, kMaxIndex, {64, 64}));
  EXPECT_EQ(checkTileMapShape(4, kMaxKernelTokens + 1, {64, 64}),
            "key length 2147483648 exceeds 2147483647 (2^31 - 1), the most "
            "tokens tile tables index");
  EXPECT_EQ(checkTileMapShape(4, 4, {0, 64}),
            "tile sizes must be in [1, 2^31 - 1], got 0 x 64");
  // A small cap is honoured exactly.
  Mask causal = causalMask(256, 256);
  EXPECT_TRUE(classifyTiles(causal, 256, 256, {64, 64}, KeyEdge::Clipped,
                            QueryTiles::Uniform, /*maxEntries=*/10));
  EXPECT_FALSE(classifyTiles(causal, 256, 256, {64, 64}, KeyEdge::Clipped,
                             QueryTiles::Uniform, /*maxEntries=*/9));
}
