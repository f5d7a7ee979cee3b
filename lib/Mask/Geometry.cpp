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

} // namespace fattn::mask::detail
