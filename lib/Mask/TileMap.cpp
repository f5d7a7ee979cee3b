//===- TileMap.cpp - Which (query tile, key tile) blocks a kernel visits --===//
//
// classifyTiles() works per query tile and slice, in closed form. A slice's
// bounds never decrease from row to row, so within one query tile it touches
// one run of key tiles, and the tiles of that run that every one of its rows
// covers hold (rows x tile width) of its cells. Only the tiles at the two
// ends of the run, where a bound moves through, need Slice::countCellsIn.
// Each slice thus contributes a few pieces (tile runs with cells per tile),
// and a sweep over the pieces of a query tile sums them per key tile.
//
//===----------------------------------------------------------------------===//

#include "Geometry.h"

#include <algorithm>
#include <set>

namespace fattn::mask {
namespace {

/// Key tiles [first, end) holding `cells` cells of `slice` each.
struct Piece {
  int64_t first, end;
  int64_t cells;
  int32_t slice;
};

/// What one query tile is being classified with.
struct QueryTile {
  Range rows;
  int64_t numK;
  int64_t tileK;
  KeyEdge keyEdge;

  Range keysOf(int64_t kTile) const {
    return {kTile * tileK, std::min((kTile + 1) * tileK, numK)};
  }
  /// Cells a Full tile has: whole tiles count their padding past numK.
  int64_t area(int64_t kTile) const {
    int64_t keys = keyEdge == KeyEdge::Whole ? tileK : keysOf(kTile).size();
    return rows.size() * keys;
  }
};

/// The pieces of `slice` in query tile `tile`, appended to `pieces`.
void addPieces(const Slice &slice, int32_t index, const QueryTile &tile,
               std::vector<Piece> &pieces) {
  std::optional<detail::SliceInTile> meet =
      detail::sliceInTile(slice, tile.rows, tile.numK, tile.tileK);
  if (!meet)
    return;
  Range rows = meet->rows;
  int64_t first = meet->kTileBegin, last = meet->kTileEnd - 1;
  // Tiles every row covers end before the first row's end, and never take
  // the tile crossing numK (its width differs).
  int64_t coveredFirst = meet->coveredBegin;
  int64_t coveredEnd = std::clamp(
      std::min(meet->firstKeys.end, tile.numK - tile.numK % tile.tileK) /
          tile.tileK,
      coveredFirst, last + 1);
  auto addEdgeTiles = [&](int64_t begin, int64_t end) {
    for (int64_t kTile = begin; kTile < end; ++kTile) {
      PairCount cells = slice.countCellsIn(rows, tile.keysOf(kTile));
      if (cells > 0)
        pieces.push_back({kTile, kTile + 1, static_cast<int64_t>(cells), index});
    }
  };
  addEdgeTiles(first, coveredFirst);
  if (coveredFirst < coveredEnd)
    pieces.push_back(
        {coveredFirst, coveredEnd, rows.size() * tile.tileK, index});
  addEdgeTiles(coveredEnd, last + 1);
}

/// Sweeps the pieces of one query tile into the map's lists. Returns false
/// once the map would hold more than `maxEntries` visited tiles or slice
/// references of partial tiles.
bool emitQueryTile(const std::vector<Piece> &pieces, const QueryTile &tile,
                   int64_t maxEntries, TileMap &map) {
  // (key tile, piece + 1) where a piece starts, (key tile, -(piece + 1))
  // where it ends; ends sort first.
  std::vector<std::pair<int64_t, int64_t>> events;
  events.reserve(2 * pieces.size());
  for (size_t index = 0; index < pieces.size(); ++index) {
    events.emplace_back(pieces[index].first, int64_t(index) + 1);
    events.emplace_back(pieces[index].end, -(int64_t(index) + 1));
  }
  std::sort(events.begin(), events.end());
  std::set<int32_t> touching;
  // Overlapping slices of an invalid mask may add up past any tile's area.
  PairCount cells = 0;
  for (size_t next = 0; next < events.size();) {
    int64_t kTile = events[next].first;
    for (; next < events.size() && events[next].first == kTile; ++next) {
      const Piece &piece = pieces[std::abs(events[next].second) - 1];
      if (events[next].second > 0) {
        cells += piece.cells;
        touching.insert(piece.slice);
      } else {
        cells -= piece.cells;
        touching.erase(piece.slice);
      }
    }
    if (touching.empty() || next == events.size())
      continue;
    // Every tile up to the next event has the same pieces.
    int64_t end = events[next].first;
    if (map.numFullTiles() + map.numPartialTiles() + (end - kTile) > maxEntries)
      return false;
    for (; kTile < end; ++kTile) {
      if (cells == tile.area(kTile)) {
        map.fullKTiles.push_back(static_cast<int32_t>(kTile));
        continue;
      }
      if (int64_t(map.partialSlices.size() + touching.size()) > maxEntries)
        return false;
      map.partialKTiles.push_back(static_cast<int32_t>(kTile));
      // A slice has one piece per tile, and the set runs in mask order.
      map.partialSlices.insert(map.partialSlices.end(), touching.begin(),
                               touching.end());
      map.partialSliceOffsets.push_back(
          static_cast<int32_t>(map.partialSlices.size()));
    }
  }
  return true;
}

} // namespace

std::optional<std::string> checkTileMapShape(int64_t numQ, int64_t numK,
                                             TileSizes tile) {
  // Bounding tiles like tokens keeps rows x keys of a tile inside int64.
  if (tile.q <= 0 || tile.k <= 0 || tile.q > kMaxKernelTokens ||
      tile.k > kMaxKernelTokens)
    return "tile sizes must be in [1, 2^31 - 1], got " +
           std::to_string(tile.q) + " x " + std::to_string(tile.k);
  for (auto [name, length] : {std::pair{"query", numQ}, {"key", numK}}) {
    if (length < 0)
      return std::string(name) + " length " + std::to_string(length) +
             " is negative";
    if (length > kMaxKernelTokens)
      return std::string(name) + " length " + std::to_string(length) +
             " exceeds " + std::to_string(kMaxKernelTokens) +
             " (2^31 - 1), the most tokens tile tables index";
  }
  return std::nullopt;
}

std::optional<TileMap> classifyTiles(const Mask &mask, int64_t numQ,
                                     int64_t numK, TileSizes tile,
                                     KeyEdge keyEdge, QueryTiles queryTiles,
                                     int64_t maxEntries) {
  if (checkTileMapShape(numQ, numK, tile))
    return std::nullopt;
  // Query tiles come from every tile.q rows and from two cuts per slice.
  if (detail::ceilDiv(numQ, tile.q) + 2 * int64_t(mask.size()) > maxEntries)
    return std::nullopt;
  TileMap map;
  map.numQ = numQ;
  map.numK = numK;
  map.tile = tile;
  map.fullOffsets = {0};
  map.partialOffsets = {0};
  map.partialSliceOffsets = {0};
  map.qTileBegins = detail::queryTileBegins(mask, numQ, tile.q, queryTiles);
  map.numQTiles = static_cast<int64_t>(map.qTileBegins.size()) - 1;
  map.numKTiles = detail::ceilDiv(numK, tile.k);

  std::vector<Piece> pieces;
  bool fits = detail::forEachQueryTile(
      mask, map.qTileBegins,
      [&](int64_t qTile, const std::vector<int32_t> &crossing) {
        QueryTile current{{map.qTileBegins[qTile], map.qTileBegins[qTile + 1]},
                          numK, tile.k, keyEdge};
        pieces.clear();
        for (int32_t index : crossing)
          addPieces(mask[index], index, current, pieces);
        if (!emitQueryTile(pieces, current, maxEntries, map))
          return false;
        map.fullOffsets.push_back(static_cast<int32_t>(map.fullKTiles.size()));
        map.partialOffsets.push_back(
            static_cast<int32_t>(map.partialKTiles.size()));
        return true;
      });
  if (!fits)
    return std::nullopt;
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
