//===- SpecOracle.h - Cell-by-cell reference for the mask tests -*- C++ -*-===//
//
// The tests' independent reading of docs/spec.md §1: each slice evaluated cell
// by cell from the table's local formulas, never through Slice::keysOfRow, so a
// mistake in the library cannot hide in its own reference.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_UNITTESTS_MASK_SPECORACLE_H
#define FATTN_UNITTESTS_MASK_SPECORACLE_H

#include "FlashDialect/Mask/Mask.h"

#include <random>
#include <string>
#include <vector>

namespace fattn::mask::oracle {

/// docs/spec.md §1 table, local form.
inline bool attends(const Slice &slice, int64_t gi, int64_t gj) {
  if (gi < slice.qBegin || gi >= slice.qEnd || gj < slice.kBegin ||
      gj >= slice.kEnd)
    return false;
  int64_t i = gi - slice.qBegin, j = gj - slice.kBegin;
  int64_t sq = slice.qEnd - slice.qBegin, sk = slice.kEnd - slice.kBegin;
  switch (slice.kind) {
  case SliceKind::Full:
    return true;
  case SliceKind::Causal:
    return j <= i + (sk - sq);
  case SliceKind::InvCausal:
    return j >= i;
  case SliceKind::BiCausal:
    return i <= j && j <= i + (sk - sq);
  }
  return false;
}

/// How many slices of `mask` attend each cell, row-major over numQ x numK.
inline std::vector<int> coverage(const Mask &mask, int64_t numQ, int64_t numK) {
  std::vector<int> grid(numQ * numK, 0);
  for (const Slice &slice : mask)
    for (int64_t gi = std::max<int64_t>(slice.qBegin, 0);
         gi < std::min(slice.qEnd, numQ); ++gi)
      for (int64_t gj = std::max<int64_t>(slice.kBegin, 0);
           gj < std::min(slice.kEnd, numK); ++gj)
        grid[gi * numK + gj] += attends(slice, gi, gj);
  return grid;
}

inline int64_t countCells(const Slice &slice) {
  int64_t cells = 0;
  for (int64_t gi = slice.qBegin; gi < slice.qEnd; ++gi)
    for (int64_t gj = slice.kBegin; gj < slice.kEnd; ++gj)
      cells += attends(slice, gi, gj);
  return cells;
}

inline std::string describe(const Mask &mask) {
  std::string text = "{";
  for (const Slice &slice : mask)
    text += (text.size() > 1 ? ", " : "") + formatSlice(slice);
  return text + "}";
}

inline int64_t uniform(std::mt19937_64 &rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

/// A slice with random ranges inside [0, numQ] x [0, numK] (possibly empty)
/// and a random kind.
inline Slice randomSlice(std::mt19937_64 &rng, int64_t numQ, int64_t numK) {
  Slice slice;
  slice.qBegin = uniform(rng, 0, numQ);
  slice.qEnd = uniform(rng, slice.qBegin, numQ);
  slice.kBegin = uniform(rng, 0, numK);
  slice.kEnd = uniform(rng, slice.kBegin, numK);
  slice.kind = static_cast<SliceKind>(uniform(rng, 0, kNumSliceKinds - 1));
  return slice;
}

/// A valid mask: random slices, each kept only if it shares no cell with
/// those already kept. Half of the draws reuse the previous q range so that
/// rows split their keys between slices.
inline Mask randomValidMask(std::mt19937_64 &rng, int64_t numQ, int64_t numK,
                            int attempts) {
  Mask mask;
  std::vector<int> grid(numQ * numK, 0);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    Slice slice = randomSlice(rng, numQ, numK);
    if (!mask.empty() && uniform(rng, 0, 1)) {
      slice.qBegin = mask.back().qBegin;
      slice.qEnd = mask.back().qEnd;
    }
    std::vector<int> cells = coverage({slice}, numQ, numK);
    bool free = true;
    for (size_t c = 0; free && c < grid.size(); ++c)
      free = !(cells[c] && grid[c]);
    if (!free)
      continue;
    for (size_t c = 0; c < grid.size(); ++c)
      grid[c] += cells[c];
    mask.push_back(slice);
  }
  return mask;
}

} // namespace fattn::mask::oracle

#endif // FATTN_UNITTESTS_MASK_SPECORACLE_H
