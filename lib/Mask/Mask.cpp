//===- Mask.cpp - Slices, validation, pair counting -----------------------===//

#include "FlashDialect/Mask/Mask.h"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace fattn::mask {

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

static bool boundsAbove(SliceKind kind) {
  return kind == SliceKind::Causal || kind == SliceKind::BiCausal;
}
static bool boundsBelow(SliceKind kind) {
  return kind == SliceKind::InvCausal || kind == SliceKind::BiCausal;
}

Range Slice::keysOfRow(int64_t row) const {
  if (row < qBegin || row >= qEnd)
    return {};
  int64_t lo = kBegin, hi = kEnd;
  if (boundsAbove(kind))
    hi = std::min(hi, row + (kEnd - qEnd) + 1);
  if (boundsBelow(kind))
    lo = std::max(lo, row + (kBegin - qBegin));
  if (hi <= lo)
    return {};
  return {lo, hi};
}

bool Slice::contains(int64_t row, int64_t key) const {
  Range keys = keysOfRow(row);
  return key >= keys.begin && key < keys.end;
}

int64_t Slice::countPairs() const {
  int64_t pairs = 0;
  for (int64_t row = qBegin; row < qEnd; ++row)
    pairs += keysOfRow(row).size();
  return pairs;
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
  if (begin < 0)
    return prefix + " starts below 0";
  if (end < begin)
    return prefix + " is reversed";
  if (length >= 0 && end > length)
    return prefix + " exceeds " + lengthName + " " + std::to_string(length);
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

  // Each bound of a row interval is a constant or `row + offset`; the width of
  // the intersection is piecewise linear in the row with breaks only where a
  // constant meets a line, so its maximum lies at a break or an end.
  std::vector<int64_t> constants = {a.kBegin, a.kEnd, b.kBegin, b.kEnd};
  std::vector<int64_t> offsets;
  for (const Slice *s : {&a, &b}) {
    if (boundsAbove(s->kind))
      offsets.push_back(s->kEnd - s->qEnd + 1);
    if (boundsBelow(s->kind))
      offsets.push_back(s->kBegin - s->qBegin);
  }
  std::vector<int64_t> rows = {rowBegin, rowEnd - 1};
  for (int64_t c : constants)
    for (int64_t offset : offsets)
      for (int64_t delta : {-1, 0, 1}) {
        int64_t row = c - offset + delta;
        if (row >= rowBegin && row < rowEnd)
          rows.push_back(row);
      }
  for (int64_t row : rows) {
    Range ka = a.keysOfRow(row), kb = b.keysOfRow(row);
    int64_t lo = std::max(ka.begin, kb.begin);
    int64_t hi = std::min(ka.end, kb.end);
    if (!ka.empty() && !kb.empty() && lo < hi)
      return Cell{row, lo};
  }
  return std::nullopt;
}

std::optional<Overlap> findOverlap(const Mask &mask) {
  std::vector<size_t> order(mask.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return mask[x].qBegin < mask[y].qBegin;
  });
  std::optional<Overlap> best;
  for (size_t i = 0; i < order.size(); ++i) {
    const Slice &first = mask[order[i]];
    for (size_t j = i + 1; j < order.size(); ++j) {
      const Slice &second = mask[order[j]];
      if (second.qBegin >= first.qEnd)
        break;
      size_t lo = std::min(order[i], order[j]);
      size_t hi = std::max(order[i], order[j]);
      if (best &&
          std::make_pair(lo, hi) >= std::make_pair(best->first, best->second))
        continue;
      // In index order, so that the reported cell does not depend on how
      // slices with equal qBegin happened to sort.
      if (auto cell = findSharedCell(mask[lo], mask[hi]))
        best = Overlap{lo, hi, *cell};
    }
  }
  return best;
}

std::optional<std::string> validate(const Mask &mask, int64_t numQ,
                                    int64_t numK) {
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

int64_t countAttendedPairs(const Mask &mask) {
  int64_t pairs = 0;
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
