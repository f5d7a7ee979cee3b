//===- MaskOracle.cpp - What the fuzz targets hold lib/Mask to ------------===//

#include "MaskOracle.h"

#include <algorithm>

namespace fattn::fuzz {
namespace {

bool small(int64_t numQ, int64_t numK) {
  return numQ >= 0 && numK >= 0 && numQ <= kMaxBruteForceCells &&
         numK <= kMaxBruteForceCells &&
         numQ * numK <= kMaxBruteForceCells;
}

void checkValidation(const mask::Mask &mask, int64_t numQ, int64_t numK,
                     bool valid) {
  bool inBounds = true;
  for (const mask::Slice &slice : mask)
    inBounds &= !mask::checkSlice(slice, numQ, numK);
  if (!inBounds) {
    if (valid)
      violated("validate accepted a slice out of bounds", mask);
    return;
  }
  if (!small(numQ, numK))
    return;
  std::vector<int> cells = countCells(mask, numQ, numK);
  bool overlaps = std::any_of(cells.begin(), cells.end(),
                              [](int count) { return count > 1; });
  if (overlaps == valid)
    violated(valid ? "validate accepted overlapping slices"
                   : "validate rejected disjoint slices",
             mask);
  mask::PairCount attended = 0;
  for (int count : cells)
    attended += count;
  mask::PairCount counted = 0;
  for (const mask::Slice &slice : mask)
    counted += slice.countPairs();
  if (attended != counted)
    violated("countPairs differs from the cells", mask);
}

void checkNormalize(const mask::Mask &mask, int64_t numQ, int64_t numK) {
  mask::Mask normal = mask::normalize(mask);
  if (mask::validate(normal, numQ, numK))
    violated("normalize produced an invalid mask", mask);
  if (mask::countAttendedPairs(normal) != mask::countAttendedPairs(mask))
    violated("normalize changed the pair count", mask);
  if (mask::normalize(normal) != normal)
    violated("normalize is not idempotent", mask);
  for (const mask::Slice &slice : normal)
    if (slice.attendsNothing())
      violated("normalize kept an empty slice", mask);
  if (small(numQ, numK) &&
      countCells(mask, numQ, numK) != countCells(normal, numQ, numK))
    violated("normalize changed the attended cells", mask);
}

void checkTiles(const mask::Mask &mask, int64_t numQ, int64_t numK,
                mask::TileSizes tile) {
  for (mask::KeyEdge edge : {mask::KeyEdge::Clipped, mask::KeyEdge::Whole}) {
    std::optional<mask::TileMap> map =
        mask::classifyTiles(mask, numQ, numK, tile, edge,
                            mask::QueryTiles::SliceAligned, 1 << 16);
    if (!map || !small(numQ, numK))
      continue;
    std::vector<int> cells = countCells(mask, numQ, numK);
    for (int64_t qTile = 0; qTile < map->numQTiles; ++qTile)
      for (int64_t kTile = 0; kTile < map->numKTiles; ++kTile) {
        int64_t rowBegin = map->qTileBegins[qTile];
        int64_t rowEnd = map->qTileBegins[qTile + 1];
        int64_t keyBegin = kTile * tile.k;
        int64_t keyEnd = std::min(keyBegin + tile.k, numK);
        int64_t attended = 0;
        for (int64_t row = rowBegin; row < rowEnd; ++row)
          for (int64_t key = keyBegin; key < keyEnd; ++key)
            attended += cells[row * numK + key];
        int64_t width = edge == mask::KeyEdge::Whole ? tile.k : keyEnd - keyBegin;
        mask::TileKind expected =
            attended == 0 ? mask::TileKind::Skip
            : attended == (rowEnd - rowBegin) * width ? mask::TileKind::Full
                                                      : mask::TileKind::Partial;
        if (map->kindOf(qTile, kTile) != expected)
          violated("classifyTiles misjudged a tile", mask);
      }
  }
}

} // namespace

void checkMask(const mask::Mask &mask, int64_t numQ, int64_t numK,
               mask::TileSizes tile) {
  bool valid = !mask::validate(mask, numQ, numK);
  checkValidation(mask, numQ, numK, valid);
  if (!valid)
    return;
  checkNormalize(mask, numQ, numK);
  checkTiles(mask, numQ, numK, tile);
}

} // namespace fattn::fuzz
