//===- MaskOracle.cpp - What the fuzz targets hold lib/Mask to ------------===//

#include "MaskOracle.h"

#include "FlashDialect/Mask/Schedule.h"

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

/// The work schedule: every item inside the tables and the key tiles, and,
/// for small masks, each attended cell inside exactly one item's tiles (the
/// item of its slice), each full tile of an item full of its slice's cells.
void checkSchedule(const mask::Mask &mask, int64_t numQ, int64_t numK,
                   mask::TileSizes tile) {
  for (mask::KeyEdge edge : {mask::KeyEdge::Clipped, mask::KeyEdge::Whole}) {
    std::optional<mask::WorkSchedule> schedule =
        mask::buildWorkSchedule(mask, numQ, numK, tile, edge,
                                mask::QueryTiles::SliceAligned, 1 << 16);
    if (!schedule)
      continue;
    std::vector<int> covered(small(numQ, numK) ? numQ * numK : 0, 0);
    for (int64_t qTile = 0; qTile < schedule->numQTiles; ++qTile)
      for (int32_t i = schedule->itemOffsets[qTile];
           i < schedule->itemOffsets[qTile + 1]; ++i) {
        const mask::WorkItem &item = schedule->items[i];
        if (item.slice < 0 || item.slice >= int64_t(mask.size()) ||
            item.kTileBegin < 0 || item.kTileBegin >= item.kTileEnd ||
            item.kTileEnd > schedule->numKTiles ||
            item.fullBegin < item.kTileBegin || item.fullEnd < item.fullBegin ||
            item.fullEnd > item.kTileEnd ||
            schedule->visitOffsets[i + 1] - schedule->visitOffsets[i] !=
                item.visits())
          violated("buildWorkSchedule wrote an item outside its bounds", mask);
        if (covered.empty())
          continue;
        const mask::Slice &slice = mask[item.slice];
        for (int64_t row = schedule->qTileBegins[qTile];
             row < schedule->qTileBegins[qTile + 1]; ++row)
          for (int64_t kTile = item.kTileBegin; kTile < item.kTileEnd; ++kTile) {
            bool full = kTile >= item.fullBegin && kTile < item.fullEnd;
            int64_t end = kTile * tile.k + tile.k;
            if (full && edge == mask::KeyEdge::Whole && end > numK)
              violated("a full tile runs past the keys", mask);
            for (int64_t key = kTile * tile.k; key < std::min(end, numK); ++key) {
              bool attends = slice.contains(row, key);
              covered[row * numK + key] += attends;
              if (full && !attends)
                violated("an item's full tile holds a cell its slice skips",
                         mask);
            }
          }
      }
    if (!covered.empty() && covered != countCells(mask, numQ, numK))
      violated("the schedule's items do not cover each cell once", mask);
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
  checkSchedule(mask, numQ, numK, tile);
}

} // namespace fattn::fuzz
