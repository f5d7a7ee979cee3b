//===- Builders.cpp - Masks of the common attention patterns --------------===//
//
// Sliding windows, varlen batches, block-causal, shared-question and random
// banded masks as slices. Builders never emit a slice with an empty range, and every mask
// they return passes validate().
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Mask/Mask.h"

#include <algorithm>
#include <random>
#include <set>

namespace fattn::mask {
namespace {

std::nullopt_t fail(std::string *error, std::string message) {
  if (error)
    *error = std::move(message);
  return std::nullopt;
}

std::string negativeLength(const char *what, int64_t value) {
  return std::string(what) + " must be >= 0, got " + std::to_string(value);
}

/// Checks one cu_seqlens array: non-empty, starting at 0, non-decreasing.
std::optional<std::string> checkCuSeqlens(const std::vector<int64_t> &cu,
                                          const char *name) {
  if (cu.empty())
    return std::string(name) + " is empty; it needs at least the leading 0";
  if (cu[0] != 0)
    return std::string(name) + "[0] = " + std::to_string(cu[0]) +
           ", expected 0";
  for (size_t b = 1; b < cu.size(); ++b)
    if (cu[b] < cu[b - 1])
      return std::string(name) + "[" + std::to_string(b) +
             "] = " + std::to_string(cu[b]) + " is less than " + name + "[" +
             std::to_string(b - 1) + "] = " + std::to_string(cu[b - 1]);
  return std::nullopt;
}

} // namespace

Mask fullMask(int64_t numQ, int64_t numK) {
  if (numQ <= 0 || numK <= 0)
    return {};
  return {Slice{0, numQ, 0, numK, SliceKind::Full}};
}

Mask causalMask(int64_t numQ, int64_t numK) {
  if (numQ <= 0 || numK <= 0)
    return {};
  return {Slice{0, numQ, 0, numK, SliceKind::Causal}};
}

std::optional<Mask> slidingWindowMask(int64_t numQ, int64_t numK, int64_t left,
                                      int64_t right, std::string *error) {
  if (numQ < 0)
    return fail(error, negativeLength("query length", numQ));
  if (numK < 0)
    return fail(error, negativeLength("key length", numK));
  if (left < -1)
    return fail(error, "window_size_left = " + std::to_string(left) +
                           " is invalid: use -1 (unbounded) or a size >= 0");
  if (right < -1)
    return fail(error, "window_size_right = " + std::to_string(right) +
                           " is invalid: use -1 (unbounded) or a size >= 0");
  Mask mask;
  if (numQ == 0 || numK == 0)
    return mask;

  // A window reaching past both sequences is the same as no bound; capping
  // both sides there also keeps the arithmetic below from overflowing.
  int64_t reach = numQ + numK;
  left = left < 0 ? reach : std::min(left, reach);
  right = right < 0 ? reach : std::min(right, reach);
  int64_t diagonal = numK - numQ;
  // Row `row` attends [lowKey(row), highKey(row)) clipped to [0, numK).
  auto lowKey = [&](int64_t row) { return row + diagonal - left; };
  auto highKey = [&](int64_t row) { return row + diagonal + right + 1; };
  // Rows before firstRow end their window before key 0; no row starts it at
  // or past numK because left >= 0, so the rows from firstRow on all attend
  // something.
  int64_t firstRow = std::clamp(-diagonal - right, int64_t(0), numQ);

  // Each bound of a row is either clipped (the constant 0 or numK) or moving
  // with the row; where the moving bound meets the clip exactly, it is both.
  // A slice kind is one choice of shape per bound (full: both clipped, causal:
  // upper moving, inv_causal: lower moving, bi_causal: both moving), so the
  // slices are runs of rows sharing a shape. Each shape holds on a prefix or a
  // suffix of the rows, which makes the greedy longest run optimal.
  int64_t lowerClippedEnd = left - diagonal + 1; // lowKey(row) <= 0 before
  int64_t lowerMovingBegin = left - diagonal;    // lowKey(row) >= 0 from
  int64_t upperMovingEnd = numQ - right;         // highKey(row) <= numK before
  int64_t upperClippedBegin = numQ - right - 1;  // highKey(row) >= numK from
  for (int64_t row = firstRow; row < numQ;) {
    int64_t runEnd = row;
    bool runLowerClipped = false, runUpperClipped = false;
    for (bool lowerClipped : {true, false}) {
      for (bool upperClipped : {true, false}) {
        bool holds =
            (lowerClipped ? row < lowerClippedEnd : row >= lowerMovingBegin) &&
            (upperClipped ? row >= upperClippedBegin : row < upperMovingEnd);
        int64_t end = std::min({lowerClipped ? lowerClippedEnd : numQ,
                                upperClipped ? numQ : upperMovingEnd, numQ});
        if (holds && end > runEnd) {
          runEnd = end;
          runLowerClipped = lowerClipped;
          runUpperClipped = upperClipped;
        }
      }
    }
    Slice slice{row, runEnd, runLowerClipped ? 0 : lowKey(row),
                runUpperClipped ? numK : highKey(runEnd - 1), SliceKind::Full};
    // One row is a full slice whatever the shape of its bounds.
    if (runEnd - row > 1) {
      if (runLowerClipped && !runUpperClipped)
        slice.kind = SliceKind::Causal;
      else if (!runLowerClipped && runUpperClipped)
        slice.kind = SliceKind::InvCausal;
      else if (!runLowerClipped && !runUpperClipped)
        slice.kind = SliceKind::BiCausal;
    }
    mask.push_back(slice);
    row = runEnd;
  }
  return mask;
}

std::optional<Mask> varlenMask(const std::vector<int64_t> &cuSeqlensQ,
                               const std::vector<int64_t> &cuSeqlensK,
                               bool causal, std::string *error) {
  if (auto problem = checkCuSeqlens(cuSeqlensQ, "cu_seqlens_q"))
    return fail(error, *problem);
  if (auto problem = checkCuSeqlens(cuSeqlensK, "cu_seqlens_k"))
    return fail(error, *problem);
  if (cuSeqlensQ.size() != cuSeqlensK.size())
    return fail(error, "cu_seqlens_q has " + std::to_string(cuSeqlensQ.size()) +
                           " entries but cu_seqlens_k has " +
                           std::to_string(cuSeqlensK.size()));
  Mask mask;
  for (size_t b = 0; b + 1 < cuSeqlensQ.size(); ++b) {
    Slice slice{cuSeqlensQ[b], cuSeqlensQ[b + 1], cuSeqlensK[b],
                cuSeqlensK[b + 1],
                causal ? SliceKind::Causal : SliceKind::Full};
    if (!slice.qRange().empty() && !slice.kRange().empty())
      mask.push_back(slice);
  }
  return mask;
}

std::optional<Mask> blockCausalMask(int64_t numTokens, int64_t blockSize,
                                    std::string *error) {
  if (blockSize <= 0)
    return fail(error,
                "block size must be > 0, got " + std::to_string(blockSize));
  if (numTokens < 0)
    return fail(error, negativeLength("number of tokens", numTokens));
  Mask mask;
  for (int64_t begin = 0; begin < numTokens; begin += blockSize) {
    int64_t end = std::min(begin + blockSize, numTokens);
    if (begin > 0)
      mask.push_back({begin, end, 0, begin, SliceKind::Full});
    mask.push_back({begin, end, begin, end, SliceKind::Full});
  }
  return mask;
}

std::optional<Mask> sharedQuestionMask(int64_t questionLen,
                                       const std::vector<int64_t> &answerLens,
                                       std::string *error) {
  if (questionLen < 0)
    return fail(error, negativeLength("question length", questionLen));
  for (size_t a = 0; a < answerLens.size(); ++a)
    if (answerLens[a] < 0)
      return fail(error, "answer_lens[" + std::to_string(a) + "] = " +
                             std::to_string(answerLens[a]) + " is negative");
  Mask mask;
  if (questionLen > 0)
    mask.push_back({0, questionLen, 0, questionLen, SliceKind::Causal});
  int64_t begin = questionLen;
  for (int64_t length : answerLens) {
    int64_t end = begin + length;
    if (length > 0) {
      if (questionLen > 0)
        mask.push_back({begin, end, 0, questionLen, SliceKind::Full});
      mask.push_back({begin, end, begin, end, SliceKind::Causal});
    }
    begin = end;
  }
  return mask;
}

std::optional<Mask> randomBandsMask(int64_t numTokens, int64_t numSlices,
                                    uint64_t seed, std::string *error) {
  constexpr int64_t kPerBand = 4;
  if (numTokens < 0)
    return fail(error, negativeLength("number of tokens", numTokens));
  if (numSlices < 0)
    return fail(error, "number of slices must be >= 0, got " +
                           std::to_string(numSlices));
  int64_t bands = (numSlices + kPerBand - 1) / kPerBand;
  if (bands > numTokens || (numSlices > 0 && numTokens < 2 * kPerBand))
    return fail(error, std::to_string(numSlices) + " slices need at least " +
                           std::to_string(std::max(bands, 2 * kPerBand)) +
                           " tokens (a query row for every " +
                           std::to_string(kPerBand) +
                           " slices), got " + std::to_string(numTokens));
  // The engine's raw output, reduced by hand: distributions differ between
  // standard libraries, and a seed must name one mask everywhere.
  std::mt19937_64 rng(seed);
  auto below = [&](int64_t bound) { return int64_t(rng() % uint64_t(bound)); };
  Mask mask;
  for (int64_t band = 0; band < bands; ++band) {
    int64_t qBegin = numTokens * band / bands;
    int64_t qEnd = numTokens * (band + 1) / bands;
    int64_t count = std::min(kPerBand, numSlices - band * kPerBand);
    std::set<int64_t> cuts;
    while (int64_t(cuts.size()) < 2 * count)
      cuts.insert(below(numTokens + 1));
    for (auto cut = cuts.begin(); cut != cuts.end(); std::advance(cut, 2)) {
      int64_t kBegin = *cut, kEnd = *std::next(cut);
      auto kind = static_cast<SliceKind>(below(4));
      // A bi-causal slice taller than wide attends nothing.
      if (kind == SliceKind::BiCausal && kEnd - kBegin < qEnd - qBegin)
        kind = SliceKind::Causal;
      mask.push_back({qBegin, qEnd, kBegin, kEnd, kind});
    }
  }
  return mask;
}

} // namespace fattn::mask
