//===- ElementsTest.cpp - Tests of bf16/f16/f32 packing -------------------===//

#include "FlashDialect/Runtime/Elements.h"
#include "FlashDialect/Runtime/Reference.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace fattn::runtime;

namespace {

uint16_t bits16(const std::vector<uint8_t> &bytes, size_t index) {
  uint16_t bits;
  std::memcpy(&bits, &bytes[2 * index], 2);
  return bits;
}

TEST(ElementsTest, Sizes) {
  EXPECT_EQ(elementBytes(ElementType::F32), 4u);
  EXPECT_EQ(elementBytes(ElementType::F16), 2u);
  EXPECT_EQ(elementBytes(ElementType::BF16), 2u);
}

TEST(ElementsTest, KnownHalfBitPatterns) {
  const float values[] = {1.0f,  -2.0f, 65504.0f,        0x1p-24f, 0x1p-14f,
                          -0.0f, 0.0f,  1023 * 0x1p-24f, 1e6f,     0.333333f};
  // 1e6 overflows to infinity; 1/3 rounds to 0x3555.
  const uint16_t expected[] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400,
                               0x8000, 0x0000, 0x03ff, 0x7c00, 0x3555};
  std::vector<uint8_t> bytes =
      encodeElements(ElementType::F16, values, std::size(values));
  for (size_t i = 0; i < std::size(values); ++i)
    EXPECT_EQ(bits16(bytes, i), expected[i]) << "value " << values[i];
}

TEST(ElementsTest, KnownBFloat16BitPatterns) {
  const float values[] = {1.0f, -2.0f, 1.0f + 0x1p-9f, 1.0f + 0x1p-7f,
                          std::numeric_limits<float>::infinity()};
  // 1 + 2^-9 is below half an ulp of bf16 (2^-7) and rounds to 1.
  const uint16_t expected[] = {0x3f80, 0xc000, 0x3f80, 0x3f81, 0x7f80};
  std::vector<uint8_t> bytes =
      encodeElements(ElementType::BF16, values, std::size(values));
  for (size_t i = 0; i < std::size(values); ++i)
    EXPECT_EQ(bits16(bytes, i), expected[i]) << "value " << values[i];
}

TEST(ElementsTest, RoundTripOfRoundedValuesIsExact) {
  for (ElementType type :
       {ElementType::F32, ElementType::F16, ElementType::BF16}) {
    std::vector<float> values = randomTensor(4096, 7, type);
    // Scaled copies reach the f16 subnormals and large exponents.
    for (int i = 0; i < 4096; ++i)
      values.push_back(roundTo(type, values[i] * 1e-6f));
    for (int i = 0; i < 4096; ++i)
      values.push_back(roundTo(type, values[i] * 1e4f));
    values.push_back(std::numeric_limits<float>::infinity());
    values.push_back(-std::numeric_limits<float>::infinity());
    std::vector<uint8_t> bytes =
        encodeElements(type, values.data(), int64_t(values.size()));
    ASSERT_EQ(bytes.size(), values.size() * elementBytes(type));
    std::vector<float> decoded(values.size());
    decodeElements(type, bytes.data(), int64_t(values.size()), decoded.data());
    for (size_t i = 0; i < values.size(); ++i)
      ASSERT_EQ(decoded[i], values[i])
          << stringifyElementType(type) << " element " << i;
  }
}

TEST(ElementsTest, EncodingRoundsLikeRoundTo) {
  std::vector<float> values = randomTensor(1000, 3, ElementType::F32);
  for (ElementType type : {ElementType::F16, ElementType::BF16}) {
    std::vector<uint8_t> bytes =
        encodeElements(type, values.data(), int64_t(values.size()));
    std::vector<float> decoded(values.size());
    decodeElements(type, bytes.data(), int64_t(values.size()), decoded.data());
    for (size_t i = 0; i < values.size(); ++i)
      ASSERT_EQ(decoded[i], roundTo(type, values[i])) << i;
  }
}

TEST(ElementsTest, AllOnesPoisonDecodesAsNaN) {
  // fattn-launch poisons outputs with 0xff bytes; every type must read NaN.
  std::vector<uint8_t> bytes(16, 0xff);
  for (ElementType type :
       {ElementType::F32, ElementType::F16, ElementType::BF16}) {
    float value;
    decodeElements(type, bytes.data(), 1, &value);
    EXPECT_TRUE(std::isnan(value)) << stringifyElementType(type);
  }
}

} // namespace
