//===- Elements.cpp - Packing bf16, f16 and f32 tensors -------------------===//

#include "FlashDialect/Runtime/Elements.h"

#include <cstring>

namespace fattn::runtime {

namespace {

/// Bits of a float that is exactly representable in binary16 (roundTo has
/// made it so), which keeps this a repacking rather than a second rounding.
uint16_t packHalf(float value) {
  uint32_t bits = floatBits(value);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000u);
  uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u)
    return sign | 0x7e00u; // quiet NaN
  if (magnitude == 0x7f800000u)
    return sign | 0x7c00u;
  if (magnitude == 0)
    return sign;
  int exponent = int(magnitude >> 23) - 127;
  if (exponent >= -14)
    return sign | uint16_t((exponent + 15) << 10) |
           uint16_t((magnitude & 0x007fffffu) >> 13);
  // Subnormal: an exact multiple of 2^-24 below 2^-14.
  return sign | uint16_t(floatFromBits(magnitude) * 0x1p24f);
}

float unpackHalf(uint16_t bits) {
  uint32_t sign = uint32_t(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0x1f)
    return floatFromBits(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    float magnitude = float(mantissa) * 0x1p-24f; // exact
    return floatFromBits(sign | floatBits(magnitude));
  }
  return floatFromBits(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

} // namespace

size_t elementBytes(ElementType type) {
  return type == ElementType::F32 ? 4 : 2;
}

std::vector<uint8_t> encodeElements(ElementType type, const float *values,
                                    int64_t count) {
  std::vector<uint8_t> bytes(size_t(count) * elementBytes(type));
  for (int64_t i = 0; i < count; ++i) {
    float value = roundTo(type, values[i]);
    switch (type) {
    case ElementType::F32:
      std::memcpy(&bytes[4 * i], &value, 4);
      break;
    case ElementType::BF16: {
      // bf16 is the upper half of a float whose lower half roundTo cleared.
      uint16_t bits = uint16_t(floatBits(value) >> 16);
      std::memcpy(&bytes[2 * i], &bits, 2);
      break;
    }
    case ElementType::F16: {
      uint16_t bits = packHalf(value);
      std::memcpy(&bytes[2 * i], &bits, 2);
      break;
    }
    }
  }
  return bytes;
}

void decodeElements(ElementType type, const void *data, int64_t count,
                    float *values) {
  const uint8_t *bytes = static_cast<const uint8_t *>(data);
  for (int64_t i = 0; i < count; ++i) {
    switch (type) {
    case ElementType::F32:
      std::memcpy(&values[i], &bytes[4 * i], 4);
      break;
    case ElementType::BF16: {
      uint16_t bits;
      std::memcpy(&bits, &bytes[2 * i], 2);
      values[i] = floatFromBits(uint32_t(bits) << 16);
      break;
    }
    case ElementType::F16: {
      uint16_t bits;
      std::memcpy(&bits, &bytes[2 * i], 2);
      values[i] = unpackHalf(bits);
      break;
    }
    }
  }
}

} // namespace fattn::runtime
