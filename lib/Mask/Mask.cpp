//===- Mask.cpp - Slices, validation, pair counting -----------------------===//

#include "FlashDialect/Mask/Mask.h"
#include "Geometry.h"

#include <algorithm>
#include <array>
#include <tuple>

namespace fattn::mask {

using detail::boundsAbove;
using detail::boundsBelow;

std::string formatPairCount(PairCount count) {
  if (count == 0)
    return "0";
  bool negative = count < 0;
  std::string digits;
  for (; count != 0; count /= 10) {
    int digit = static_cast<int>(count % 10);
    digits.push_back(static_cast<char>('0' + (digit < 0 ? -digit : digit)));
  }
  if (negative)
    digits.push_back('-');
  return std::string(digits.rbegin(), digits.rend());
}

std::optional<int64_t> pairCountToInt64(PairCount count) {
  if (count > INT64_MAX || count < INT64_MIN)
    return std::nullopt;
  return static_cast<int64_t>(count);
}

std::string_view stringifySliceKind(SliceKind kind) {
  switch (kind) {
  case SliceKind::Full:
    return "full";
  case SliceKind::Causal:
    return "causal";
  case SliceKind::InvCausal:
    return "inv_causal";
  case SliceKind::BiCausal:
    return "bi_causal";
  }
  return "unknown";
}

std::optional<SliceKind> symbolizeSliceKind(std::string_view name) {
  for (int64_t code = 0; code < kNumSliceKinds; ++code) {
    auto kind = static_cast<SliceKind>(code);
    if (stringifySliceKind(kind) == name)
      return kind;
  }
  return std::nullopt;
}

std::optional<SliceKind> sliceKindFromCode(int64_t code) {
  if (code < 0 || code >= kNumSliceKinds)
    return std::nullopt;
  return static_cast<SliceKind>(code);
}

Range Slice::keysOfRow(int64_t row) const {
  if (row < qBegin || row >= qEnd)
    return {};
  KeyBounds<int64_t> keys =
      rowKeys(HostRowKeys{}, kind, row, qBegin, qEnd, kBegin, kEnd);
  if (keys.end <= keys.begin)
    return {};
  return {keys.begin, keys.end};
}

bool Slice::contains(int64_t row, int64_t key) const {
  Range keys = keysOfRow(row);
  return key >= keys.begin && key < keys.end;
}

Range Slice::attendedRows() const {
  geometry::Span rows =
      geometry::attendedRows({qBegin, qEnd, kBegin, kEnd, kind});
  return rows.empty() ? Range{} : Range{rows.begin, rows.end};
}

namespace {
/// The sum over i in [0, n) of max(0, first + slope * i), slope in -1..1.
PairCount sumPositive(int64_t first, int64_t slope, int64_t n) {
  if (n <= 0)
    return 0;
  if (slope == 0)
    return first > 0 ? static_cast<PairCount>(first) * n : 0;
  int64_t terms, last;
  if (slope > 0) {
    int64_t skipped = first > 0 ? 0 : 1 - first;
    if (skipped >= n)
      return 0;
    terms = n - skipped;
    first += skipped;
    last = first + terms - 1;
  } else {
    terms = std::min(n, std::max<int64_t>(first, 0));
    last = first - terms + 1;
  }
  return (static_cast<PairCount>(first) + last) * terms / 2;
}
} // namespace

PairCount Slice::countCellsIn(Range rows, Range keys) const {
  int64_t rowBegin = std::max(rows.begin, qBegin);
  int64_t rowEnd = std::min(rows.end, qEnd);
  int64_t keyBegin = std::max(keys.begin, kBegin);
  int64_t keyEnd = std::min(keys.end, kEnd);
  if (rowBegin >= rowEnd || keyBegin >= keyEnd)
    return 0;
  // Clipped to the box, a line bound gives way to the box edge at one row;
  // between those rows the width is linear, and sums in closed form.
  auto low = [&](int64_t row) {
    return boundsBelow(kind) ? std::max(keyBegin, kBegin + (row - qBegin))
                             : keyBegin;
  };
  auto high = [&](int64_t row) {
    return boundsAbove(kind) ? std::min(keyEnd, kEnd - (qEnd - 1 - row))
                             : keyEnd;
  };
  std::array<int64_t, 4> cuts = {rowBegin, rowEnd, rowBegin, rowBegin};
  if (boundsBelow(kind))
    cuts[2] = std::clamp(qBegin + (keyBegin - kBegin), rowBegin, rowEnd);
  if (boundsAbove(kind))
    cuts[3] = std::clamp(qEnd - (kEnd - keyEnd), rowBegin, rowEnd);
  std::sort(cuts.begin(), cuts.end());
  PairCount cells = 0;
  for (size_t piece = 0; piece + 1 < cuts.size(); ++piece) {
    int64_t first = cuts[piece], rowsInPiece = cuts[piece + 1] - first;
    if (rowsInPiece <= 0)
      continue;
    int64_t width = high(first) - low(first);
    int64_t slope =
        rowsInPiece > 1 ? high(first + 1) - low(first + 1) - width : 0;
    cells += sumPositive(width, slope, rowsInPiece);
  }
  return cells;
}

PairCount Slice::countPairs() const {
  return countCellsIn(qRange(), kRange());
}

std::string formatSlice(const Slice &slice) {
  std::string text(stringifySliceKind(slice.kind));
  text += " [" + std::to_string(slice.qBegin) + ":" +
          std::to_string(slice.qEnd) + ", " + std::to_string(slice.kBegin) +
          ":" + std::to_string(slice.kEnd) + "]";
  return text;
}

static std::string formatRange(int64_t begin, int64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

static std::optional<std::string> checkRange(const char *axis, int64_t begin,
                                             int64_t end, int64_t length,
                                             const char *lengthName) {
  std::string prefix = std::string(axis) + " range " + formatRange(begin, end);
  switch (geometry::rangeProblem(begin, end, length)) {
  case geometry::RangeProblem::None:
    return std::nullopt;
  case geometry::RangeProblem::BelowZero:
    return prefix + " starts below 0";
  case geometry::RangeProblem::Reversed:
    return prefix + " is reversed";
  case geometry::RangeProblem::PastLength:
    return prefix + " exceeds " + lengthName + " " + std::to_string(length);
  case geometry::RangeProblem::PastMaxIndex:
    return prefix + " exceeds the largest index a mask may hold, 2^62";
  }
  return std::nullopt;
}

std::optional<std::string> checkSlice(const Slice &slice, int64_t numQ,
                                      int64_t numK) {
  if (!sliceKindFromCode(static_cast<int64_t>(slice.kind)))
    return "unknown slice kind " +
           std::to_string(static_cast<int64_t>(slice.kind));
  if (auto error =
          checkRange("q", slice.qBegin, slice.qEnd, numQ, "query length"))
    return error;
  return checkRange("k", slice.kBegin, slice.kEnd, numK, "key length");
}

std::optional<Cell> findSharedCell(const Slice &a, const Slice &b) {
  int64_t rowBegin = std::max(a.qBegin, b.qBegin);
  int64_t rowEnd = std::min(a.qEnd, b.qEnd);
  if (rowBegin >= rowEnd ||
      std::max(a.kBegin, b.kBegin) >= std::min(a.kEnd, b.kEnd))
    return std::nullopt;

  // The width of the intersection is linear between break rows, so its
  // maximum lies at one of them.
  for (int64_t row : detail::breakRows({&a, &b}, {rowBegin, rowEnd})) {
    Range ka = a.keysOfRow(row), kb = b.keysOfRow(row);
    int64_t lo = std::max(ka.begin, kb.begin);
    int64_t hi = std::min(ka.end, kb.end);
    if (!ka.empty() && !kb.empty() && lo < hi)
      return Cell{row, lo};
  }
  return std::nullopt;
}

/// Whether two of the first `count` slices share a cell.
static bool overlapAmongFirst(const Mask &mask, size_t count) {
  return detail::forEachNeighbourPair(mask, count, [&](size_t x, size_t y) {
    return findSharedCell(mask[x], mask[y]).has_value();
  });
}

std::optional<Overlap> findOverlap(const Mask &mask) {
  if (!overlapAmongFirst(mask, mask.size()))
    return std::nullopt;
  // The shortest prefix with an overlap ends at the first slice overlapping
  // an earlier one.
  size_t without = 1, with = mask.size();
  while (with - without > 1) {
    size_t middle = without + (with - without) / 2;
    (overlapAmongFirst(mask, middle) ? with : without) = middle;
  }
  size_t second = with - 1;
  for (size_t first = 0; first < second; ++first)
    if (std::optional<Cell> cell = findSharedCell(mask[first], mask[second]))
      return Overlap{first, second, *cell};
  return std::nullopt;
}

std::optional<std::string> validate(const Mask &mask, int64_t numQ,
                                    int64_t numK) {
  for (auto [name, length] : {std::pair{"query", numQ}, {"key", numK}})
    if (length > kMaxIndex)
      return std::string(name) + " length " + std::to_string(length) +
             " exceeds the largest a mask may describe, 2^62";
  for (size_t i = 0; i < mask.size(); ++i)
    if (auto error = checkSlice(mask[i], numQ, numK))
      return "slice " + std::to_string(i) + ": " + *error;
  if (auto overlap = findOverlap(mask))
    return "slices " + std::to_string(overlap->first) + " and " +
           std::to_string(overlap->second) + " both attend (q " +
           std::to_string(overlap->cell.row) + ", k " +
           std::to_string(overlap->cell.key) + ")";
  return std::nullopt;
}

std::optional<Mask> maskFromRanges(const int32_t *qRanges,
                                   const int32_t *kRanges,
                                   const int32_t *kinds, int64_t count,
                                   int64_t numQ, int64_t numK,
                                   std::string *error) {
  auto fail = [&](std::string message) -> std::optional<Mask> {
    if (error)
      *error = std::move(message);
    return std::nullopt;
  };
  if (count < 0)
    return fail("slice count " + std::to_string(count) + " is negative");
  // Before anything is sized by it: no schedule holds more slices.
  if (count > kMaxTileMapEntries)
    return fail("slice count " + std::to_string(count) + " exceeds " +
                std::to_string(kMaxTileMapEntries));
  if (count > 0 && (!qRanges || !kRanges))
    return fail("q_ranges and k_ranges must be given for " +
                std::to_string(count) + " slices");
  Mask mask;
  mask.reserve(count);
  for (int64_t i = 0; i < count; ++i) {
    int64_t code = kinds ? kinds[i] : 0;
    std::optional<SliceKind> kind = sliceKindFromCode(code);
    if (!kind)
      return fail("slice " + std::to_string(i) + ": kind " +
                  std::to_string(code) +
                  " is not one of 0 (full), 1 (causal), 2 (inv_causal), 3 "
                  "(bi_causal)");
    Slice slice{qRanges[2 * i], qRanges[2 * i + 1], kRanges[2 * i],
                kRanges[2 * i + 1], *kind};
    if (std::optional<std::string> problem = checkSlice(slice, numQ, numK))
      return fail("slice " + std::to_string(i) + ": " + *problem);
    mask.push_back(slice);
  }
  return mask;
}

MaskRanges rangesOfMask(const Mask &mask) {
  MaskRanges ranges;
  for (const Slice &slice : mask) {
    ranges.qRanges.insert(ranges.qRanges.end(),
                          {int32_t(slice.qBegin), int32_t(slice.qEnd)});
    ranges.kRanges.insert(ranges.kRanges.end(),
                          {int32_t(slice.kBegin), int32_t(slice.kEnd)});
    ranges.kinds.push_back(static_cast<int32_t>(slice.kind));
  }
  return ranges;
}

PairCount countAttendedPairs(const Mask &mask) {
  PairCount pairs = 0;
  for (const Slice &slice : mask)
    pairs += slice.countPairs();
  return pairs;
}

/// Each row's attended keys as maximal intervals, ordered by (row, begin):
/// equal lists mean equal attended sets.
static std::vector<std::tuple<int64_t, int64_t, int64_t>>
attendedIntervals(const Mask &mask) {
  std::vector<std::tuple<int64_t, int64_t, int64_t>> intervals;
  for (const Slice &slice : mask)
    for (int64_t row = slice.qBegin; row < slice.qEnd; ++row) {
      Range keys = slice.keysOfRow(row);
      if (!keys.empty())
        intervals.emplace_back(row, keys.begin, keys.end);
    }
  std::sort(intervals.begin(), intervals.end());
  std::vector<std::tuple<int64_t, int64_t, int64_t>> merged;
  for (const auto &interval : intervals) {
    if (!merged.empty() && std::get<0>(merged.back()) == std::get<0>(interval) &&
        std::get<2>(merged.back()) == std::get<1>(interval))
      std::get<2>(merged.back()) = std::get<2>(interval);
    else
      merged.push_back(interval);
  }
  return merged;
}

bool sameAttendedPairs(const Mask &a, const Mask &b) {
  // Cheap test first: different pair counts cannot be the same set.
  return countAttendedPairs(a) == countAttendedPairs(b) &&
         attendedIntervals(a) == attendedIntervals(b);
}

} // namespace fattn::mask
