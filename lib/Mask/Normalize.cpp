//===- Normalize.cpp - Canonical form of a range mask ---------------------===//
//
// normalize() rewrites a valid mask into a canonical list of slices attending
// exactly the same cells: every slice on its bounding box with the simplest
// kind, nothing empty, no two slices that a single slice could replace, and a
// fixed order. Passes compare masks by comparing normalized lists, and
// kernels get fewer, tighter slices.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Mask/Mask.h"

#include <algorithm>
#include <tuple>

namespace fattn::mask {
namespace {

/// Simplest first: a fit stops at the first kind that reproduces the cells.
constexpr SliceKind kKindsByPreference[] = {SliceKind::Full, SliceKind::Causal,
                                            SliceKind::InvCausal,
                                            SliceKind::BiCausal};

/// The simplest slice whose rows in [rowBegin, rowEnd) attend exactly
/// `rowKeys(row)` and which attends nothing outside those rows. `rowKeys`
/// returns nullopt for a row whose keys are not one interval, which no slice
/// can reproduce. nullopt when no slice fits or nothing is attended.
///
/// Only the bounding box of the attended cells needs to be tried: the
/// formulas of every kind depend on (ke - qe) and (ks - qs), and the bounds
/// they use survive tightening (a causal slice's last row spans [ks, ke), an
/// inv_causal slice's first row spans [ks, ke), a non-empty bi_causal slice
/// never clips), so any slice attends the same cells as the slice of the same
/// kind on its bounding box.
template <typename RowKeysFn>
std::optional<Slice> fitSlice(int64_t rowBegin, int64_t rowEnd,
                              RowKeysFn rowKeys) {
  std::optional<Slice> box;
  for (int64_t row = rowBegin; row < rowEnd; ++row) {
    std::optional<Range> keys = rowKeys(row);
    if (!keys)
      return std::nullopt;
    if (keys->empty())
      continue;
    if (!box) {
      box = Slice{row, row + 1, keys->begin, keys->end, SliceKind::Full};
      continue;
    }
    box->qEnd = row + 1;
    box->kBegin = std::min(box->kBegin, keys->begin);
    box->kEnd = std::max(box->kEnd, keys->end);
  }
  if (!box)
    return std::nullopt;

  for (SliceKind kind : kKindsByPreference) {
    Slice candidate = *box;
    candidate.kind = kind;
    bool reproduces = true;
    for (int64_t row = box->qBegin; reproduces && row < box->qEnd; ++row)
      reproduces = candidate.keysOfRow(row) == *rowKeys(row);
    if (reproduces)
      return candidate;
  }
  return std::nullopt;
}

/// `slice` on its bounding box with its simplest kind. Every slice has such a
/// fit (see fitSlice); keeping the slice as it is guards the attended set
/// should that ever fail.
Slice tighten(const Slice &slice) {
  std::optional<Slice> fitted = fitSlice(
      slice.qBegin, slice.qEnd, [&](int64_t row) -> std::optional<Range> {
        return slice.keysOfRow(row);
      });
  return fitted ? *fitted : slice;
}

/// The single slice attending exactly the cells of `a` and `b`, if one
/// exists.
std::optional<Slice> mergeSlices(const Slice &a, const Slice &b) {
  // A slice's attended rows form one interval and so do the keys it attends
  // over all its rows; two tight slices whose boxes neither overlap nor touch
  // therefore cannot form one slice, and the row-by-row check is skipped.
  if (a.qBegin > b.qEnd || b.qBegin > a.qEnd || a.kBegin > b.kEnd ||
      b.kBegin > a.kEnd)
    return std::nullopt;
  auto unionKeysOfRow = [&](int64_t row) -> std::optional<Range> {
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
  };
  return fitSlice(std::min(a.qBegin, b.qBegin), std::max(a.qEnd, b.qEnd),
                  unionKeysOfRow);
}

void sortCanonically(Mask &mask) {
  std::sort(mask.begin(), mask.end(), [](const Slice &x, const Slice &y) {
    return std::make_tuple(x.qBegin, x.kBegin, x.qEnd, x.kEnd, x.kind) <
           std::make_tuple(y.qBegin, y.kBegin, y.qEnd, y.kEnd, y.kind);
  });
}

/// Merges pairs of slices passing `isCandidate` that together form one
/// slice; with `stopAtFirst`, returns after the first merge. Returns whether
/// anything merged. `slices` is ordered by qBegin and stays so (a merge keeps
/// the earlier slice's qBegin), so the partners of slice i are the following
/// slices starting no later than slice i ends.
template <typename PairFilter>
bool mergePairs(Mask &slices, PairFilter isCandidate, bool stopAtFirst) {
  bool merged = false;
  for (size_t i = 0; i < slices.size(); ++i) {
    for (size_t j = i + 1;
         j < slices.size() && slices[j].qBegin <= slices[i].qEnd; ++j) {
      if (!isCandidate(slices[i], slices[j]))
        continue;
      std::optional<Slice> combined = mergeSlices(slices[i], slices[j]);
      if (!combined)
        continue;
      slices[i] = *combined;
      slices.erase(slices.begin() + j);
      if (stopAtFirst)
        return true;
      merged = true;
      // The grown slice may now merge with slices it could not before.
      j = i;
    }
  }
  return merged;
}

} // namespace

Mask normalize(const Mask &mask) {
  Mask slices;
  slices.reserve(mask.size());
  for (const Slice &slice : mask)
    if (!slice.attendsNothing())
      slices.push_back(tighten(slice));
  sortCanonically(slices);

  // Merging is not confluent: a slice may merge with either of two
  // neighbours that cannot then merge with each other. Merges keeping a q
  // range go first, so that the keys of a row range gather in one slice
  // before row ranges are stacked (a block-causal mask becomes one slice per
  // block, not a column of earlier blocks beside the diagonal), and they are
  // exhausted again after every other merge. Each merge removes a slice, so
  // this terminates; the last scans prove that no pair merges, which makes
  // normalize idempotent.
  auto sameRows = [](const Slice &a, const Slice &b) {
    return a.qBegin == b.qBegin && a.qEnd == b.qEnd;
  };
  auto anyPair = [](const Slice &, const Slice &) { return true; };
  do {
    while (mergePairs(slices, sameRows, /*stopAtFirst=*/false)) {
    }
  } while (mergePairs(slices, anyPair, /*stopAtFirst=*/true));
  sortCanonically(slices);
  return slices;
}

} // namespace fattn::mask
