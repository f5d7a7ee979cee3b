//===- Elements.h - Tensors of bf16, f16 and f32 in memory ------*- C++ -*-===//
//
// The runtime keeps host tensors as float (every bf16 and f16 value is a
// float) and packs them into the element type's bits only to hand them to a
// device, so that the CPU reference and the kernels see identical inputs.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_RUNTIME_ELEMENTS_H
#define FATTN_RUNTIME_ELEMENTS_H

#include "FlashDialect/Runtime/Problem.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fattn::runtime {

/// A float's IEEE-754 bit pattern, and the float of a bit pattern: the
/// rounding and packing code works on bits.
inline uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}
inline float floatFromBits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

/// Bytes of one element: 2 for bf16 and f16, 4 for f32.
size_t elementBytes(ElementType type);

/// The values rounded to `type` (roundTo) and packed as its bit patterns,
/// little-endian as on every CUDA host.
std::vector<uint8_t> encodeElements(ElementType type, const float *values,
                                    int64_t count);

/// The inverse: `count` elements of `type` at `data` as floats (exact).
void decodeElements(ElementType type, const void *data, int64_t count,
                    float *values);

} // namespace fattn::runtime

#endif // FATTN_RUNTIME_ELEMENTS_H
