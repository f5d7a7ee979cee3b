//===- MaskOracle.h - What the fuzz targets hold lib/Mask to ----*- C++ -*-===//
//
// Properties every fuzz target checks on a mask it got past validation, by
// brute force over cells where the problem is small and by the library's
// own promises (normalize is idempotent and keeps the count) where it is
// not. A broken property aborts, which libFuzzer reports as a crash with the
// input that caused it.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_FUZZ_MASKORACLE_H
#define FATTN_FUZZ_MASKORACLE_H

#include "FlashDialect/Mask/Mask.h"

#include <cstdio>
#include <cstdlib>

namespace fattn::fuzz {

[[noreturn]] inline void violated(const char *what, const mask::Mask &mask) {
  std::fprintf(stderr, "fuzz: %s on a mask of %zu slices:\n", what,
               mask.size());
  for (const mask::Slice &slice : mask)
    std::fprintf(stderr, "  %s\n", mask::formatSlice(slice).c_str());
  std::abort();
}

/// Problems small enough to enumerate every cell.
constexpr int64_t kMaxBruteForceCells = 1 << 14;

/// Attended cells of each (row, key), by the per-row definition.
inline std::vector<int> countCells(const mask::Mask &mask, int64_t numQ,
                                   int64_t numK) {
  std::vector<int> cells(numQ * numK, 0);
  for (const mask::Slice &slice : mask)
    for (int64_t row = std::max<int64_t>(slice.qBegin, 0);
         row < std::min(slice.qEnd, numQ); ++row)
      for (int64_t key = 0; key < numK; ++key)
        cells[row * numK + key] += slice.contains(row, key);
  return cells;
}

/// Checks validate() against brute force and, for a valid mask, normalize()
/// and classifyTiles() against their promises. `tile` picks the tile sizes.
void checkMask(const mask::Mask &mask, int64_t numQ, int64_t numK,
               mask::TileSizes tile);

} // namespace fattn::fuzz

#endif // FATTN_FUZZ_MASKORACLE_H
