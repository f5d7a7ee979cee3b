//===- ScheduleTest.cpp - The work schedule against cell counting ---------===//

#include "FlashDialect/Mask/Schedule.h"
#include "SpecOracle.h"

#include <gtest/gtest.h>

#include <map>

using namespace fattn::mask;
namespace oracle = fattn::mask::oracle;

namespace {

/// One slice's cells in each (query tile, key tile), counted cell by cell
/// over the slice's own rectangle.
std::map<std::pair<int64_t, int64_t>, int64_t>
cellsPerTile(const Slice &slice, const std::vector<int32_t> &qTileBegins,
             int64_t numK, int64_t tileK) {
  std::map<std::pair<int64_t, int64_t>, int64_t> cells;
  int64_t qTile = 0;
  for (int64_t gi = std::max<int64_t>(slice.qBegin, 0);
       gi < std::min<int64_t>(slice.qEnd, qTileBegins.back()); ++gi) {
    while (qTileBegins[qTile + 1] <= gi)
      ++qTile;
    for (int64_t gj = std::max<int64_t>(slice.kBegin, 0);
         gj < std::min(slice.kEnd, numK); ++gj)
      if (oracle::attends(slice, gi, gj))
        ++cells[{qTile, gj / tileK}];
  }
  return cells;
}

/// Every field of the schedule of `mask`, checked against cell counting.
void expectMatchesCells(const Mask &mask, int64_t numQ, int64_t numK,
                        TileSizes tile, KeyEdge keyEdge,
                        QueryTiles queryTiles) {
  SCOPED_TRACE((mask.size() <= 8 ? oracle::describe(mask)
                                 : std::to_string(mask.size()) + " slices") +
               " over " + std::to_string(numQ) + " x " + std::to_string(numK) +
               ", tiles " + std::to_string(tile.q) + " x " +
               std::to_string(tile.k));
  std::optional<WorkSchedule> built =
      buildWorkSchedule(mask, numQ, numK, tile, keyEdge, queryTiles);
  ASSERT_TRUE(built);
  const WorkSchedule &schedule = *built;
  // The same query tiles as the tile map.
  ASSERT_EQ(schedule.qTileBegins,
            classifyTiles(mask, numQ, numK, tile, keyEdge, queryTiles)
                ->qTileBegins);
  ASSERT_EQ(schedule.numQTiles + 1, (int64_t)schedule.qTileBegins.size());
  ASSERT_EQ(schedule.numKTiles, (numK + tile.k - 1) / tile.k);
  ASSERT_EQ(schedule.itemOffsets.size(), schedule.qTileBegins.size());
  ASSERT_EQ(schedule.itemOffsets.front(), 0);
  ASSERT_TRUE(std::is_sorted(schedule.itemOffsets.begin(),
                             schedule.itemOffsets.end()));
  ASSERT_EQ((size_t)schedule.itemOffsets.back(), schedule.items.size());
  ASSERT_EQ(schedule.visitOffsets.size(), schedule.items.size() + 1);
  ASSERT_EQ(schedule.visitOffsets.front(), 0);

  // Expected items, (query tile, slice) -> item, from the cells.
  std::map<std::pair<int64_t, int32_t>, WorkItem> expected;
  for (size_t index = 0; index < mask.size(); ++index) {
    const Slice &slice = mask[index];
    std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> byQTile;
    for (auto [tiles, cells] :
         cellsPerTile(slice, schedule.qTileBegins, numK, tile.k))
      byQTile[tiles.first].emplace_back(tiles.second, cells);
    for (auto &[qTile, kTiles] : byQTile) {
      int64_t rows = schedule.qTileBegins[qTile + 1] - schedule.qTileBegins[qTile];
      WorkItem item;
      item.slice = index;
      item.kTileBegin = kTiles.front().first;
      item.kTileEnd = kTiles.back().first + 1;
      // Touched key tiles form one run.
      ASSERT_EQ((int64_t)kTiles.size(), item.visits())
          << "slice " << index << " query tile " << qTile;
      std::vector<int64_t> full;
      for (auto [kTile, cells] : kTiles) {
        int64_t width = keyEdge == KeyEdge::Whole
                            ? tile.k
                            : std::min(numK, (kTile + 1) * tile.k) - kTile * tile.k;
        if (cells == rows * width)
          full.push_back(kTile);
      }
      item.fullBegin = item.fullEnd = item.kTileBegin;
      if (!full.empty()) {
        ASSERT_EQ((int64_t)full.size(), full.back() - full.front() + 1);
        item.fullBegin = full.front();
        item.fullEnd = full.back() + 1;
      }
      expected[{qTile, (int32_t)index}] = item;
    }
  }

  size_t found = 0;
  for (int64_t qTile = 0; qTile < schedule.numQTiles; ++qTile) {
    int32_t previousSlice = -1;
    for (int32_t i = schedule.itemOffsets[qTile];
         i < schedule.itemOffsets[qTile + 1]; ++i) {
      const WorkItem &item = schedule.items[i];
      EXPECT_GT(item.slice, previousSlice) << "items in mask order";
      previousSlice = item.slice;
      auto it = expected.find({qTile, item.slice});
      ASSERT_NE(it, expected.end())
          << "query tile " << qTile << " lists slice " << item.slice
          << ", which attends no cell of it";
      EXPECT_EQ(item, it->second)
          << "query tile " << qTile << " slice " << item.slice << ": got ["
          << item.kTileBegin << ", " << item.fullBegin << ", " << item.fullEnd
          << ", " << item.kTileEnd << "), expected [" << it->second.kTileBegin
          << ", " << it->second.fullBegin << ", " << it->second.fullEnd << ", "
          << it->second.kTileEnd << ")";
      EXPECT_EQ(schedule.visitOffsets[i + 1] - schedule.visitOffsets[i],
                item.visits());
      ++found;
    }
  }
  EXPECT_EQ(found, expected.size()) << "items missing";
}

TEST(ScheduleTest, RandomMasksMatchCellCounting) {
  std::mt19937_64 rng(2026);
  for (int trial = 0; trial < 3000; ++trial) {
    int64_t numQ = oracle::uniform(rng, 0, 150);
    int64_t numK = oracle::uniform(rng, 0, 150);
    TileSizes tile{oracle::uniform(rng, 1, 40), oracle::uniform(rng, 1, 40)};
    Mask mask;
    // Overlapping slices are allowed: each item is about its slice alone.
    for (int64_t s = oracle::uniform(rng, 0, 8); s > 0; --s)
      mask.push_back(oracle::randomSlice(rng, numQ, numK));
    expectMatchesCells(mask, numQ, numK, tile,
                       trial % 2 ? KeyEdge::Whole : KeyEdge::Clipped,
                       trial % 3 ? QueryTiles::SliceAligned
                                 : QueryTiles::Uniform);
    if (HasFailure())
      return;
  }
}

/// Per original slice, its transposed pieces attend exactly its cells with
/// rows and columns exchanged, over disjoint rows, in standard kinds.
TEST(ScheduleTest, TransposedMasksAttendTheTransposedCells) {
  std::mt19937_64 rng(4242);
  for (int trial = 0; trial < 4000; ++trial) {
    int64_t numQ = oracle::uniform(rng, 0, 40);
    int64_t numK = oracle::uniform(rng, 0, 40);
    Mask mask;
    for (int64_t s = oracle::uniform(rng, 0, 5); s > 0; --s)
      mask.push_back(oracle::randomSlice(rng, numQ, numK));
    TransposedMask transposed = transposeMask(mask);
    ASSERT_EQ(transposed.slices.size(), transposed.origins.size());
    SCOPED_TRACE(oracle::describe(mask) + " over " + std::to_string(numQ) +
                 " x " + std::to_string(numK) + " -> " +
                 oracle::describe(transposed.slices));
    for (size_t index = 0; index < mask.size(); ++index) {
      Mask pieces;
      for (size_t p = 0; p < transposed.slices.size(); ++p)
        if (transposed.origins[p] == int32_t(index))
          pieces.push_back(transposed.slices[p]);
      ASSERT_LE(pieces.size(), 3u);
      std::vector<int> original = oracle::coverage({mask[index]}, numQ, numK);
      std::vector<int> back = oracle::coverage(pieces, numK, numQ);
      for (int64_t i = 0; i < numQ; ++i)
        for (int64_t j = 0; j < numK; ++j)
          ASSERT_EQ(back[j * numQ + i], original[i * numK + j])
              << "slice " << index << " cell (" << i << ", " << j << ")";
      // Non-empty pieces over disjoint rows.
      for (size_t a = 0; a < pieces.size(); ++a) {
        EXPECT_GT(oracle::countCells(pieces[a]), 0);
        for (size_t b = a + 1; b < pieces.size(); ++b)
          EXPECT_TRUE(pieces[a].qEnd <= pieces[b].qBegin ||
                      pieces[b].qEnd <= pieces[a].qBegin);
      }
    }
    if (HasFailure())
      return;
  }
}

/// The key-major schedule is the forward's schedule of the transposed mask:
/// checked against cell counting by the forward's own oracle, with the
/// key tiles as its rows.
TEST(ScheduleTest, KeyMajorScheduleMatchesTransposedCells) {
  std::mt19937_64 rng(909);
  for (int trial = 0; trial < 1500; ++trial) {
    int64_t numQ = oracle::uniform(rng, 1, 150);
    int64_t numK = oracle::uniform(rng, 1, 150);
    TileSizes tile{oracle::uniform(rng, 1, 40), oracle::uniform(rng, 1, 40)};
    Mask mask;
    for (int64_t s = oracle::uniform(rng, 0, 8); s > 0; --s)
      mask.push_back(oracle::randomSlice(rng, numQ, numK));
    TransposedMask transposed = transposeMask(mask);
    std::optional<WorkSchedule> keyMajor =
        buildKeyMajorSchedule(transposed, numQ, numK, tile);
    ASSERT_TRUE(keyMajor);
    // It is the forward's schedule of the transposed slices, with the
    // backward's policies (clipped edge, uniform tiles), which the cell
    // oracle checks.
    std::optional<WorkSchedule> forward =
        buildWorkSchedule(transposed.slices, numK, numQ, {tile.k, tile.q},
                          KeyEdge::Clipped, QueryTiles::Uniform);
    ASSERT_TRUE(forward);
    EXPECT_EQ(keyMajor->numQ, numK);
    EXPECT_EQ(keyMajor->tile.q, tile.k);
    EXPECT_EQ(keyMajor->keyEdge, KeyEdge::Clipped);
    EXPECT_EQ(keyMajor->qTileBegins, forward->qTileBegins);
    EXPECT_EQ(keyMajor->itemOffsets, forward->itemOffsets);
    EXPECT_EQ(keyMajor->items, forward->items);
    EXPECT_EQ(keyMajor->visitOffsets, forward->visitOffsets);
    expectMatchesCells(transposed.slices, numK, numQ, {tile.k, tile.q},
                       KeyEdge::Clipped, QueryTiles::Uniform);
    if (HasFailure())
      return;
  }
  // Causal at S = 1M: the backward's tables stay as small as the forward's.
  TransposedMask causal = transposeMask(causalMask(1 << 20, 1 << 20));
  ASSERT_EQ(causal.slices.size(), 1u);
  EXPECT_EQ(causal.slices[0].kind, SliceKind::InvCausal);
  std::optional<WorkSchedule> big =
      buildKeyMajorSchedule(causal, 1 << 20, 1 << 20, {128, 128});
  ASSERT_TRUE(big);
  EXPECT_EQ(big->items.size(), size_t(1 << 13));
}

/// S far above the tile sizes and thousands of small slices, most rows
/// covered by several (overlapping q ranges, ragged tiles).
TEST(ScheduleTest, ThousandsOfSlicesOverLongSequences) {
  std::mt19937_64 rng(77);
  for (int trial = 0; trial < 12; ++trial) {
    int64_t numQ = oracle::uniform(rng, 4000, 40000);
    int64_t numK = oracle::uniform(rng, 4000, 40000);
    Mask mask;
    for (int64_t s = oracle::uniform(rng, 1000, 3000); s > 0; --s) {
      Slice slice;
      slice.qBegin = oracle::uniform(rng, 0, numQ - 1);
      slice.qEnd = std::min(numQ, slice.qBegin + oracle::uniform(rng, 1, 300));
      slice.kBegin = oracle::uniform(rng, 0, numK - 1);
      slice.kEnd = std::min(numK, slice.kBegin + oracle::uniform(rng, 1, 400));
      slice.kind = static_cast<SliceKind>(oracle::uniform(rng, 0, 3));
      mask.push_back(slice);
    }
    TileSizes tile{trial % 2 ? 128 : 64, trial % 3 ? 128 : 96};
    expectMatchesCells(mask, numQ, numK, tile,
                       trial % 2 ? KeyEdge::Whole : KeyEdge::Clipped,
                       trial % 4 ? QueryTiles::SliceAligned
                                 : QueryTiles::Uniform);
    if (HasFailure())
      return;
  }
}

TEST(ScheduleTest, VisitsEnumerateEachTileOnceFullFirst) {
  HostRowKeys host;
  for (int32_t begin = 0; begin < 6; ++begin)
    for (int32_t fullBegin = begin; fullBegin < 9; ++fullBegin)
      for (int32_t fullEnd = fullBegin; fullEnd < 11; ++fullEnd)
        for (int32_t end = fullEnd; end < 13; ++end) {
          if (fullBegin == fullEnd && fullBegin != begin)
            continue; // no full run: both sit at kTileBegin
          std::vector<int32_t> tiles;
          bool sawPartial = false;
          for (int32_t visit = 0; visit < end - begin; ++visit) {
            ItemVisit<int32_t, bool> v =
                itemVisit(host, visit, begin, fullBegin, fullEnd);
            EXPECT_EQ(v.full, v.kTile >= fullBegin && v.kTile < fullEnd);
            EXPECT_FALSE(v.full && sawPartial) << "full tiles come first";
            sawPartial |= !v.full;
            tiles.push_back(v.kTile);
          }
          std::sort(tiles.begin(), tiles.end());
          std::vector<int32_t> all(end - begin);
          std::iota(all.begin(), all.end(), begin);
          EXPECT_EQ(tiles, all) << begin << " " << fullBegin << " "
                                << fullEnd << " " << end;
        }
}

TEST(ScheduleTest, CausalGrowsWithTilesNotVisits) {
  // S = 1M causal at 128 x 128: 8192 query tiles, one item each, 33.5M
  // visits described by 8192 items.
  int64_t s = int64_t(1) << 20;
  std::optional<WorkSchedule> schedule =
      buildWorkSchedule(causalMask(s, s), s, s, {128, 128}, KeyEdge::Whole,
                        QueryTiles::SliceAligned);
  ASSERT_TRUE(schedule);
  EXPECT_EQ(schedule->numQTiles, 8192);
  EXPECT_EQ(schedule->items.size(), 8192u);
  EXPECT_EQ(schedule->numVisits(), int64_t(8192) * 8193 / 2);
  // Under 1% of Q's memory even for one head of dimension 64 in bf16.
  EXPECT_LT(schedule->tableBytes(), s * 64 * 2 / 100);
  const WorkItem &last = schedule->items.back();
  EXPECT_EQ(last.kTileBegin, 0);
  EXPECT_EQ(last.fullBegin, 0);
  EXPECT_EQ(last.fullEnd, 8191);
  EXPECT_EQ(last.kTileEnd, 8192);
}

TEST(ScheduleTest, LongestFirstOrderIsStable) {
  std::optional<WorkSchedule> schedule = buildWorkSchedule(
      causalMask(300, 300), 300, 300, {100, 100}, KeyEdge::Whole);
  ASSERT_TRUE(schedule);
  EXPECT_EQ(longestFirstOrder(*schedule), (std::vector<int32_t>{2, 1, 0}));
  schedule = buildWorkSchedule(fullMask(300, 300), 300, 300, {100, 100});
  EXPECT_EQ(longestFirstOrder(*schedule), (std::vector<int32_t>{0, 1, 2}));
}

TEST(ScheduleTest, LimitsAreRefused) {
  EXPECT_FALSE(buildWorkSchedule(fullMask(10, 10), 10, 10, {0, 4}));
  EXPECT_FALSE(buildWorkSchedule(fullMask(10, 10), -1, 10, {4, 4}));
  // 2^31 visits do not fit the int32 visit offsets.
  int64_t s = int64_t(1) << 22;
  EXPECT_FALSE(buildWorkSchedule(fullMask(s, s), s, s, {64, 64}));
  // More items than allowed.
  EXPECT_FALSE(buildWorkSchedule(fullMask(1000, 10), 1000, 10, {1, 1},
                                 KeyEdge::Clipped, QueryTiles::Uniform, 100));
}

TEST(ScheduleTest, EmptyMasksAndLengths) {
  for (auto [q, k] : {std::pair{0, 0}, {0, 50}, {50, 0}, {50, 50}}) {
    std::optional<WorkSchedule> schedule =
        buildWorkSchedule({}, q, k, {16, 16}, KeyEdge::Whole,
                          QueryTiles::SliceAligned);
    ASSERT_TRUE(schedule);
    EXPECT_TRUE(schedule->items.empty());
    EXPECT_EQ(schedule->numVisits(), 0);
    EXPECT_EQ(schedule->itemOffsets.size(), schedule->qTileBegins.size());
  }
}

} // namespace

namespace {

/// Every index a kernel reads through the records stays inside them: slot
/// item ranges inside the items, key tiles inside the keys, visits
/// consistent, slices inside the mask.
void expectRecordsInBounds(const Mask &mask, const WorkSchedule &schedule) {
  using T = KernelScheduleTables;
  KernelScheduleTables tables = kernelScheduleTables(schedule);
  int64_t items = int64_t(tables.items.size()) / T::kItemFields;
  ASSERT_EQ(int64_t(tables.slots.size()), schedule.numQTiles * T::kSlotFields);
  ASSERT_EQ(int64_t(tables.itemSlices.size()), items);
  int64_t maxItems = 0;
  for (int64_t slot = 0; slot < schedule.numQTiles; ++slot) {
    const int32_t *s = &tables.slots[slot * T::kSlotFields];
    ASSERT_LE(0, s[T::FirstRow]);
    ASSERT_LT(s[T::FirstRow], s[T::RowEnd]);
    ASSERT_LE(s[T::RowEnd], schedule.numQ);
    ASSERT_LE(0, s[T::ItemsBegin]);
    ASSERT_LE(s[T::ItemsBegin], s[T::ItemsEnd]);
    ASSERT_LE(s[T::ItemsEnd], items);
    maxItems = std::max<int64_t>(maxItems, s[T::ItemsEnd] - s[T::ItemsBegin]);
    int64_t visits = 0;
    for (int32_t i = s[T::ItemsBegin]; i < s[T::ItemsEnd]; ++i) {
      const int32_t *item = &tables.items[i * T::kItemFields];
      ASSERT_EQ(item[T::VisitBegin], visits) << "slot " << slot;
      ASSERT_LE(0, item[T::KTileBegin]);
      ASSERT_LE(item[T::KTileBegin], item[T::FullBegin]);
      ASSERT_LE(item[T::FullBegin], item[T::FullEnd]);
      ASSERT_LE(0, tables.itemSlices[i]);
      ASSERT_LT(tables.itemSlices[i], int64_t(mask.size()));
      const WorkItem &planned = schedule.items[i];
      ASSERT_LE(item[T::FullEnd], planned.kTileEnd);
      ASSERT_LE(planned.kTileEnd, schedule.numKTiles);
      visits += planned.visits();
    }
    ASSERT_EQ(s[T::Visits], visits);
  }
  EXPECT_EQ(tables.maxItemsPerTile, maxItems);
}

TEST(ScheduleTest, AdversarialRunTimeRangesPlanInBounds) {
  std::vector<std::pair<std::string, Mask>> masks;
  // 100,000 one-token slices on the diagonal.
  Mask diagonal;
  for (int64_t i = 0; i < 100000; ++i)
    diagonal.push_back({i, i + 1, i, i + 1, SliceKind::Full});
  masks.emplace_back("100000 slices", diagonal);
  // One row covered by 1,000 slices, each one key wide.
  Mask crowded;
  for (int64_t j = 0; j < 1000; ++j)
    crowded.push_back({77, 78, j, j + 1, SliceKind(j % kNumSliceKinds)});
  masks.emplace_back("a row under 1000 slices", crowded);
  // Overlapping run-time slices (legal at run time), a length-1 slice, and
  // lengths no tile divides.
  masks.emplace_back("overlaps", Mask{{0, 99991, 0, 99991, SliceKind::Causal},
                                      {0, 99991, 0, 99991, SliceKind::Full},
                                      {5, 6, 7, 8, SliceKind::BiCausal}});
  masks.emplace_back("empty", Mask{});
  for (auto &[name, mask] : masks) {
    SCOPED_TRACE(name);
    for (KeyEdge edge : {KeyEdge::Clipped, KeyEdge::Whole}) {
      std::optional<WorkSchedule> schedule = buildWorkSchedule(
          mask, 100000, 100000, {128, 64}, edge, QueryTiles::SliceAligned);
      ASSERT_TRUE(schedule);
      expectRecordsInBounds(mask, *schedule);
    }
  }
  std::optional<WorkSchedule> crowdedSchedule = buildWorkSchedule(
      crowded, 100000, 100000, {128, 64}, KeyEdge::Whole,
      QueryTiles::SliceAligned);
  EXPECT_EQ(kernelScheduleTables(*crowdedSchedule).maxItemsPerTile, 1000);
}

} // namespace
