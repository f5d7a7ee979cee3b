//===- Geometry.h - Row sweeps and break rows, inside lib/Mask --*- C++ -*-===//
//
// Within its q range, a slice's key interval at row i is [lo(i), hi(i)) with
// each bound a constant or the line `i + offset`, and the row attends nothing
// where hi(i) <= lo(i). Two consequences carry every algorithm of lib/Mask:
// any question about all rows of a few slices reduces to the rows where one
// of those formulas changes (breakRows), and slices that share no cell keep
// their left-to-right order from row to row (the premise of the row sweep).
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_LIB_MASK_GEOMETRY_H
#define FATTN_LIB_MASK_GEOMETRY_H

#include "FlashDialect/Mask/Mask.h"
#include "FlashDialect/Mask/TileGeometry.h"

#include <functional>
#include <initializer_list>

namespace fattn::mask::detail {

using geometry::ceilDiv;

inline bool boundsAbove(SliceKind kind) {
  return kind == SliceKind::Causal || kind == SliceKind::BiCausal;
}
inline bool boundsBelow(SliceKind kind) {
  return kind == SliceKind::InvCausal || kind == SliceKind::BiCausal;
}

/// The rows of `rows` between which every key bound of `slices`, and every
/// comparison of two of them, is linear in the row: the ends of `rows`, the
/// ends of each q range and of each attended-row range, and the rows next to
/// where a constant bound meets a line. Checking a row-wise property of the
/// slices at these rows checks it on every row. Sorted, unique.
std::vector<int64_t> breakRows(std::initializer_list<const Slice *> slices,
                               Range rows);

/// Calls `visit(left, right)` for every pair of the first `count` slices that
/// are neighbours in key order on some row (Shamos and Hoey's sweep over
/// the attended rows): O(N log N), at most 3N pairs. Slices that share a
/// cell become neighbours before the first row where they do, so a caller
/// looking for overlaps stops at the first pair that has one (`visit`
/// returns true to stop); for other callers the slices must be disjoint.
/// Returns whether `visit` stopped the sweep.
bool forEachNeighbourPair(const Mask &mask, size_t count,
                          const std::function<bool(size_t, size_t)> &visit);

/// Where one slice meets one query tile (geometry::sliceInTile, in Range).
struct SliceInTile {
  Range rows, firstKeys, lastKeys;
  int64_t kTileBegin = 0, kTileEnd = 0, coveredBegin = 0;
};
/// nullopt when the slice attends no cell of the tile's rows below numK.
std::optional<SliceInTile> sliceInTile(const Slice &slice, Range tileRows,
                                       int64_t numK, int64_t tileK);

/// The slice's bounds as the device-capable geometry takes them.
inline geometry::SliceBounds boundsOf(const Slice &slice) {
  return {slice.qBegin, slice.qEnd, slice.kBegin, slice.kEnd, slice.kind};
}

/// First rows of the query tiles of classifyTiles / buildWorkSchedule, numQ
/// last (QueryTiles says where tiles start).
std::vector<int32_t> queryTileBegins(const Mask &mask, int64_t numQ,
                                     int64_t tileRows, QueryTiles queryTiles);

/// Calls `visit(qTile, crossing)` for every query tile in order, with the
/// slices that attend a row of it (ascending mask indices); stops and
/// returns false as soon as `visit` does. O(N log N) plus the query tiles
/// each slice crosses.
bool forEachQueryTile(
    const Mask &mask, const std::vector<int32_t> &qTileBegins,
    const std::function<bool(int64_t, const std::vector<int32_t> &)> &visit);

} // namespace fattn::mask::detail

#endif // FATTN_LIB_MASK_GEOMETRY_H
