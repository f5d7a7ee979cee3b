//===- RuntimeScheduleTest.cpp - A run-time mask planned for its kernel ---===//
//
// The host half of a run-time launch against what the kernel relies on:
// every query row in exactly one launch slot, each slot's items naming
// slices that attend its rows and covering every attended cell of them,
// 16-byte aligned tables, and each refusal naming its reason. The cells are
// recounted from the tables alone and compared with the mask's own
// definition (Slice::keysOfRow), not with the mask library's schedule code.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Runtime/RuntimeSchedule.h"

#include "FlashDialect/Mask/Schedule.h"

#include <gtest/gtest.h>

#include <random>

namespace {

using namespace fattn;
using namespace fattn::runtime;
using mask::Slice;
using mask::SliceKind;
using Tables = mask::KernelScheduleTables;

RuntimeSchedule gpuSchedule(int64_t maxItems = 64) {
  return {128, 64, mask::KeyEdge::Whole, mask::QueryTiles::SliceAligned,
          maxItems};
}

/// Attended (row, key) cells as the plan's tables give them: for each slot
/// and row, the keys of each item's slice in the item's key tiles. Cells
/// of overlapping slices count once per slice.
std::vector<int64_t> cellsFromPlan(const PlannedSchedule &plan,
                                   int64_t blockK) {
  std::vector<int64_t> counts(size_t(plan.numQ * plan.numK), 0);
  const int32_t *t = plan.tables.data();
  for (int64_t slot = 0; slot < plan.numSlots; ++slot) {
    const int32_t *record = t + plan.slots + slot * Tables::kSlotFields;
    for (int32_t i = record[Tables::ItemsBegin]; i < record[Tables::ItemsEnd];
         ++i) {
      const int32_t *item = t + plan.items + size_t(i) * Tables::kItemFields;
      const int32_t *s = t + plan.slices +
                         size_t(t[plan.itemSlices + i]) * mask::kSliceFields;
      Slice slice{s[0], s[1], s[2], s[3], static_cast<SliceKind>(s[4])};
      // The item's key tiles start at KTileBegin; they end where the next
      // item's visits (or the slot's) begin.
      int32_t visits = (i + 1 < record[Tables::ItemsEnd]
                            ? t[plan.items + size_t(i + 1) * Tables::kItemFields]
                            : record[Tables::Visits]) -
                       item[Tables::VisitBegin];
      int64_t keyBegin = int64_t(item[Tables::KTileBegin]) * blockK;
      int64_t keyEnd = std::min(plan.numK, keyBegin + visits * blockK);
      for (int64_t row = record[Tables::FirstRow];
           row < record[Tables::RowEnd]; ++row) {
        mask::Range keys = slice.keysOfRow(row);
        for (int64_t key = std::max(keys.begin, keyBegin);
             key < std::min(keys.end, keyEnd); ++key)
          ++counts[size_t(row * plan.numK + key)];
      }
    }
  }
  return counts;
}

std::vector<int64_t> cellsOfMask(const mask::Mask &m, int64_t numQ,
                                 int64_t numK) {
  std::vector<int64_t> counts(size_t(numQ * numK), 0);
  for (const Slice &slice : m)
    for (int64_t row = 0; row < numQ; ++row) {
      mask::Range keys = slice.keysOfRow(row);
      for (int64_t key = keys.begin; key < keys.end; ++key)
        ++counts[size_t(row * numK + key)];
    }
  return counts;
}

mask::Mask randomMask(std::mt19937 &rng, int64_t numQ, int64_t numK,
                      int count) {
  mask::Mask m;
  for (int i = 0; i < count; ++i) {
    int64_t q0 = std::uniform_int_distribution<int64_t>(0, numQ)(rng);
    int64_t q1 = std::uniform_int_distribution<int64_t>(q0, numQ)(rng);
    int64_t k0 = std::uniform_int_distribution<int64_t>(0, numK)(rng);
    int64_t k1 = std::uniform_int_distribution<int64_t>(k0, numK)(rng);
    m.push_back({q0, q1, k0, k1,
                 static_cast<SliceKind>(
                     std::uniform_int_distribution<int>(0, 3)(rng))});
  }
  return m;
}

TEST(RuntimeScheduleTest, PlanCoversEveryCellOnceAndEveryRowOnce) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    int64_t numQ = std::uniform_int_distribution<int64_t>(1, 700)(rng);
    int64_t numK = std::uniform_int_distribution<int64_t>(1, 700)(rng);
    // Overlapping slices included: the run-time form allows them.
    mask::Mask m = randomMask(rng, numQ, numK, trial % 9);
    std::string error;
    std::optional<PlannedSchedule> plan =
        planSchedule(gpuSchedule(), m, numQ, numK, &error);
    ASSERT_TRUE(plan) << error;
    ASSERT_EQ(plan->numQ, numQ);
    ASSERT_EQ(plan->numK, numK);
    std::vector<int> rows(size_t(numQ), 0);
    for (int64_t slot = 0; slot < plan->numSlots; ++slot) {
      const int32_t *record =
          plan->tables.data() + plan->slots + slot * Tables::kSlotFields;
      for (int32_t row = record[Tables::FirstRow];
           row < record[Tables::RowEnd]; ++row)
        ++rows[size_t(row)];
    }
    EXPECT_EQ(std::count(rows.begin(), rows.end(), 1), numQ) << trial;
    EXPECT_EQ(cellsFromPlan(*plan, 64), cellsOfMask(m, numQ, numK)) << trial;
    for (size_t offset :
         {plan->slots, plan->items, plan->itemSlices, plan->slices})
      EXPECT_EQ(offset % 4, 0u) << "tables start on 16-byte boundaries";
  }
}

TEST(RuntimeScheduleTest, EmptyCallsPlanToNothingToRead) {
  std::string error;
  std::optional<PlannedSchedule> noRows =
      planSchedule(gpuSchedule(), {}, 0, 50, &error);
  ASSERT_TRUE(noRows) << error;
  EXPECT_EQ(noRows->numSlots, 0);
  // No slices: every query tile has a slot and no items (out 0, lse -inf).
  std::optional<PlannedSchedule> noSlices =
      planSchedule(gpuSchedule(), {}, 300, 50, &error);
  ASSERT_TRUE(noSlices) << error;
  EXPECT_EQ(noSlices->numSlots, 3);
  EXPECT_EQ(noSlices->maxItemsPerTile, 0);
  // Every table still has a record a pointer can point at.
  EXPECT_GE(noSlices->tables.size(), 16u);
}

TEST(RuntimeScheduleTest, RefusalsNameTheirReason) {
  std::string error;
  EXPECT_FALSE(planSchedule(gpuSchedule(), {{0, 10, 0, 60, SliceKind::Full}},
                            10, 50, &error));
  EXPECT_EQ(error, "slice 0: k range [0, 60) exceeds key length 50");
  EXPECT_FALSE(planSchedule(gpuSchedule(), {}, -1, 50, &error));
  EXPECT_EQ(error, "query token count -1 is outside [0, 2^31 - 1]");
  // Three slices over the rows of one query tile, for a kernel that
  // searches two items.
  mask::Mask three = {{0, 100, 0, 10, SliceKind::Full},
                      {0, 100, 20, 30, SliceKind::Full},
                      {0, 100, 40, 50, SliceKind::Full}};
  EXPECT_FALSE(planSchedule(gpuSchedule(2), three, 100, 50, &error));
  EXPECT_EQ(error, "the query tile of rows [0, 100) has 3 work items (slices "
                   "attending its rows); this kernel searches at most 2 "
                   "(compile it with max-items-per-tile >= 3)");
  EXPECT_TRUE(planSchedule(gpuSchedule(4), three, 100, 50, &error)) << error;
  // 65536 query tiles of 128 rows need more slots than grid y holds.
  EXPECT_FALSE(planSchedule(gpuSchedule(), {}, int64_t(65536) * 128, 1,
                            &error));
  EXPECT_EQ(error, "65536 query tiles exceed the 65535 launch slots of a "
                   "grid's y dimension");
}

TEST(RuntimeScheduleTest, RangesAreValidatedBeforePlanning) {
  const int32_t qRanges[] = {0, 10, 5, 2};
  const int32_t kRanges[] = {0, 10, 0, 10};
  const int32_t kinds[] = {0, 1};
  std::string error;
  EXPECT_FALSE(planScheduleFromRanges(gpuSchedule(), qRanges, kRanges, kinds,
                                      2, 20, 20, &error));
  EXPECT_EQ(error.rfind("slice 1: ", 0), 0u) << error;
  const int32_t goodRanges[] = {0, 10, 10, 20};
  const int32_t badKind[] = {0, 7};
  EXPECT_FALSE(planScheduleFromRanges(gpuSchedule(), goodRanges, kRanges,
                                      badKind, 2, 20, 20, &error));
  EXPECT_EQ(error.rfind("slice 1: ", 0), 0u) << error;
  EXPECT_NE(error.find("7"), std::string::npos) << error;
  // A count no schedule holds is refused before a range is read.
  EXPECT_FALSE(planScheduleFromRanges(gpuSchedule(), qRanges, kRanges, kinds,
                                      int64_t(1) << 40, 20, 20, &error));
  EXPECT_EQ(error.rfind("slice count 1099511627776 exceeds ", 0), 0u) << error;
  std::optional<PlannedSchedule> plan = planScheduleFromRanges(
      gpuSchedule(), qRanges, kRanges, kinds, 1, 20, 20, &error);
  ASSERT_TRUE(plan) << error;
  EXPECT_EQ(cellsFromPlan(*plan, 64),
            cellsOfMask({{0, 10, 0, 10, SliceKind::Full}}, 20, 20));
}

} // namespace
