//===- TileMap.cpp - Which (query tile, key tile) blocks a kernel visits --===//
//
// classifyTiles() counts the attended cells of every tile row by row: each
// row of each slice adds its key interval to the tiles it crosses, in O(1)
// per row (the tiles it covers entirely go into a difference array), and a
// sweep over the touched key tiles turns counts into Full / Partial / Skip.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Mask/Mask.h"

#include <algorithm>
#include <limits>

namespace fattn::mask {
namespace {

int64_t ceilDiv(int64_t numerator, int64_t denominator) {
  return (numerator + denominator - 1) / denominator;
}

/// Scratch state of one query tile, indexed by key tile. Only the range of
/// key tiles the query tile touched is read and reset.
struct QueryTileCounts {
  explicit QueryTileCounts(int64_t numKTiles)
      : edgeCells(numKTiles, 0), coveringRowsDelta(numKTiles + 1, 0),
        touchingSlicesDelta(numKTiles + 1, 0), partialCursor(numKTiles, -1) {}

  /// Cells from rows that start or end inside the key tile.
  std::vector<int64_t> edgeCells;
  /// Difference array: rows that cover the whole key tile.
  std::vector<int64_t> coveringRowsDelta;
  /// Difference array: slices attending at least one cell of the key tile.
  std::vector<int64_t> touchingSlicesDelta;
  /// Next write position in TileMap::partialSlices; -1 unless Partial.
  std::vector<int64_t> partialCursor;
  int64_t firstTouched = std::numeric_limits<int64_t>::max();
  int64_t lastTouched = -1;

  void addRow(Range keys, int64_t tileK) {
    int64_t first = keys.begin / tileK, last = (keys.end - 1) / tileK;
    firstTouched = std::min(firstTouched, first);
    lastTouched = std::max(lastTouched, last);
    if (first == last) {
      edgeCells[first] += keys.size();
      return;
    }
    edgeCells[first] += (first + 1) * tileK - keys.begin;
    edgeCells[last] += keys.end - last * tileK;
    ++coveringRowsDelta[first + 1];
    --coveringRowsDelta[last];
  }

  void reset() {
    if (lastTouched < 0)
      return;
    for (int64_t kTile = firstTouched; kTile <= lastTouched + 1; ++kTile) {
      coveringRowsDelta[kTile] = 0;
      touchingSlicesDelta[kTile] = 0;
      if (kTile <= lastTouched) {
        edgeCells[kTile] = 0;
        partialCursor[kTile] = -1;
      }
    }
    firstTouched = std::numeric_limits<int64_t>::max();
    lastTouched = -1;
  }
};

/// Key tiles [first, last] that one slice touches within one query tile.
struct SliceSpan {
  int32_t slice;
  int64_t first, last;
};

} // namespace

/// First rows of the query tiles, numQ last.
static std::vector<int32_t> queryTileBegins(const Mask &mask, int64_t numQ,
                                            int64_t tileRows,
                                            QueryTiles queryTiles) {
  std::vector<int64_t> cuts = {0, numQ};
  if (queryTiles == QueryTiles::SliceAligned)
    for (const Slice &slice : mask) {
      if (slice.attendsNothing())
        continue;
      cuts.push_back(std::clamp<int64_t>(slice.qBegin, 0, numQ));
      cuts.push_back(std::clamp<int64_t>(slice.qEnd, 0, numQ));
    }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<int32_t> begins;
  for (size_t segment = 0; segment + 1 < cuts.size(); ++segment)
    for (int64_t row = cuts[segment]; row < cuts[segment + 1]; row += tileRows) {
      // A sliver of a tile costs a whole tile's work: fold it into the
      // previous tile when both fit.
      int64_t end = std::min(row + tileRows, cuts[segment + 1]);
      if (!begins.empty() && end - row < tileRows / 4 &&
          end - begins.back() <= tileRows)
        continue;
      begins.push_back(static_cast<int32_t>(row));
    }
  begins.push_back(static_cast<int32_t>(numQ));
  return begins;
}

TileMap classifyTiles(const Mask &mask, int64_t numQ, int64_t numK,
                      TileSizes tile, KeyEdge keyEdge, QueryTiles queryTiles) {
  TileMap map;
  map.numQ = numQ;
  map.numK = numK;
  map.tile = tile;
  map.fullOffsets = {0};
  map.partialOffsets = {0};
  map.partialSliceOffsets = {0};
  map.qTileBegins = {0};
  if (tile.q <= 0 || tile.k <= 0 || numQ < 0 || numK < 0)
    return map;
  map.qTileBegins = queryTileBegins(mask, numQ, tile.q, queryTiles);
  map.numQTiles = static_cast<int64_t>(map.qTileBegins.size()) - 1;
  map.numKTiles = ceilDiv(numK, tile.k);

  // Slices of each query tile (CSR, mask order), clipped to the sequence so
  // that a slice past the bounds can never index outside the scratch arrays.
  std::vector<int64_t> slicesOfQTileOffsets(map.numQTiles + 1, 0);
  std::vector<int32_t> slicesOfQTile;
  auto forEachQTileOfSlice = [&](const Slice &slice, auto callback) {
    int64_t rowBegin = std::max<int64_t>(slice.qBegin, 0);
    int64_t rowEnd = std::min(slice.qEnd, numQ);
    if (rowBegin >= rowEnd ||
        std::max<int64_t>(slice.kBegin, 0) >= std::min(slice.kEnd, numK))
      return;
    int64_t qTile = std::upper_bound(map.qTileBegins.begin(),
                                     map.qTileBegins.end(), rowBegin) -
                    map.qTileBegins.begin() - 1;
    for (; qTile < map.numQTiles && map.qTileBegins[qTile] < rowEnd; ++qTile)
      callback(qTile);
  };
  for (const Slice &slice : mask)
    forEachQTileOfSlice(
        slice, [&](int64_t qTile) { ++slicesOfQTileOffsets[qTile + 1]; });
  for (int64_t qTile = 0; qTile < map.numQTiles; ++qTile)
    slicesOfQTileOffsets[qTile + 1] += slicesOfQTileOffsets[qTile];
  slicesOfQTile.resize(slicesOfQTileOffsets.back());
  {
    std::vector<int64_t> cursor(slicesOfQTileOffsets.begin(),
                                slicesOfQTileOffsets.end() - 1);
    for (size_t index = 0; index < mask.size(); ++index)
      forEachQTileOfSlice(mask[index], [&](int64_t qTile) {
        slicesOfQTile[cursor[qTile]++] = static_cast<int32_t>(index);
      });
  }

  QueryTileCounts counts(map.numKTiles);
  std::vector<SliceSpan> spans;
  for (int64_t qTile = 0; qTile < map.numQTiles; ++qTile) {
    int64_t tileRowBegin = map.qTileBegins[qTile];
    int64_t tileRowEnd = map.qTileBegins[qTile + 1];

    spans.clear();
    for (int64_t pos = slicesOfQTileOffsets[qTile];
         pos < slicesOfQTileOffsets[qTile + 1]; ++pos) {
      int32_t index = slicesOfQTile[pos];
      const Slice &slice = mask[index];
      int64_t keyBegin = std::numeric_limits<int64_t>::max(), keyEnd = -1;
      for (int64_t row = std::max(tileRowBegin, slice.qBegin),
                   rowEnd = std::min(tileRowEnd, slice.qEnd);
           row < rowEnd; ++row) {
        Range keys = slice.keysOfRow(row);
        keys.begin = std::max<int64_t>(keys.begin, 0);
        keys.end = std::min(keys.end, numK);
        if (keys.empty())
          continue;
        counts.addRow(keys, tile.k);
        keyBegin = std::min(keyBegin, keys.begin);
        keyEnd = std::max(keyEnd, keys.end);
      }
      if (keyBegin >= keyEnd)
        continue;
      // The rows of one slice attend overlapping or touching key intervals
      // (each kind moves its bounds by at most one key per row and keeps
      // every non-empty row at least one key wide), so the keys it attends in
      // this query tile form one interval: it touches exactly the key tiles
      // spanning that interval.
      SliceSpan span{index, keyBegin / tile.k, (keyEnd - 1) / tile.k};
      ++counts.touchingSlicesDelta[span.first];
      --counts.touchingSlicesDelta[span.last + 1];
      spans.push_back(span);
    }

    int64_t coveringRows = 0, touchingSlices = 0;
    int64_t tileRows = tileRowEnd - tileRowBegin;
    for (int64_t kTile = std::max<int64_t>(counts.firstTouched, 0);
         kTile <= counts.lastTouched; ++kTile) {
      coveringRows += counts.coveringRowsDelta[kTile];
      touchingSlices += counts.touchingSlicesDelta[kTile];
      int64_t tileKeys = keyEdge == KeyEdge::Whole
                             ? tile.k
                             : std::min(tile.k, numK - kTile * tile.k);
      int64_t attended = counts.edgeCells[kTile] + coveringRows * tile.k;
      if (attended == 0)
        continue;
      if (attended == tileRows * tileKeys) {
        map.fullKTiles.push_back(static_cast<int32_t>(kTile));
        continue;
      }
      map.partialKTiles.push_back(static_cast<int32_t>(kTile));
      counts.partialCursor[kTile] = map.partialSlices.size();
      map.partialSlices.resize(map.partialSlices.size() + touchingSlices);
      map.partialSliceOffsets.push_back(
          static_cast<int32_t>(map.partialSlices.size()));
    }
    // Spans come in mask order, so each partial tile's list is ascending.
    for (const SliceSpan &span : spans)
      for (int64_t kTile = span.first; kTile <= span.last; ++kTile)
        if (counts.partialCursor[kTile] >= 0)
          map.partialSlices[counts.partialCursor[kTile]++] = span.slice;

    map.fullOffsets.push_back(static_cast<int32_t>(map.fullKTiles.size()));
    map.partialOffsets.push_back(
        static_cast<int32_t>(map.partialKTiles.size()));
    counts.reset();
  }
  return map;
}

TileKind TileMap::kindOf(int64_t qTile, int64_t kTile) const {
  if (qTile < 0 || qTile >= numQTiles || kTile < 0 || kTile >= numKTiles)
    return TileKind::Skip;
  auto listed = [&](const std::vector<int32_t> &offsets,
                    const std::vector<int32_t> &kTiles) {
    return std::binary_search(kTiles.begin() + offsets[qTile],
                              kTiles.begin() + offsets[qTile + 1], kTile);
  };
  if (listed(fullOffsets, fullKTiles))
    return TileKind::Full;
  if (listed(partialOffsets, partialKTiles))
    return TileKind::Partial;
  return TileKind::Skip;
}

} // namespace fattn::mask
