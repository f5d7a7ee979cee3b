//===- Normalize.cpp - Canonical form of a range mask ---------------------===//
//
// normalize() rewrites a valid mask into a canonical list of slices attending
// exactly the same cells: every slice on its bounding box with the simplest
// kind, nothing empty, no two slices that a single slice could replace, and a
// fixed order. Passes compare masks by comparing normalized lists, and
// kernels get fewer, tighter slices.
//
// Two slices form one slice only if their rows are stacked (one ends where
// the other starts) or they share rows and touch on them, which makes them
// neighbours in the row sweep. Each round below therefore finds every pair
// that could merge in O(N log N), without looking at pairs that cannot.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Mask/Mask.h"
#include "Geometry.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace fattn::mask {
namespace {

/// Simplest first: a fit stops at the first kind that reproduces the cells.
constexpr SliceKind kKindsByPreference[] = {SliceKind::Full, SliceKind::Causal,
                                            SliceKind::InvCausal,
                                            SliceKind::BiCausal};

/// `slice` on its bounding box with its simplest kind, in O(1). Both bounds
/// are non-decreasing, so the box runs from the first attended row's lowest
/// key to the last one's highest; on that box each line bound of the kind is
/// the same line as before, and a line and a constant differ on any two rows,
/// so only a one-row slice has a simpler kind (full).
Slice tighten(const Slice &slice) {
  Range rows = slice.attendedRows();
  return Slice{rows.begin, rows.end, slice.keysOfRow(rows.begin).begin,
               slice.keysOfRow(rows.end - 1).end,
               rows.size() == 1 ? SliceKind::Full : slice.kind};
}

/// The union of two slices' keys on `row` when it is one interval.
std::optional<Range> unionOfKeys(const Slice &a, const Slice &b, int64_t row) {
  Range keysA = a.keysOfRow(row), keysB = b.keysOfRow(row);
  if (keysA.empty())
    return keysB;
  if (keysB.empty())
    return keysA;
  if (keysA.end == keysB.begin)
    return Range{keysA.begin, keysB.end};
  if (keysB.end == keysA.begin)
    return Range{keysB.begin, keysA.end};
  // A gap between the two, or (in an invalid mask) shared cells that one
  // slice would count once.
  return std::nullopt;
}

/// The single slice attending exactly the cells of `a` and `b`, if one
/// exists: one of the kinds on their common bounding box, checked at the
/// break rows of the three slices.
std::optional<Slice> mergeSlices(const Slice &a, const Slice &b) {
  // Tight slices whose boxes neither overlap nor touch cannot form one slice.
  if (a.qBegin > b.qEnd || b.qBegin > a.qEnd || a.kBegin > b.kEnd ||
      b.kBegin > a.kEnd)
    return std::nullopt;
  Slice box{std::min(a.qBegin, b.qBegin), std::max(a.qEnd, b.qEnd),
            std::min(a.kBegin, b.kBegin), std::max(a.kEnd, b.kEnd),
            SliceKind::Full};
  for (SliceKind kind : kKindsByPreference) {
    Slice candidate = box;
    candidate.kind = kind;
    bool reproduces = true;
    for (int64_t row :
         detail::breakRows({&a, &b, &candidate}, candidate.qRange())) {
      std::optional<Range> keys = unionOfKeys(a, b, row);
      if (!keys || !(candidate.keysOfRow(row) == *keys)) {
        reproduces = false;
        break;
      }
    }
    if (reproduces)
      return candidate;
  }
  return std::nullopt;
}

void sortCanonically(Mask &mask) {
  std::sort(mask.begin(), mask.end(), [](const Slice &x, const Slice &y) {
    return std::make_tuple(x.qBegin, x.kBegin, x.qEnd, x.kEnd, x.kind) <
           std::make_tuple(y.qBegin, y.kBegin, y.qEnd, y.kEnd, y.kind);
  });
}

/// Merges runs of slices over the same rows that lie side by side, left to
/// right. One pass leaves no such pair: a merged slice keeps the rows.
bool mergeSameRows(Mask &slices) {
  sortCanonically(slices);
  auto sameRows = [](const Slice &x, const Slice &y) {
    return x.qBegin == y.qBegin && x.qEnd == y.qEnd;
  };
  Mask kept;
  kept.reserve(slices.size());
  for (const Slice &slice : slices) {
    if (!kept.empty() && sameRows(kept.back(), slice))
      if (std::optional<Slice> merged = mergeSlices(kept.back(), slice)) {
        kept.back() = *merged;
        continue;
      }
    kept.push_back(slice);
  }
  bool mergedAny = kept.size() != slices.size();
  slices = std::move(kept);
  return mergedAny;
}

/// Merges chains of slices stacked row on row, top to bottom. A slice b can
/// continue a slice ending at row b.qBegin only if that slice's lowest key on
/// its last row is b.kBegin or b.kBegin - 1 (a constant or a line bound), and
/// disjoint slices ending on one row have distinct lowest keys there.
bool mergeStacked(Mask &slices) {
  sortCanonically(slices);
  std::map<std::pair<int64_t, int64_t>, size_t> byLastRow;
  auto lastRowKey = [](const Slice &slice) {
    return std::make_pair(slice.qEnd, slice.keysOfRow(slice.qEnd - 1).begin);
  };
  Mask kept;
  kept.reserve(slices.size());
  for (const Slice &slice : slices) {
    bool merged = false;
    for (int64_t lowest : {slice.kBegin, slice.kBegin - 1}) {
      auto above = byLastRow.find({slice.qBegin, lowest});
      if (above == byLastRow.end())
        continue;
      size_t index = above->second;
      std::optional<Slice> combined = mergeSlices(kept[index], slice);
      if (!combined)
        continue;
      byLastRow.erase(above);
      kept[index] = *combined;
      byLastRow[lastRowKey(*combined)] = index;
      merged = true;
      break;
    }
    if (merged)
      continue;
    byLastRow[lastRowKey(slice)] = kept.size();
    kept.push_back(slice);
  }
  bool mergedAny = kept.size() != slices.size();
  slices = std::move(kept);
  return mergedAny;
}

/// Merges pairs that share rows, touch on them and together form one slice;
/// such pairs are neighbours in the row sweep. A slice merged here waits for
/// the next round to merge again.
bool mergeNeighbours(Mask &slices) {
  std::vector<std::pair<size_t, size_t>> pairs;
  detail::forEachNeighbourPair(slices, slices.size(), [&](size_t x, size_t y) {
    pairs.emplace_back(std::min(x, y), std::max(x, y));
    return false;
  });
  std::vector<bool> alive(slices.size(), true);
  bool mergedAny = false;
  for (auto [first, second] : pairs) {
    if (!alive[first] || !alive[second])
      continue;
    std::optional<Slice> combined = mergeSlices(slices[first], slices[second]);
    if (!combined)
      continue;
    slices[first] = *combined;
    alive[second] = false;
    mergedAny = true;
  }
  Mask kept;
  for (size_t index = 0; index < slices.size(); ++index)
    if (alive[index])
      kept.push_back(slices[index]);
  slices = std::move(kept);
  return mergedAny;
}

} // namespace

Mask normalize(const Mask &mask) {
  Mask slices;
  slices.reserve(mask.size());
  for (const Slice &slice : mask)
    if (!slice.attendsNothing())
      slices.push_back(tighten(slice));

  // Merging is not confluent: a slice may merge with either of two
  // neighbours that cannot then merge with each other. Merges keeping a q
  // range go first, so that the keys of a row range gather in one slice
  // before row ranges are stacked (a block-causal mask becomes one slice per
  // block, not a column of earlier blocks beside the diagonal). Every round
  // that merges removes a slice; the last round, merging nothing, proves that
  // no pair merges, which makes normalize idempotent.
  for (;;) {
    mergeSameRows(slices);
    if (mergeStacked(slices))
      continue;
    if (!mergeNeighbours(slices))
      break;
  }
  sortCanonically(slices);
  return slices;
}

} // namespace fattn::mask
