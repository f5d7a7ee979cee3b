//===- TileGeometry.h - Where a slice meets a tile, host and device -*- C++ -*-===//
//
// The closed forms the schedule is built from: the rows a slice attends,
// where it meets one query tile (the run of key tiles it touches there and
// the run every row of the tile fills), where query tiles are cut, and a
// slice's transpose (the backward's key-major view). The
// mask library plans on the host with them (Geometry.cpp, Schedule.cpp) and
// the planning kernel (lib/Runtime/PlanKernel.cu) plans CUDA range tensors
// with them on the GPU, so both make the same schedule from one source.
// Depends on RowKeys.h only, so that nvcc's device code can include it.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_MASK_TILEGEOMETRY_H
#define FATTN_MASK_TILEGEOMETRY_H

#include "FlashDialect/Mask/RowKeys.h"

namespace fattn::mask::geometry {

/// Half-open [begin, end); empty when end <= begin.
struct Span {
  int64_t begin = 0, end = 0;
  FATTN_HOST_DEVICE bool empty() const { return end <= begin; }
};

/// One slice's bounds and kind: Mask.h's Slice without its methods.
struct SliceBounds {
  int64_t qBegin = 0, qEnd = 0, kBegin = 0, kEnd = 0;
  SliceKind kind = SliceKind::Full;
};

/// numerator / denominator rounded up, for numerator >= 0 < denominator.
FATTN_HOST_DEVICE inline int64_t ceilDiv(int64_t numerator,
                                         int64_t denominator) {
  return numerator / denominator + (numerator % denominator != 0);
}

FATTN_HOST_DEVICE inline int64_t minOf(int64_t a, int64_t b) {
  return a < b ? a : b;
}
FATTN_HOST_DEVICE inline int64_t maxOf(int64_t a, int64_t b) {
  return a < b ? b : a;
}
FATTN_HOST_DEVICE inline int64_t clampTo(int64_t value, int64_t low,
                                         int64_t high) {
  return minOf(maxOf(value, low), high);
}

/// Every bound a slice may carry, inclusive (Mask.h's kMaxIndex).
constexpr int64_t kMaxIndex = int64_t(1) << 62;

/// What is wrong with one axis's range of a slice, if anything.
enum class RangeProblem : uint8_t {
  None,
  BelowZero,    // begin < 0
  Reversed,     // end < begin
  PastLength,   // end > the axis's length
  PastMaxIndex, // end > kMaxIndex
};

/// `length` < 0: no length to exceed (a static mask checked alone).
FATTN_HOST_DEVICE inline RangeProblem rangeProblem(int64_t begin, int64_t end,
                                                   int64_t length) {
  if (begin < 0)
    return RangeProblem::BelowZero;
  if (end < begin)
    return RangeProblem::Reversed;
  if (length >= 0 && end > length)
    return RangeProblem::PastLength;
  if (end > kMaxIndex)
    return RangeProblem::PastMaxIndex;
  return RangeProblem::None;
}

/// Whether a slice as a call gives it (kind as its int code) is valid:
/// mask::checkSlice's rule, which names the problem this only detects.
FATTN_HOST_DEVICE inline bool sliceIsValid(int64_t qBegin, int64_t qEnd,
                                           int64_t kBegin, int64_t kEnd,
                                           int64_t kindCode, int64_t numQ,
                                           int64_t numK) {
  return kindCode >= 0 && kindCode < kNumSliceKinds &&
         rangeProblem(qBegin, qEnd, numQ) == RangeProblem::None &&
         rangeProblem(kBegin, kEnd, numK) == RangeProblem::None;
}

/// The rows attending at least one key: one interval, in O(1).
FATTN_HOST_DEVICE inline Span attendedRows(const SliceBounds &s) {
  if (s.qBegin >= s.qEnd || s.kBegin >= s.kEnd)
    return {};
  int64_t keys = s.kEnd - s.kBegin;
  switch (s.kind) {
  case SliceKind::Full:
    return {s.qBegin, s.qEnd};
  case SliceKind::Causal: // row i reaches key kEnd - (qEnd - i)
    return {maxOf(s.qBegin, s.qEnd - keys), s.qEnd};
  case SliceKind::InvCausal: // row i starts at key kBegin + (i - qBegin)
    return {s.qBegin, minOf(s.qEnd, s.qBegin + keys)};
  case SliceKind::BiCausal: // every row keys - rows + 1 wide
    return keys - (s.qEnd - s.qBegin) + 1 > 0 ? Span{s.qBegin, s.qEnd}
                                              : Span{};
  }
  return {};
}

/// Keys of `row` (inside the slice's q range); empty when it attends none.
FATTN_HOST_DEVICE inline Span keysOfRow(const SliceBounds &s, int64_t row) {
  if (row < s.qBegin || row >= s.qEnd)
    return {};
  KeyBounds<int64_t> keys =
      rowKeys(HostRowKeys{}, s.kind, row, s.qBegin, s.qEnd, s.kBegin, s.kEnd);
  if (keys.end <= keys.begin)
    return {};
  return {keys.begin, keys.end};
}

/// Where one slice meets one query tile: the tile's rows it attends, the key
/// bounds of the first and last of them, the run of key tiles those rows
/// touch, and where the run of tiles every row covers from their first key
/// can begin (the last row's first key, rounded up to a tile; clamped to the
/// run). Both bounds grow with the row, so the touched keys are one run
/// [first row's begin, last row's end) and the keys every row attends are
/// [last row's begin, first row's end): callers decide where the covered run
/// ends, which depends on how they treat the tile crossing numK.
struct TileMeet {
  bool attends = false; // a cell of the tile's rows below numK
  Span rows, firstKeys, lastKeys;
  int64_t kTileBegin = 0, kTileEnd = 0, coveredBegin = 0;
};

FATTN_HOST_DEVICE inline TileMeet sliceInTile(const SliceBounds &slice,
                                              Span tileRows, int64_t numK,
                                              int64_t tileK) {
  Span attended = attendedRows(slice);
  TileMeet meet;
  meet.rows = {maxOf(tileRows.begin, attended.begin),
               minOf(tileRows.end, attended.end)};
  if (meet.rows.empty())
    return meet;
  meet.firstKeys = keysOfRow(slice, meet.rows.begin);
  meet.lastKeys = keysOfRow(slice, meet.rows.end - 1);
  int64_t keyBegin = maxOf(meet.firstKeys.begin, 0);
  int64_t keyEnd = minOf(meet.lastKeys.end, numK);
  if (keyBegin >= keyEnd)
    return meet;
  meet.attends = true;
  meet.kTileBegin = keyBegin / tileK;
  meet.kTileEnd = ceilDiv(keyEnd, tileK);
  meet.coveredBegin =
      clampTo(ceilDiv(maxOf(meet.lastKeys.begin, 0), tileK), meet.kTileBegin,
              meet.kTileEnd);
  return meet;
}

/// A slice's work in one query tile (Schedule.h's WorkItem): key tiles
/// [kTileBegin, kTileEnd), of which [fullBegin, fullEnd) need no mask; an
/// item without full tiles has fullBegin == fullEnd == kTileBegin.
struct ItemTiles {
  bool attends = false;
  int64_t kTileBegin = 0, fullBegin = 0, fullEnd = 0, kTileEnd = 0;
};

/// `clippedEdge`: KeyEdge::Clipped (the tile crossing numK is full where
/// every row attends up to numK); otherwise KeyEdge::Whole (it never is).
FATTN_HOST_DEVICE inline ItemTiles itemTiles(const SliceBounds &slice,
                                             Span tileRows, int64_t numK,
                                             int64_t tileK, bool clippedEdge) {
  TileMeet meet = sliceInTile(slice, tileRows, numK, tileK);
  ItemTiles item;
  if (!meet.attends)
    return item;
  item.attends = true;
  item.kTileBegin = meet.kTileBegin;
  item.kTileEnd = meet.kTileEnd;
  item.fullBegin = item.fullEnd = item.kTileBegin;
  if (meet.rows.begin != tileRows.begin || meet.rows.end != tileRows.end)
    return item; // rows of the tile outside the slice are masked everywhere
  // The covered run ends before the first row's end; a key tile crossing
  // numK is full only where it is clipped there.
  int64_t firstEnd = meet.firstKeys.end;
  int64_t coveredEnd = clippedEdge && firstEnd >= numK
                           ? ceilDiv(numK, tileK)
                           : minOf(firstEnd, numK) / tileK;
  coveredEnd = clampTo(coveredEnd, meet.coveredBegin, item.kTileEnd);
  if (meet.coveredBegin < coveredEnd) {
    item.fullBegin = meet.coveredBegin;
    item.fullEnd = coveredEnd;
  }
  return item;
}

/// Query tiles run from each cut row (0, numQ and, slice-aligned, each
/// attending slice's q bounds) in steps of tileRows up to the next cut. A
/// sliver of a tile costs a whole tile's work, so the tile [row, end) is
/// folded into the tile before it (starting at previousBegin; negative:
/// none) when it is shorter than a quarter tile and both fit one tile.
/// Only the last tile of a run between cuts can fold, and only into the
/// tile before its cut.
FATTN_HOST_DEVICE inline bool foldsIntoPrevious(int64_t row, int64_t end,
                                                int64_t previousBegin,
                                                int64_t tileRows) {
  return previousBegin >= 0 && end - row < tileRows / 4 &&
         end - previousBegin <= tileRows;
}

/// A slice seen from its keys: up to three standard slices over disjoint
/// runs of its keys (rows: keys, columns: queries), attending cell (j, i)
/// exactly where the slice attends (i, j).
struct TransposedPieces {
  SliceBounds pieces[3];
  int count = 0;
};

/// Slice `s` transposed (mask::transposeMask's rule, for the host and a
/// GPU planner alike). Row r = key j attends queries [L(r), U(r)], with
/// L(r) = r + (qEnd - kEnd) under causal (from j <= i + kEnd - qEnd) and
/// U(r) = r + (qBegin - kBegin) under inv_causal (from j >= i + kBegin -
/// qBegin), each clipped to [qBegin, qEnd). Each bound is inside the
/// columns from some row on (L) or up to some row (U); rows split where one
/// starts or stops binding, and on each run of rows the bounds that bind
/// are the corners of a standard kind: L is inv_causal's top-left anchor
/// when the run's columns begin at L(first row), U causal's bottom-right
/// one when they end at U(last) + 1.
FATTN_HOST_DEVICE inline TransposedPieces transposedPieces(SliceBounds s) {
  TransposedPieces out;
  bool lower = s.kind == SliceKind::Causal || s.kind == SliceKind::BiCausal;
  bool upper = s.kind == SliceKind::InvCausal || s.kind == SliceKind::BiCausal;
  int64_t height = s.qEnd - s.qBegin;
  if (height <= 0 || s.kEnd <= s.kBegin)
    return out;
  // L(r) = r + toLower, U(r) = r + toUpper.
  int64_t toLower = s.qEnd - s.kEnd, toUpper = s.qBegin - s.kBegin;
  // L binds (is at least qBegin) from row lowerFrom on; U binds (is at
  // most qEnd - 1) before row upperTo. Where a bound meets the rectangle's
  // edge either form holds; counting it as binding keeps a square slice one
  // piece.
  int64_t lowerFrom =
      lower ? clampTo(s.kEnd - height, s.kBegin, s.kEnd) : s.kEnd;
  int64_t upperTo =
      upper ? clampTo(s.kBegin + height, s.kBegin, s.kEnd) : s.kBegin;
  int64_t cuts[] = {s.kBegin, minOf(lowerFrom, upperTo),
                    maxOf(lowerFrom, upperTo), s.kEnd};
  for (int i = 0; i < 3; ++i) {
    int64_t first = cuts[i], end = cuts[i + 1];
    if (first >= end)
      continue;
    bool lowerBinds = first >= lowerFrom, upperBinds = end <= upperTo;
    int64_t begin = lowerBinds ? first + toLower : s.qBegin; // L(first)
    int64_t stop = upperBinds ? end + toUpper : s.qEnd;       // U(end - 1) + 1
    // Both bounds binding and crossing (L(r) > U(r) on every row): rows
    // that attend nothing (an inverted band, a bi_causal slice taller than
    // wide).
    if (lowerBinds && upperBinds && toLower > toUpper)
      continue;
    if (begin >= stop)
      continue;
    SliceKind kind = lowerBinds && upperBinds ? SliceKind::BiCausal
                     : lowerBinds             ? SliceKind::InvCausal
                     : upperBinds             ? SliceKind::Causal
                                              : SliceKind::Full;
    out.pieces[out.count++] = {first, end, begin, stop, kind};
  }
  return out;
}

} // namespace fattn::mask::geometry

#endif // FATTN_MASK_TILEGEOMETRY_H
