//===- Schedule.h - The compact tile schedule kernels run --------*- C++ -*-===//
//
// Per query tile, one work item per slice that attends a row of it: the run
// of key tiles the slice touches there and, inside it, the run every row of
// the tile attends in full. Each key tile's class follows from the item in
// closed form (itemVisit in RowKeys.h), as FlashAttention and MagiAttention
// derive n_block_min / n_block_max from a sequence's geometry, so the
// schedule costs O(slices + query tiles x slices crossing a tile) however
// many tiles are visited: it is what the compiler bakes into a static kernel
// and what a run-time mask is planned into, by the same code.
//
// A key tile two slices share in one query tile is visited once per slice,
// each time masked by that slice alone; the cells of disjoint slices add up
// in the online softmax exactly as one visit masked by both would.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_MASK_SCHEDULE_H
#define FATTN_MASK_SCHEDULE_H

#include "FlashDialect/Mask/Mask.h"

namespace fattn::mask {

/// The key tiles slice `slice` gives one query tile: [kTileBegin, kTileEnd),
/// each holding at least one attended cell of the slice in the tile's rows,
/// of which [fullBegin, fullEnd) hold only attended cells (every row of the
/// tile, every column: the tile's whole width under KeyEdge::Whole). An item
/// without full tiles has fullBegin == fullEnd == kTileBegin.
struct WorkItem {
  int32_t slice = 0;
  int32_t kTileBegin = 0, fullBegin = 0, fullEnd = 0, kTileEnd = 0;

  int64_t visits() const { return int64_t(kTileEnd) - kTileBegin; }
  bool operator==(const WorkItem &other) const {
    return slice == other.slice && kTileBegin == other.kTileBegin &&
           fullBegin == other.fullBegin && fullEnd == other.fullEnd &&
           kTileEnd == other.kTileEnd;
  }
};

struct WorkSchedule {
  int64_t numQ = 0, numK = 0;
  TileSizes tile;
  KeyEdge keyEdge = KeyEdge::Clipped;
  int64_t numQTiles = 0, numKTiles = 0;

  /// Query tile t covers rows [qTileBegins[t], qTileBegins[t + 1]): the same
  /// tiles classifyTiles cuts.
  std::vector<int32_t> qTileBegins; // numQTiles + 1
  /// Items of query tile t: items[itemOffsets[t] .. itemOffsets[t + 1]), in
  /// mask order.
  std::vector<int32_t> itemOffsets; // numQTiles + 1
  std::vector<WorkItem> items;
  /// Visits (key tiles) of the items before item i, over all query tiles:
  /// the visits of query tile t are [visitOffsets[itemOffsets[t]],
  /// visitOffsets[itemOffsets[t + 1]]).
  std::vector<int32_t> visitOffsets; // items.size() + 1

  int64_t visitsOf(int64_t qTile) const {
    return int64_t(visitOffsets[itemOffsets[qTile + 1]]) -
           visitOffsets[itemOffsets[qTile]];
  }
  int64_t numVisits() const { return visitOffsets.back(); }
  /// Bytes of the tables a kernel reads (the slices excluded).
  int64_t tableBytes() const;
};

/// The schedule of a valid mask (overlapping slices stay in bounds: their
/// cells add up). Query tiles as classifyTiles cuts them. Costs O(N log N)
/// plus the query tiles each slice crosses, nothing per key tile or visit.
/// nullopt when checkTileMapShape fails or the schedule would hold more
/// than `maxEntries` query tiles or items, or more than 2^31 - 1 visits.
std::optional<WorkSchedule>
buildWorkSchedule(const Mask &mask, int64_t numQ, int64_t numK, TileSizes tile,
                  KeyEdge keyEdge = KeyEdge::Clipped,
                  QueryTiles queryTiles = QueryTiles::Uniform,
                  int64_t maxEntries = kMaxTileMapEntries);

/// The mask seen from the keys: a slice list over numK rows (the keys) and
/// numQ columns (the queries) attending cell (j, i) exactly as often as
/// `mask` attends (i, j). Transposition does not keep the four kinds (the
/// transpose of a causal slice that is not square is anchored at no kind's
/// corner), so each slice becomes up to three of them over disjoint rows:
/// a causal slice wider than tall becomes a full block over an inv_causal
/// square, for example. `origins[p]` is the index in `mask` of
/// transposed slice p. O(N).
struct TransposedMask {
  Mask slices;
  std::vector<int32_t> origins;
};
TransposedMask transposeMask(const Mask &mask);

/// The backward's schedule: per key tile, one work item per (transposed)
/// slice whose keys in the tile some query attends, over query tiles of
/// `tile.q` rows. It is buildWorkSchedule of transposeMask(mask) with the
/// roles of queries and keys exchanged (so its "query tiles" are key tiles
/// and its "key tiles" query tiles; items name transposed slices), built by
/// the same code; memory O(slices + key tiles x slices crossing a tile).
std::optional<WorkSchedule>
buildKeyMajorSchedule(const TransposedMask &transposed, int64_t numQ,
                      int64_t numK, TileSizes tile,
                      QueryTiles keyTiles = QueryTiles::Uniform,
                      int64_t maxEntries = kMaxTileMapEntries);

/// The query tiles by visits, most first (stable): the order in which CTAs
/// take them (longest processing time first).
std::vector<int32_t> longestFirstOrder(const WorkSchedule &schedule);

/// The schedule as a GPU kernel reads it, in fixed-size int32 records so
/// that one vector load brings each: a CTA finds its query tile's record by
/// its launch slot, and a visit its item's record, in two dependent loads.
struct KernelScheduleTables {
  /// Per launch slot (query tiles, most visits first: longestFirstOrder):
  /// first row, row end, first item, item end, visits, and 3 zeros.
  static constexpr int kSlotFields = 8;
  enum SlotField { FirstRow, RowEnd, ItemsBegin, ItemsEnd, Visits };
  /// Per item: its first visit within its query tile, kTileBegin,
  /// fullBegin, fullEnd.
  static constexpr int kItemFields = 4;
  enum ItemField { VisitBegin, KTileBegin, FullBegin, FullEnd };

  std::vector<int32_t> slots;      // numQTiles x kSlotFields
  std::vector<int32_t> items;      // items x kItemFields
  std::vector<int32_t> itemSlices; // items
  int64_t maxItemsPerTile = 0;
};

KernelScheduleTables kernelScheduleTables(const WorkSchedule &schedule);

/// The slices as a kernel reads them: per slice qBegin, qEnd, kBegin, kEnd
/// and the kind's code (kSliceFields int32). Requires bounds that fit int32
/// (any mask validated against kernel-sized lengths).
constexpr int kSliceFields = 5;
std::vector<int32_t> sliceRecords(const Mask &mask);

} // namespace fattn::mask

#endif // FATTN_MASK_SCHEDULE_H
