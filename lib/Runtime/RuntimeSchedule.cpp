//===- RuntimeSchedule.cpp - A run-time mask planned for its kernel --------===//

#include "FlashDialect/Runtime/RuntimeSchedule.h"

#include "FlashDialect/Limits.h"
#include "FlashDialect/Mask/Schedule.h"

#include <algorithm>

namespace fattn::runtime {

namespace {

std::nullopt_t fail(std::string *error, std::string message) {
  if (error)
    *error = std::move(message);
  return std::nullopt;
}

/// Records of 16 bytes: the kernel's vector loads need that alignment.
constexpr size_t kTableAlignment = 4;

size_t appendTable(std::vector<int32_t> &tables,
                   const std::vector<int32_t> &table) {
  size_t offset = tables.size();
  tables.insert(tables.end(), table.begin(), table.end());
  size_t padded = std::max(table.size(), kTableAlignment);
  padded = (padded + kTableAlignment - 1) / kTableAlignment * kTableAlignment;
  tables.resize(offset + padded, 0);
  return offset;
}

/// The first query tile with more items than the kernel searches.
std::string tooManyItems(const mask::KernelScheduleTables &tables,
                         int64_t limit) {
  using T = mask::KernelScheduleTables;
  for (size_t slot = 0; slot * T::kSlotFields < tables.slots.size(); ++slot) {
    const int32_t *record = &tables.slots[slot * T::kSlotFields];
    int64_t items = int64_t(record[T::ItemsEnd]) - record[T::ItemsBegin];
    if (items > limit)
      return "the query tile of rows [" + std::to_string(record[T::FirstRow]) +
             ", " + std::to_string(record[T::RowEnd]) + ") has " +
             std::to_string(items) +
             " work items (slices attending its rows); this kernel searches "
             "at most " +
             std::to_string(limit) +
             " (compile it with max-items-per-tile >= " +
             std::to_string(items) + ")";
  }
  return "a query tile has more work items than the kernel searches";
}

} // namespace

std::optional<size_t>
PlannedSchedule::tableOffset(std::string_view name) const {
  const std::pair<const char *, size_t> tables[] = {
      {plan_param::kSlots, slots},
      {plan_param::kItems, items},
      {plan_param::kItemSlices, itemSlices},
      {plan_param::kSlices, slices}};
  for (auto [table, offset] : tables)
    if (name == table)
      return offset;
  return std::nullopt;
}

std::optional<PlannedSchedule> planSchedule(const RuntimeSchedule &schedule,
                                            const mask::Mask &mask,
                                            int64_t numQ, int64_t numK,
                                            std::string *error) {
  for (auto [count, name] : {std::pair{numQ, "query"}, {numK, "key"}})
    if (count < 0 || count > limits::kMaxTokens)
      return fail(error, std::string(name) + " token count " +
                             std::to_string(count) +
                             " is outside [0, 2^31 - 1]");
  for (size_t i = 0; i < mask.size(); ++i)
    if (std::optional<std::string> problem =
            mask::checkSlice(mask[i], numQ, numK))
      return fail(error, "slice " + std::to_string(i) + ": " + *problem);
  // No query tile holds more than blockQ rows, so there are at least this
  // many: refuse what cannot fit grid y before planning it.
  if ((numQ + schedule.blockQ - 1) / schedule.blockQ > limits::kMaxGridYZ)
    return fail(error, std::to_string((numQ + schedule.blockQ - 1) /
                                      schedule.blockQ) +
                           " query tiles exceed the 65535 launch slots of a "
                           "grid's y dimension");
  std::optional<mask::WorkSchedule> work = mask::buildWorkSchedule(
      mask, numQ, numK, {schedule.blockQ, schedule.blockK}, schedule.keyEdge,
      schedule.queryTiles);
  if (!work)
    return fail(error, "the schedule would hold more than " +
                           std::to_string(mask::kMaxTileMapEntries) +
                           " query tiles or work items, or more than 2^31 - "
                           "1 visited tiles");
  mask::KernelScheduleTables tables = mask::kernelScheduleTables(*work);
  if (tables.maxItemsPerTile > schedule.maxItemsPerTile)
    return fail(error, tooManyItems(tables, schedule.maxItemsPerTile));
  if (work->numQTiles > limits::kMaxGridYZ)
    return fail(error, std::to_string(work->numQTiles) +
                           " query tiles exceed the 65535 launch slots of a "
                           "grid's y dimension");
  PlannedSchedule plan;
  plan.numQ = numQ;
  plan.numK = numK;
  plan.numSlots = work->numQTiles;
  plan.maxItemsPerTile = tables.maxItemsPerTile;
  plan.slots = appendTable(plan.tables, tables.slots);
  plan.items = appendTable(plan.tables, tables.items);
  plan.itemSlices = appendTable(plan.tables, tables.itemSlices);
  plan.slices = appendTable(plan.tables, mask::sliceRecords(mask));
  return plan;
}

std::optional<PlannedSchedule>
planScheduleFromRanges(const RuntimeSchedule &schedule, const int32_t *qRanges,
                       const int32_t *kRanges, const int32_t *kinds,
                       int64_t count, int64_t numQ, int64_t numK,
                       std::string *error) {
  std::optional<mask::Mask> mask =
      mask::maskFromRanges(qRanges, kRanges, kinds, count, numQ, numK, error);
  if (!mask)
    return std::nullopt;
  return planSchedule(schedule, *mask, numQ, numK, error);
}

} // namespace fattn::runtime
