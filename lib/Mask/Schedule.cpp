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

TransposedMask transposeMask(const Mask &mask) {
  TransposedMask transposed;
  for (size_t index = 0; index < mask.size(); ++index) {
    const Slice &s = mask[index];
    geometry::TransposedPieces pieces =
        geometry::transposedPieces({s.qBegin, s.qEnd, s.kBegin, s.kEnd, s.kind});
    for (int p = 0; p < pieces.count; ++p) {
      const geometry::SliceBounds &piece = pieces.pieces[p];
      transposed.slices.push_back(
          {piece.qBegin, piece.qEnd, piece.kBegin, piece.kEnd, piece.kind});
      transposed.origins.push_back(static_cast<int32_t>(index));
    }
  }
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
