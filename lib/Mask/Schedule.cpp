//===- Schedule.cpp - The compact tile schedule kernels run ---------------===//
//
// Each item is where its slice meets the query tile (geometry::itemTiles,
// TileGeometry.h: the same geometry classifyTiles uses, and the planning
// kernel's), with the full run only where every row of the tile belongs to
// the slice.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Mask/Schedule.h"

#include "Geometry.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace fattn::mask {
namespace {

/// The item of `slice` in the query tile of `tileRows`, if it attends a
/// cell there.
std::optional<WorkItem> itemOf(const Slice &slice, int32_t index,
                               Range tileRows, const WorkSchedule &schedule) {
  geometry::ItemTiles tiles = geometry::itemTiles(
      detail::boundsOf(slice), {tileRows.begin, tileRows.end}, schedule.numK,
      schedule.tile.k, schedule.keyEdge == KeyEdge::Clipped);
  if (!tiles.attends)
    return std::nullopt;
  WorkItem item;
  item.slice = index;
  item.kTileBegin = static_cast<int32_t>(tiles.kTileBegin);
  item.fullBegin = static_cast<int32_t>(tiles.fullBegin);
  item.fullEnd = static_cast<int32_t>(tiles.fullEnd);
  item.kTileEnd = static_cast<int32_t>(tiles.kTileEnd);
  return item;
}

} // namespace

int64_t WorkSchedule::tableBytes() const {
  return int64_t(sizeof(int32_t)) *
             (qTileBegins.size() + itemOffsets.size() + visitOffsets.size()) +
         int64_t(sizeof(WorkItem)) * items.size();
}

std::optional<WorkSchedule> buildWorkSchedule(const Mask &mask, int64_t numQ,
                                              int64_t numK, TileSizes tile,
                                              KeyEdge keyEdge,
                                              QueryTiles queryTiles,
                                              int64_t maxEntries) {
  if (checkTileMapShape(numQ, numK, tile))
    return std::nullopt;
  if (detail::ceilDiv(numQ, tile.q) + 2 * int64_t(mask.size()) > maxEntries)
    return std::nullopt;
  WorkSchedule schedule;
  schedule.numQ = numQ;
  schedule.numK = numK;
  schedule.tile = tile;
  schedule.keyEdge = keyEdge;
  schedule.numKTiles = detail::ceilDiv(numK, tile.k);
  schedule.qTileBegins =
      detail::queryTileBegins(mask, numQ, tile.q, queryTiles);
  schedule.numQTiles = int64_t(schedule.qTileBegins.size()) - 1;
  schedule.itemOffsets = {0};
  schedule.visitOffsets = {0};
  int64_t visits = 0;
  bool fits = detail::forEachQueryTile(
      mask, schedule.qTileBegins,
      [&](int64_t qTile, const std::vector<int32_t> &crossing) {
        Range rows{schedule.qTileBegins[qTile],
                   schedule.qTileBegins[qTile + 1]};
        for (int32_t index : crossing) {
          std::optional<WorkItem> item =
              itemOf(mask[index], index, rows, schedule);
          if (!item)
            continue;
          visits += item->visits();
          if (int64_t(schedule.items.size()) >= maxEntries ||
              visits > std::numeric_limits<int32_t>::max())
            return false;
          schedule.items.push_back(*item);
          schedule.visitOffsets.push_back(static_cast<int32_t>(visits));
        }
        schedule.itemOffsets.push_back(
            static_cast<int32_t>(schedule.items.size()));
        return true;
      });
  if (!fits)
    return std::nullopt;
  return schedule;
}

namespace {
/// The pieces of slice `s` transposed (rows: its keys, columns: its
/// queries). Row r = key j attends queries [L(r), U(r)], with L(r) = r +
/// (qEnd - kEnd) under causal (from j <= i + kEnd - qEnd) and U(r) = r +
/// (qBegin - kBegin) under inv_causal (from j >= i + kBegin - qBegin), each
/// clipped to [qBegin, qEnd). Each bound is inside the columns from some row
/// on (L) or up to some row (U); rows split where one starts or stops binding, and
/// on each run of rows the bounds that bind are the corners of a standard
/// kind: L is inv_causal's top-left anchor when the run's columns begin at
/// L(first row), U causal's bottom-right one when they end at U(last) + 1.
void appendTransposed(const Slice &s, int32_t origin, TransposedMask &out) {
  bool lower = s.kind == SliceKind::Causal || s.kind == SliceKind::BiCausal;
  bool upper = s.kind == SliceKind::InvCausal || s.kind == SliceKind::BiCausal;
  int64_t height = s.qEnd - s.qBegin;
  if (height <= 0 || s.kEnd <= s.kBegin)
    return;
  auto L = [&](int64_t r) { return r + (s.qEnd - s.kEnd); };
  auto U = [&](int64_t r) { return r + (s.qBegin - s.kBegin); };
  // L binds (is at least qBegin) from row lowerFrom on; U binds (is at
  // most qEnd - 1) before row upperTo. Where a bound meets the rectangle's
  // edge either form holds; counting it as binding keeps a square slice one
  // piece.
  int64_t lowerFrom =
      lower ? std::clamp(s.kEnd - height, s.kBegin, s.kEnd) : s.kEnd;
  int64_t upperTo =
      upper ? std::clamp(s.kBegin + height, s.kBegin, s.kEnd) : s.kBegin;
  int64_t cuts[] = {s.kBegin, std::min(lowerFrom, upperTo),
                    std::max(lowerFrom, upperTo), s.kEnd};
  for (int i = 0; i < 3; ++i) {
    int64_t first = cuts[i], end = cuts[i + 1];
    if (first >= end)
      continue;
    bool lowerBinds = first >= lowerFrom, upperBinds = end <= upperTo;
    int64_t begin = lowerBinds ? L(first) : s.qBegin;
    int64_t stop = upperBinds ? U(end - 1) + 1 : s.qEnd;
    // Both bounds binding and crossing: rows that attend nothing (an
    // inverted band, a bi_causal slice taller than wide).
    if (lowerBinds && upperBinds && L(first) > U(first))
      continue;
    if (begin >= stop)
      continue;
    SliceKind kind = lowerBinds && upperBinds ? SliceKind::BiCausal
                     : lowerBinds             ? SliceKind::InvCausal
                     : upperBinds             ? SliceKind::Causal
                                              : SliceKind::Full;
    out.slices.push_back({first, end, begin, stop, kind});
    out.origins.push_back(origin);
  }
}
} // namespace

TransposedMask transposeMask(const Mask &mask) {
  TransposedMask transposed;
  for (size_t index = 0; index < mask.size(); ++index)
    appendTransposed(mask[index], static_cast<int32_t>(index), transposed);
  return transposed;
}

std::optional<WorkSchedule>
buildKeyMajorSchedule(const TransposedMask &transposed, int64_t numQ,
                      int64_t numK, TileSizes tile, QueryTiles keyTiles,
                      int64_t maxEntries) {
  // Query tiles are the columns now: the backward computes whole ones.
  return buildWorkSchedule(transposed.slices, numK, numQ, {tile.k, tile.q},
                           KeyEdge::Clipped, keyTiles, maxEntries);
}

std::vector<int32_t> longestFirstOrder(const WorkSchedule &schedule) {
  std::vector<int32_t> order(schedule.numQTiles);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t x, int32_t y) {
    return schedule.visitsOf(x) > schedule.visitsOf(y);
  });
  return order;
}

KernelScheduleTables kernelScheduleTables(const WorkSchedule &schedule) {
  using T = KernelScheduleTables;
  T tables;
  for (int32_t qTile : longestFirstOrder(schedule)) {
    int32_t itemsBegin = schedule.itemOffsets[qTile],
            itemsEnd = schedule.itemOffsets[qTile + 1];
    int32_t slot[T::kSlotFields] = {};
    slot[T::FirstRow] = schedule.qTileBegins[qTile];
    slot[T::RowEnd] = schedule.qTileBegins[qTile + 1];
    slot[T::ItemsBegin] = itemsBegin;
    slot[T::ItemsEnd] = itemsEnd;
    slot[T::Visits] = static_cast<int32_t>(schedule.visitsOf(qTile));
    tables.slots.insert(tables.slots.end(), slot, slot + T::kSlotFields);
    tables.maxItemsPerTile =
        std::max<int64_t>(tables.maxItemsPerTile, itemsEnd - itemsBegin);
  }
  for (int64_t qTile = 0; qTile < schedule.numQTiles; ++qTile)
    for (int32_t i = schedule.itemOffsets[qTile];
         i < schedule.itemOffsets[qTile + 1]; ++i) {
      const WorkItem &item = schedule.items[i];
      int32_t visitBegin = schedule.visitOffsets[i] -
                           schedule.visitOffsets[schedule.itemOffsets[qTile]];
      tables.items.insert(tables.items.end(), {visitBegin, item.kTileBegin,
                                               item.fullBegin, item.fullEnd});
      tables.itemSlices.push_back(item.slice);
    }
  return tables;
}

std::vector<int32_t> sliceRecords(const Mask &mask) {
  std::vector<int32_t> records;
  records.reserve(mask.size() * kSliceFields);
  for (const Slice &slice : mask)
    for (int64_t field : {slice.qBegin, slice.qEnd, slice.kBegin, slice.kEnd,
                          static_cast<int64_t>(slice.kind)})
      records.push_back(static_cast<int32_t>(field));
  return records;
}

} // namespace fattn::mask
