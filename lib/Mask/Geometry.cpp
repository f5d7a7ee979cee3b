//===- Geometry.cpp - Row sweeps and break rows ---------------------------===//

#include "Geometry.h"

#include <algorithm>
#include <set>

namespace fattn::mask::detail {

std::vector<int64_t> breakRows(std::initializer_list<const Slice *> slices,
                               Range rows) {
  std::vector<int64_t> result;
  if (rows.empty())
    return result;
  auto add = [&](int64_t row) {
    if (row >= rows.begin && row < rows.end)
      result.push_back(row);
  };
  add(rows.begin);
  add(rows.end - 1);
  std::vector<int64_t> constants, offsets;
  for (const Slice *slice : slices) {
    Range attended = slice->attendedRows();
    for (int64_t row : {slice->qBegin, slice->qEnd - 1, slice->qEnd,
                        attended.begin, attended.end - 1, attended.end})
      add(row);
    constants.push_back(slice->kBegin);
    constants.push_back(slice->kEnd);
    if (boundsAbove(slice->kind))
      offsets.push_back(slice->kEnd - slice->qEnd + 1);
    if (boundsBelow(slice->kind))
      offsets.push_back(slice->kBegin - slice->qBegin);
  }
  // A constant bound c and a line `row + offset` cross at row c - offset.
  for (int64_t constant : constants)
    for (int64_t offset : offsets)
      for (int64_t delta : {-1, 0, 1})
        add(constant - offset + delta);
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

bool forEachNeighbourPair(const Mask &mask, size_t count,
                          const std::function<bool(size_t, size_t)> &visit) {
  std::vector<Range> rows(count);
  std::vector<size_t> starts;
  for (size_t index = 0; index < count; ++index) {
    rows[index] = mask[index].attendedRows();
    if (!rows[index].empty())
      starts.push_back(index);
  }
  std::vector<size_t> ends = starts;
  std::sort(starts.begin(), starts.end(), [&](size_t x, size_t y) {
    return std::make_pair(rows[x].begin, x) < std::make_pair(rows[y].begin, y);
  });
  std::sort(ends.begin(), ends.end(), [&](size_t x, size_t y) {
    return std::make_pair(rows[x].end, x) < std::make_pair(rows[y].end, y);
  });

  // Key order on the current row; every slice in the set attends it, and
  // disjoint slices never swap, so the order stays consistent as rows pass.
  int64_t row = 0;
  auto leftOf = [&](size_t x, size_t y) {
    int64_t keyX = mask[x].keysOfRow(row).begin;
    int64_t keyY = mask[y].keysOfRow(row).begin;
    return keyX != keyY ? keyX < keyY : x < y;
  };
  using Order = std::set<size_t, decltype(leftOf)>;
  Order order(leftOf);
  std::vector<Order::iterator> position(count);
  size_t nextStart = 0, nextEnd = 0;
  while (nextEnd < ends.size()) {
    // A slice leaves at its first unattended row, before others arrive there.
    bool leave = nextStart == starts.size() ||
                 rows[ends[nextEnd]].end <= rows[starts[nextStart]].begin;
    if (leave) {
      auto leaving = position[ends[nextEnd++]];
      auto after = std::next(leaving);
      if (leaving != order.begin() && after != order.end() &&
          visit(*std::prev(leaving), *after))
        return true;
      order.erase(leaving);
      continue;
    }
    size_t index = starts[nextStart++];
    row = rows[index].begin;
    auto arrived = order.insert(index).first;
    position[index] = arrived;
    if (arrived != order.begin() && visit(*std::prev(arrived), index))
      return true;
    if (std::next(arrived) != order.end() && visit(index, *std::next(arrived)))
      return true;
  }
  return false;
}

/// First rows of the query tiles, numQ last.
std::vector<int32_t> queryTileBegins(const Mask &mask, int64_t numQ,
                                     int64_t tileRows, QueryTiles queryTiles) {
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
      int64_t end = std::min(row + tileRows, cuts[segment + 1]);
      if (geometry::foldsIntoPrevious(row, end,
                                      begins.empty() ? -1 : begins.back(),
                                      tileRows))
        continue;
      begins.push_back(static_cast<int32_t>(row));
    }
  begins.push_back(static_cast<int32_t>(numQ));
  return begins;
}

std::optional<SliceInTile> sliceInTile(const Slice &slice, Range tileRows,
                                       int64_t numK, int64_t tileK) {
  geometry::TileMeet meet = geometry::sliceInTile(
      boundsOf(slice), {tileRows.begin, tileRows.end}, numK, tileK);
  if (!meet.attends)
    return std::nullopt;
  auto range = [](geometry::Span span) { return Range{span.begin, span.end}; };
  return SliceInTile{range(meet.rows),    range(meet.firstKeys),
                     range(meet.lastKeys), meet.kTileBegin,
                     meet.kTileEnd,        meet.coveredBegin};
}

bool forEachQueryTile(
    const Mask &mask, const std::vector<int32_t> &qTileBegins,
    const std::function<bool(int64_t, const std::vector<int32_t> &)> &visit) {
  int64_t numQTiles = static_cast<int64_t>(qTileBegins.size()) - 1;
  int64_t numQ = qTileBegins.back();
  // The slices crossing each query tile, as (first query tile, slice).
  std::vector<std::pair<int64_t, int32_t>> arrivals;
  for (size_t index = 0; index < mask.size(); ++index) {
    Range rows = mask[index].attendedRows();
    if (rows.empty() || rows.begin >= numQ || rows.end <= 0)
      continue;
    int64_t qTile = std::upper_bound(qTileBegins.begin(), qTileBegins.end(),
                                     rows.begin) -
                    qTileBegins.begin() - 1;
    arrivals.emplace_back(std::max<int64_t>(qTile, 0), int32_t(index));
  }
  std::sort(arrivals.begin(), arrivals.end());
  std::set<int32_t> crossing; // slices whose rows reach the current tile
  std::vector<int32_t> current;
  size_t nextArrival = 0;
  for (int64_t qTile = 0; qTile < numQTiles; ++qTile) {
    for (; nextArrival < arrivals.size() &&
           arrivals[nextArrival].first == qTile;
         ++nextArrival)
      crossing.insert(arrivals[nextArrival].second);
    current.assign(crossing.begin(), crossing.end());
    for (auto it = crossing.begin(); it != crossing.end();)
      it = mask[*it].attendedRows().end <= qTileBegins[qTile + 1]
               ? crossing.erase(it)
               : std::next(it);
    if (!visit(qTile, current))
      return false;
  }
  return true;
}

} // namespace fattn::mask::detail
