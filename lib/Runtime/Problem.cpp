//===- Problem.cpp - Element types, shapes and their checks ---------------===//

#include "FlashDialect/Runtime/Problem.h"
#include "FlashDialect/Limits.h"
#include "FlashDialect/Runtime/Elements.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <cstdio>
#include <cstring>

namespace fattn::runtime {

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

std::string_view stringifyElementType(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "f32";
  case ElementType::F16:
    return "f16";
  case ElementType::BF16:
    return "bf16";
  }
  return "unknown";
}

std::optional<ElementType> parseElementType(std::string_view name) {
  if (name == "f32" || name == "fp32" || name == "float32")
    return ElementType::F32;
  if (name == "f16" || name == "fp16" || name == "float16")
    return ElementType::F16;
  if (name == "bf16" || name == "bfloat16")
    return ElementType::BF16;
  return std::nullopt;
}

/// Rounds away the low `droppedBits` of the bit pattern, ties to even. On a
/// float's bit pattern this is round-to-nearest-even of the value whenever the
/// target format shares float's exponent range: a mantissa carry moves into
/// the exponent, and the largest finite values carry into infinity.
static uint32_t roundBitsToEven(uint32_t bits, int droppedBits) {
  uint32_t half = (1u << (droppedBits - 1)) - 1;
  uint32_t lowestKept = (bits >> droppedBits) & 1u;
  bits += half + lowestKept;
  return bits & ~((1u << droppedBits) - 1);
}

static float roundToBFloat16(float value) {
  uint32_t bits = floatBits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    // Keep it a NaN after truncation: set the quiet bit, which bf16 keeps.
    return floatFromBits((bits | 0x00400000u) & 0xffff0000u);
  return floatFromBits(roundBitsToEven(bits, 16));
}

static float roundToFloat16(float value) {
  uint32_t bits = floatBits(value);
  uint32_t sign = bits & 0x80000000u;
  uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude >= 0x7f800000u)
    return value; // infinities and NaNs are representable as they are

  constexpr uint32_t kMinNormalHalf = 0x38800000u; // 2^-14
  constexpr uint32_t kHalfOverflow = 0x47800000u;  // 2^16: past 65504
  if (magnitude >= kMinNormalHalf) {
    // fp16 keeps 10 of float's 23 mantissa bits in this range.
    uint32_t rounded = roundBitsToEven(magnitude, 13);
    if (rounded >= kHalfOverflow)
      rounded = 0x7f800000u;
    return floatFromBits(sign | rounded);
  }

  // Subnormal fp16: multiples of 2^-24. Float subnormals lie far below half
  // of that quantum and round to zero.
  uint32_t exponent = magnitude >> 23;
  if (exponent == 0)
    return floatFromBits(sign);
  uint32_t mantissa = (magnitude & 0x007fffffu) | 0x00800000u;
  // value = mantissa * 2^(exponent - 150), so in units of 2^-24 it is
  // mantissa >> (126 - exponent).
  uint32_t shift = 126 - exponent; // >= 14 here
  uint32_t units = 0;
  if (shift < 32) {
    units = mantissa >> shift;
    uint32_t remainder = mantissa & ((1u << shift) - 1);
    uint32_t halfUnit = 1u << (shift - 1);
    if (remainder > halfUnit || (remainder == halfUnit && (units & 1u)))
      ++units;
  }
  // units <= 1024 and the scale is a power of two: the product is exact.
  return floatFromBits(sign | floatBits(float(units) * 0x1p-24f));
}

float roundTo(ElementType type, float value) {
  switch (type) {
  case ElementType::F32:
    return value;
  case ElementType::F16:
    return roundToFloat16(value);
  case ElementType::BF16:
    return roundToBFloat16(value);
  }
  return value;
}

//===----------------------------------------------------------------------===//
// Shapes and parameters
//===----------------------------------------------------------------------===//

double AttentionParams::effectiveScale(const AttentionShape &shape) const {
  if (scale != 0)
    return scale;
  return 1.0 / std::sqrt(double(shape.headDim));
}

std::optional<std::string> checkShape(const AttentionShape &shape) {
  struct NamedSize {
    const char *name;
    int64_t value;
  };
  for (NamedSize size : {NamedSize{"query length", shape.numQ},
                         NamedSize{"key length", shape.numK},
                         NamedSize{"query heads", shape.headsQ},
                         NamedSize{"key/value heads", shape.headsK},
                         NamedSize{"head dim", shape.headDim}})
    if (size.value <= 0)
      return std::string(size.name) + " must be positive, got " +
             std::to_string(size.value);
  for (NamedSize size : {NamedSize{"query length", shape.numQ},
                         NamedSize{"key length", shape.numK}})
    if (size.value > limits::kMaxTokens)
      return std::string(size.name) + " " + std::to_string(size.value) +
             " exceeds " + std::to_string(limits::kMaxTokens) +
             " (2^31 - 1), the most tokens the kernels index";
  for (NamedSize size : {NamedSize{"query heads", shape.headsQ},
                         NamedSize{"key/value heads", shape.headsK}})
    if (size.value > limits::kMaxHeads)
      return std::string(size.name) + " " + std::to_string(size.value) +
             " exceeds the limit of " + std::to_string(limits::kMaxHeads);
  if (shape.headsQ % shape.headsK != 0)
    return "query heads " + std::to_string(shape.headsQ) +
           " is not a multiple of key/value heads " +
           std::to_string(shape.headsK);
  // Tokens and heads are bounded, so only the head dim can push a tensor
  // past the limit; the quotient avoids the overflowing product.
  for (NamedSize size : {NamedSize{"query", shape.numQ * shape.headsQ},
                         NamedSize{"key/value", shape.numK * shape.headsK}})
    if (shape.headDim > limits::kMaxTensorElements / size.value)
      return std::string(size.name) + " tensors of " +
             std::to_string(size.value) + " x " +
             std::to_string(shape.headDim) +
             " elements exceed 2^40 elements, more than any device holds";
  return std::nullopt;
}

static std::string formatNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

std::optional<std::string> checkCallTokens(const AttentionShape &compiled,
                                           int64_t numQ, int64_t numK) {
  const std::pair<int64_t, int64_t> counts[] = {{compiled.numQ, numQ},
                                                {compiled.numK, numK}};
  const char *const names[] = {"query", "key"};
  for (int i = 0; i < 2; ++i)
    if (counts[i].first != kDynamicExtent && counts[i].first != counts[i].second)
      return "compiled for " + std::to_string(counts[i].first) + " " +
             names[i] + " tokens; the call has " +
             std::to_string(counts[i].second);
  return std::nullopt;
}

std::optional<std::string> checkCall(const AttentionShape &compiled,
                                     const AttentionParams &compiledParams,
                                     const AttentionShape &call,
                                     const AttentionParams &callParams) {
  // A call may have no tokens (token counts are validated with its mask).
  AttentionShape sized = call;
  sized.numQ = call.numQ == 0 ? 1 : call.numQ;
  sized.numK = call.numK == 0 ? 1 : call.numK;
  if (std::optional<std::string> problem = checkShape(sized))
    return "given an invalid call: " + *problem;
  if (std::optional<std::string> problem = checkParams(callParams))
    return "given an invalid call: " + *problem;
  if (std::optional<std::string> tokens =
          checkCallTokens(compiled, call.numQ, call.numK))
    return tokens;
  const std::tuple<int64_t, int64_t, const char *> counts[] = {
      {compiled.headsQ, call.headsQ, " query heads"},
      {compiled.headsK, call.headsK, " key/value heads"},
      {compiled.headDim, call.headDim, " as head dim"}};
  for (auto [fixed, given, what] : counts)
    if (fixed != kDynamicExtent && fixed != given)
      return "compiled for " + std::to_string(fixed) + what +
             "; the call has " + std::to_string(given);
  // Fixed values are the kernel's f32 constants: a call within f32's
  // precision of them computes the same attention.
  auto differ = [](double a, double b) {
    return std::abs(a - b) > 1e-6 * std::max(std::abs(a), std::abs(b));
  };
  double scale = callParams.effectiveScale(call);
  if (compiledParams.scale != kCallParam &&
      differ(compiledParams.effectiveScale(compiled), scale))
    return "compiled for scale " +
           formatNumber(compiledParams.effectiveScale(compiled)) +
           "; the call has " + formatNumber(scale);
  // What the kernel receives is the f32 value: one that narrows to 0 (or
  // below f32's normal range) would divide by zero in it.
  auto narrows = [](double value) {
    return value > 0 && !std::isnormal(float(value));
  };
  if ((compiledParams.scale == kCallParam && narrows(scale)) ||
      (compiledParams.softcap == kCallParam && narrows(callParams.softcap)))
    return "given an invalid call: scale " + formatNumber(scale) +
           " and softcap " + formatNumber(callParams.softcap) +
           " must be normal f32 numbers, the kernel's argument type";
  double cap = compiledParams.softcap, given = callParams.softcap;
  if (cap == kCallParam && given == 0)
    return std::string("compiled with a softcap; the call has none (use a "
                       "kernel without one)");
  if (cap != kCallParam && differ(cap, given))
    return (cap == 0 ? std::string("compiled without a softcap")
                     : "compiled for softcap " + formatNumber(cap)) +
           "; the call has " +
           (given == 0 ? std::string("none") : formatNumber(given));
  return std::nullopt;
}

std::optional<std::string> checkParams(const AttentionParams &params) {
  for (auto [name, value] :
       {std::pair{"scale", params.scale}, {"softcap", params.softcap}})
    if (!(value == 0 ||
          (std::isfinite(value) && value > 0 && value <= limits::kMaxScoreScale)))
      return std::string(name) + " " + formatNumber(value) +
             " must be 0 (the default) or in (0, 2^64]: finite, positive and "
             "small enough that fp32 scores stay finite";
  return std::nullopt;
}

} // namespace fattn::runtime
