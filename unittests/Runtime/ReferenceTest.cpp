//===- ReferenceTest.cpp - Tests of the fp64 and naive attentions ---------===//
//
// The reference is checked against a second, deliberately dumb attention
// written here: a dense boolean mask filled cell by cell from the docs/spec.md
// §1 formulas (not through Slice::keysOfRow) and a long double softmax.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Runtime/Reference.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

using namespace fattn;
using namespace fattn::runtime;
using mask::Mask;
using mask::Slice;
using mask::SliceKind;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

//===----------------------------------------------------------------------===//
// roundTo
//===----------------------------------------------------------------------===//

float floatFromBits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

uint32_t bitsFromFloat(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

/// Decodes an IEEE binary16 pattern arithmetically, independently of the
/// bit tricks used by roundTo.
double decodeHalf(uint16_t bits) {
  int sign = bits >> 15, exponent = (bits >> 10) & 0x1f,
      mantissa = bits & 0x3ff;
  double magnitude;
  if (exponent == 0x1f)
    magnitude = mantissa ? std::numeric_limits<double>::quiet_NaN() : kInf;
  else if (exponent == 0)
    magnitude = std::ldexp(double(mantissa), -24);
  else
    magnitude = std::ldexp(double(1024 + mantissa), exponent - 25);
  return sign ? -magnitude : magnitude;
}

TEST(RoundToTest, Float16KnownValues) {
  auto f16 = [](float value) { return roundTo(ElementType::F16, value); };
  EXPECT_EQ(f16(65504.0f), 65504.0f);
  EXPECT_EQ(f16(65519.0f), 65504.0f);
  EXPECT_EQ(f16(65520.0f), float(kInf)); // tie goes to the even "65536"
  EXPECT_EQ(f16(1e6f), float(kInf));
  EXPECT_EQ(f16(-1e6f), -float(kInf));
  EXPECT_EQ(f16(0x1p-24f), 0x1p-24f); // smallest subnormal
  EXPECT_EQ(f16(0x1p-25f), 0.0f);     // tie between 0 and 2^-24: even is 0
  EXPECT_EQ(f16(0x1.0002p-25f), 0x1p-24f);
  EXPECT_EQ(f16(0x1p-26f), 0.0f);
  EXPECT_EQ(f16(3 * 0x1p-25f), 0x1p-23f);           // 1.5 units -> 2
  EXPECT_EQ(f16(5 * 0x1p-25f), 0x1p-23f);           // 2.5 units -> 2
  EXPECT_EQ(f16(1023 * 0x1p-24f), 1023 * 0x1p-24f); // largest subnormal
  EXPECT_EQ(f16(1023.5f * 0x1p-24f), 0x1p-14f);     // rounds up to normal
  EXPECT_EQ(f16(0x1p-14f), 0x1p-14f);
  EXPECT_EQ(f16(1.0f + 0x1p-11f), 1.0f);               // tie, even
  EXPECT_EQ(f16(1.0f + 3 * 0x1p-11f), 1.0f + 0x1p-9f); // tie, even
  EXPECT_EQ(f16(1.0f + 0x1p-11f + 0x1p-20f), 1.0f + 0x1p-10f);
  EXPECT_EQ(f16(0.1f), float(decodeHalf(0x2e66)));
  EXPECT_EQ(f16(-2.0f), -2.0f);
  EXPECT_EQ(f16(float(kInf)), float(kInf));
  EXPECT_TRUE(std::isnan(f16(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(std::signbit(f16(-0.0f)));
  EXPECT_TRUE(std::signbit(f16(-0x1p-30f)));
  EXPECT_EQ(f16(1e-40f), 0.0f); // float subnormal
}

TEST(RoundToTest, Float16AllValuesAndMidpoints) {
  // Every finite binary16 value is a fixed point, and between neighbours the
  // midpoint goes to the even one while anything off the midpoint goes to
  // the nearer one.
  for (uint32_t bits = 0; bits < 0x7c00; ++bits) {
    float low = float(decodeHalf(uint16_t(bits)));
    float high = float(decodeHalf(uint16_t(bits + 1))); // 0x7c00 is inf
    ASSERT_EQ(roundTo(ElementType::F16, low), low) << bits;
    ASSERT_EQ(roundTo(ElementType::F16, -low), -low) << bits;
    double highForMidpoint =
        bits + 1 == 0x7c00 ? 65536.0 : decodeHalf(uint16_t(bits + 1));
    float midpoint = float((double(low) + highForMidpoint) / 2);
    float even = (bits & 1) ? high : low;
    ASSERT_EQ(roundTo(ElementType::F16, midpoint), even) << bits;
    ASSERT_EQ(roundTo(ElementType::F16, -midpoint), -even) << bits;
    ASSERT_EQ(roundTo(ElementType::F16, std::nextafter(midpoint, 0.0f)), low)
        << bits;
    ASSERT_EQ(roundTo(ElementType::F16, std::nextafter(midpoint, float(kInf))),
              high)
        << bits;
  }
}

TEST(RoundToTest, BFloat16KnownValues) {
  auto bf16 = [](float value) { return roundTo(ElementType::BF16, value); };
  EXPECT_EQ(bf16(1.0f + 0x1p-8f), 1.0f);               // tie, even
  EXPECT_EQ(bf16(1.0f + 3 * 0x1p-8f), 1.0f + 0x1p-6f); // tie, even
  EXPECT_EQ(bf16(1.0f + 0x1p-8f + 0x1p-20f), 1.0f + 0x1p-7f);
  EXPECT_EQ(bitsFromFloat(bf16(3.14159265f)), 0x40490000u);
  EXPECT_EQ(bf16(floatFromBits(0x7f7f0000u)), floatFromBits(0x7f7f0000u));
  EXPECT_EQ(bf16(std::numeric_limits<float>::max()), float(kInf));
  EXPECT_EQ(bf16(-std::numeric_limits<float>::max()), -float(kInf));
  EXPECT_EQ(bitsFromFloat(bf16(floatFromBits(0x00008000u))), 0u); // tie
  EXPECT_EQ(bitsFromFloat(bf16(floatFromBits(0x00018000u))), 0x00020000u);
  EXPECT_TRUE(std::isnan(bf16(std::numeric_limits<float>::quiet_NaN())));
  // A NaN whose payload lives only in the dropped bits must stay a NaN.
  EXPECT_TRUE(std::isnan(bf16(floatFromBits(0x7f800001u))));
  EXPECT_EQ(bf16(float(kInf)), float(kInf));
  EXPECT_EQ(roundTo(ElementType::F32, 0.1f), 0.1f);
}

TEST(RoundToTest, BFloat16AllValuesAndMidpoints) {
  for (uint32_t pattern = 0; pattern < 0x7f80; ++pattern) {
    float low = floatFromBits(pattern << 16);
    float high = floatFromBits((pattern + 1) << 16);
    // Within and across binades the bit pattern is linear in the value.
    float midpoint = floatFromBits((pattern << 16) | 0x8000u);
    float even = (pattern & 1) ? high : low;
    ASSERT_EQ(roundTo(ElementType::BF16, low), low) << pattern;
    ASSERT_EQ(roundTo(ElementType::BF16, midpoint), even) << pattern;
    ASSERT_EQ(roundTo(ElementType::BF16, -midpoint), -even) << pattern;
    ASSERT_EQ(roundTo(ElementType::BF16, std::nextafter(midpoint, 0.0f)), low);
    ASSERT_EQ(roundTo(ElementType::BF16, std::nextafter(midpoint, float(kInf))),
              high);
  }
}

//===----------------------------------------------------------------------===//
// Element types, shapes, random tensors
//===----------------------------------------------------------------------===//

TEST(ElementTypeTest, ParseAndStringify) {
  for (ElementType type :
       {ElementType::F32, ElementType::F16, ElementType::BF16})
    EXPECT_EQ(parseElementType(stringifyElementType(type)), type);
  EXPECT_EQ(parseElementType("fp32"), ElementType::F32);
  EXPECT_EQ(parseElementType("float32"), ElementType::F32);
  EXPECT_EQ(parseElementType("fp16"), ElementType::F16);
  EXPECT_EQ(parseElementType("float16"), ElementType::F16);
  EXPECT_EQ(parseElementType("bfloat16"), ElementType::BF16);
  EXPECT_EQ(parseElementType("f64"), std::nullopt);
  EXPECT_EQ(parseElementType(""), std::nullopt);
}

TEST(ShapeTest, CheckShapeAndScale) {
  AttentionShape shape{16, 32, 8, 2, 64};
  EXPECT_EQ(checkShape(shape), std::nullopt);
  EXPECT_DOUBLE_EQ(AttentionParams{}.effectiveScale(shape), 0.125);
  EXPECT_DOUBLE_EQ((AttentionParams{0.3, 0}).effectiveScale(shape), 0.3);

  shape.headsQ = 6;
  shape.headsK = 4;
  EXPECT_EQ(checkShape(shape),
            "query heads 6 is not a multiple of key/value heads 4");
  shape = AttentionShape{16, 0, 8, 2, 64};
  auto error = checkShape(shape);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("key length"), std::string::npos) << *error;
  shape = AttentionShape{16, 16, 8, 2, -1};
  error = checkShape(shape);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("head dim"), std::string::npos) << *error;
}

TEST(RandomTensorTest, DeterministicNormalAndRounded) {
  std::vector<float> a = randomTensor(100001, 7, ElementType::F32);
  std::vector<float> b = randomTensor(100001, 7, ElementType::F32);
  std::vector<float> c = randomTensor(100001, 8, ElementType::F32);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  double sum = 0, sumSquares = 0;
  for (float x : a) {
    ASSERT_TRUE(std::isfinite(x));
    sum += x;
    sumSquares += double(x) * x;
  }
  double mean = sum / a.size();
  double variance = sumSquares / a.size() - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(variance, 1.0, 0.02);

  for (ElementType type : {ElementType::F16, ElementType::BF16}) {
    std::vector<float> rounded = randomTensor(1000, 7, type);
    for (size_t i = 0; i < rounded.size(); ++i) {
      EXPECT_EQ(roundTo(type, rounded[i]), rounded[i]);
      EXPECT_EQ(rounded[i], roundTo(type, a[i]));
    }
  }
}

//===----------------------------------------------------------------------===//
// The independent dense attention
//===----------------------------------------------------------------------===//

/// Cell by cell from the table of docs/spec.md §1, in local coordinates.
std::vector<bool> denseMask(const Mask &mask, int64_t numQ, int64_t numK) {
  std::vector<bool> attends(numQ * numK, false);
  for (const Slice &slice : mask) {
    int64_t sq = slice.qEnd - slice.qBegin, sk = slice.kEnd - slice.kBegin;
    for (int64_t gi = slice.qBegin; gi < slice.qEnd; ++gi)
      for (int64_t gj = slice.kBegin; gj < slice.kEnd; ++gj) {
        int64_t i = gi - slice.qBegin, j = gj - slice.kBegin;
        bool causal = j <= i + (sk - sq);
        bool invCausal = j >= i;
        bool cell = false;
        switch (slice.kind) {
        case SliceKind::Full:
          cell = true;
          break;
        case SliceKind::Causal:
          cell = causal;
          break;
        case SliceKind::InvCausal:
          cell = invCausal;
          break;
        case SliceKind::BiCausal:
          cell = causal && invCausal;
          break;
        }
        if (cell) {
          EXPECT_FALSE(attends[gi * numK + gj]) << "test mask overlaps";
          attends[gi * numK + gj] = true;
        }
      }
  }
  return attends;
}

struct DenseResult {
  std::vector<long double> out, lse;
};

DenseResult denseAttention(const Mask &mask, const AttentionShape &shape,
                           const AttentionParams &params,
                           const std::vector<float> &q,
                           const std::vector<float> &k,
                           const std::vector<float> &v) {
  std::vector<bool> attends = denseMask(mask, shape.numQ, shape.numK);
  long double scale = params.scale != 0
                          ? (long double)params.scale
                          : 1.0L / std::sqrt((long double)shape.headDim);
  int64_t d = shape.headDim, group = shape.headsQ / shape.headsK;
  DenseResult result;
  result.out.assign(shape.qElements(), 0.0L);
  result.lse.assign(shape.lseElements(), -(long double)kInf);
  for (int64_t row = 0; row < shape.numQ; ++row)
    for (int64_t h = 0; h < shape.headsQ; ++h) {
      const float *query = &q[(row * shape.headsQ + h) * d];
      std::vector<long double> scores(shape.numK, -(long double)kInf);
      long double best = -(long double)kInf;
      for (int64_t key = 0; key < shape.numK; ++key) {
        if (!attends[row * shape.numK + key])
          continue;
        const float *keyVector = &k[(key * shape.headsK + h / group) * d];
        long double dot = 0;
        for (int64_t e = 0; e < d; ++e)
          dot += (long double)query[e] * keyVector[e];
        long double score = scale * dot;
        if (params.softcap > 0)
          score = params.softcap * std::tanh(score / params.softcap);
        scores[key] = score;
        best = std::max(best, score);
      }
      if (best == -(long double)kInf)
        continue;
      long double sum = 0;
      for (int64_t key = 0; key < shape.numK; ++key)
        if (attends[row * shape.numK + key])
          sum += std::exp(scores[key] - best);
      for (int64_t key = 0; key < shape.numK; ++key) {
        if (!attends[row * shape.numK + key])
          continue;
        long double p = std::exp(scores[key] - best) / sum;
        const float *value = &v[(key * shape.headsK + h / group) * d];
        for (int64_t e = 0; e < d; ++e)
          result.out[(row * shape.headsQ + h) * d + e] += p * value[e];
      }
      result.lse[row * shape.headsQ + h] = best + std::log(sum);
    }
  return result;
}

struct Inputs {
  std::vector<float> q, k, v;
};

Inputs makeInputs(const AttentionShape &shape, uint64_t seed,
                  ElementType type = ElementType::F32, float magnitude = 1) {
  Inputs inputs{randomTensor(shape.qElements(), seed, type),
                randomTensor(shape.kvElements(), seed + 1, type),
                randomTensor(shape.kvElements(), seed + 2, type)};
  for (float &x : inputs.q)
    x = roundTo(type, x * magnitude);
  return inputs;
}

struct ReferenceResult {
  std::vector<double> out, lse;
};

ReferenceResult runReference(const Mask &mask, const AttentionShape &shape,
                             const AttentionParams &params,
                             const Inputs &inputs) {
  ReferenceResult result{std::vector<double>(shape.qElements(), -7.0),
                         std::vector<double>(shape.lseElements(), -7.0)};
  referenceAttention(mask, shape, params, inputs.q.data(), inputs.k.data(),
                     inputs.v.data(), result.out.data(), result.lse.data());
  return result;
}

/// Runs both attentions and compares them. Returns the number of rows (times
/// heads) that attend nothing, so that tests can make sure they cover them.
int64_t expectMatchesDense(const Mask &mask, const AttentionShape &shape,
                           const AttentionParams &params = {},
                           uint64_t seed = 1, float magnitude = 1) {
  EXPECT_EQ(checkShape(shape), std::nullopt);
  EXPECT_EQ(mask::validate(mask, shape.numQ, shape.numK), std::nullopt);
  Inputs inputs = makeInputs(shape, seed, ElementType::F32, magnitude);
  ReferenceResult ours = runReference(mask, shape, params, inputs);
  DenseResult dense =
      denseAttention(mask, shape, params, inputs.q, inputs.k, inputs.v);

  int64_t emptyRows = 0;
  for (int64_t i = 0; i < shape.lseElements(); ++i) {
    EXPECT_FALSE(std::isnan(ours.lse[i])) << i;
    if (dense.lse[i] == -(long double)kInf) {
      ++emptyRows;
      EXPECT_EQ(ours.lse[i], -kInf) << i;
      for (int64_t e = 0; e < shape.headDim; ++e)
        EXPECT_EQ(ours.out[i * shape.headDim + e], 0.0) << i;
      continue;
    }
    EXPECT_NEAR(ours.lse[i], (double)dense.lse[i], 1e-12) << i;
  }
  double maxError = 0;
  for (int64_t i = 0; i < shape.qElements(); ++i) {
    EXPECT_FALSE(std::isnan(ours.out[i])) << i;
    maxError =
        std::max(maxError, std::fabs(ours.out[i] - (double)dense.out[i]));
  }
  EXPECT_LT(maxError, 1e-12);
  return emptyRows;
}

Mask single(int64_t qBegin, int64_t qEnd, int64_t kBegin, int64_t kEnd,
            SliceKind kind) {
  return {Slice{qBegin, qEnd, kBegin, kEnd, kind}};
}

constexpr SliceKind kAllKinds[] = {SliceKind::Full, SliceKind::Causal,
                                   SliceKind::InvCausal, SliceKind::BiCausal};

//===----------------------------------------------------------------------===//
// referenceAttention
//===----------------------------------------------------------------------===//

TEST(ReferenceAttentionTest, EachKindSquare) {
  AttentionShape shape{16, 16, 2, 2, 16};
  for (SliceKind kind : kAllKinds) {
    SCOPED_TRACE(mask::stringifySliceKind(kind));
    EXPECT_EQ(expectMatchesDense(single(0, 16, 0, 16, kind), shape), 0);
  }
}

TEST(ReferenceAttentionTest, EachKindMoreKeysThanQueries) {
  AttentionShape shape{8, 20, 2, 1, 8};
  for (SliceKind kind : kAllKinds) {
    SCOPED_TRACE(mask::stringifySliceKind(kind));
    EXPECT_EQ(expectMatchesDense(single(0, 8, 0, 20, kind), shape, {}, 3), 0);
  }
}

TEST(ReferenceAttentionTest, EachKindMoreQueriesThanKeys) {
  AttentionShape shape{20, 8, 2, 1, 8};
  // Causal leaves the first Sq - Sk rows empty, inv_causal the last Sq - Sk,
  // and bi_causal attends nothing.
  int64_t expectedEmpty[] = {0, 12 * 2, 12 * 2, 20 * 2};
  for (int index = 0; index < 4; ++index) {
    SCOPED_TRACE(mask::stringifySliceKind(kAllKinds[index]));
    EXPECT_EQ(
        expectMatchesDense(single(0, 20, 0, 8, kAllKinds[index]), shape, {}, 5),
        expectedEmpty[index]);
  }
}

TEST(ReferenceAttentionTest, OffsetSlicesOfEveryKind) {
  // Slices away from the origin exercise the global forms of the formulas.
  AttentionShape shape{40, 48, 2, 2, 8};
  Mask mask = {Slice{4, 14, 10, 30, SliceKind::Causal},
               Slice{14, 30, 5, 12, SliceKind::InvCausal},
               Slice{30, 37, 30, 45, SliceKind::BiCausal},
               Slice{14, 30, 20, 48, SliceKind::Full}};
  EXPECT_GT(expectMatchesDense(mask, shape, {}, 11), 0);
}

TEST(ReferenceAttentionTest, GroupedQueryAttention) {
  AttentionShape shape{12, 12, 8, 2, 16};
  EXPECT_EQ(expectMatchesDense(single(0, 12, 0, 12, SliceKind::Causal), shape,
                               {}, 13),
            0);
  AttentionShape mqa{12, 12, 4, 1, 16};
  EXPECT_EQ(
      expectMatchesDense(single(0, 12, 0, 12, SliceKind::Full), mqa, {}, 14),
      0);
}

TEST(ReferenceAttentionTest, GroupedHeadsReadTheirOwnKvHead) {
  // With identical queries across heads, heads of one group must agree and
  // the two groups must differ.
  AttentionShape shape{4, 6, 4, 2, 8};
  Inputs inputs = makeInputs(shape, 21);
  for (int64_t row = 0; row < shape.numQ; ++row)
    for (int64_t h = 1; h < shape.headsQ; ++h)
      std::copy_n(&inputs.q[row * 4 * 8], 8, &inputs.q[(row * 4 + h) * 8]);
  ReferenceResult result =
      runReference(single(0, 4, 0, 6, SliceKind::Full), shape, {}, inputs);
  for (int64_t row = 0; row < shape.numQ; ++row) {
    const double *o = &result.out[row * 4 * 8];
    for (int e = 0; e < 8; ++e) {
      EXPECT_EQ(o[e], o[8 + e]);
      EXPECT_EQ(o[16 + e], o[24 + e]);
    }
    EXPECT_NE(o[0], o[16]);
  }
}

TEST(ReferenceAttentionTest, SoftcapAndCustomScale) {
  AttentionShape shape{16, 24, 4, 2, 16};
  Mask mask = single(0, 16, 0, 24, SliceKind::Causal);
  // Large queries push scores well into the tanh's saturation.
  expectMatchesDense(mask, shape, AttentionParams{0, 2.0}, 31, 4.0f);
  expectMatchesDense(mask, shape, AttentionParams{0.3, 0}, 32);
  expectMatchesDense(mask, shape, AttentionParams{1.5, 5.0}, 33, 2.0f);
}

TEST(ReferenceAttentionTest, SoftcapBoundsTheScores) {
  AttentionShape shape{1, 2, 1, 1, 1};
  Inputs inputs{{100.0f}, {1.0f, -1.0f}, {1.0f, 0.0f}};
  AttentionParams params{1.0, 3.0};
  ReferenceResult result =
      runReference(single(0, 1, 0, 2, SliceKind::Full), shape, params, inputs);
  double high = 3 * std::tanh(100.0 / 3), low = -high;
  EXPECT_NEAR(result.lse[0], high + std::log1p(std::exp(low - high)), 1e-14);
  EXPECT_NEAR(result.out[0], 1 / (1 + std::exp(low - high)), 1e-14);
}

TEST(ReferenceAttentionTest, OverlappingQueryRangesWithDisjointKeys) {
  // Block-causal style: rows of block b are split between a slice over the
  // earlier blocks and a slice over their own block; also in shuffled order.
  AttentionShape shape{24, 24, 2, 1, 8};
  Mask mask = {Slice{8, 24, 0, 8, SliceKind::Full},
               Slice{0, 8, 0, 8, SliceKind::Causal},
               Slice{8, 16, 8, 16, SliceKind::Causal},
               Slice{16, 24, 8, 16, SliceKind::Full},
               Slice{16, 24, 16, 24, SliceKind::Causal}};
  EXPECT_EQ(expectMatchesDense(mask, shape, {}, 41), 0);
  std::reverse(mask.begin(), mask.end());
  EXPECT_EQ(expectMatchesDense(mask, shape, {}, 41), 0);

  // Every row split between two slices of different kinds.
  Mask interleaved = {Slice{0, 12, 0, 12, SliceKind::Causal},
                      Slice{0, 12, 12, 24, SliceKind::Full},
                      Slice{12, 24, 0, 12, SliceKind::InvCausal},
                      Slice{12, 24, 12, 24, SliceKind::Causal}};
  EXPECT_EQ(expectMatchesDense(interleaved, shape, {}, 42), 0);
}

TEST(ReferenceAttentionTest, SliceOrderDoesNotMatter) {
  AttentionShape shape{24, 24, 2, 1, 8};
  Mask mask = {Slice{8, 24, 0, 8, SliceKind::Full},
               Slice{0, 8, 0, 8, SliceKind::Causal},
               Slice{8, 24, 8, 24, SliceKind::Causal}};
  Inputs inputs = makeInputs(shape, 51);
  ReferenceResult forward = runReference(mask, shape, {}, inputs);
  std::swap(mask[0], mask[2]);
  ReferenceResult shuffled = runReference(mask, shape, {}, inputs);
  for (size_t i = 0; i < forward.out.size(); ++i)
    EXPECT_NEAR(forward.out[i], shuffled.out[i], 1e-14);
  for (size_t i = 0; i < forward.lse.size(); ++i)
    EXPECT_NEAR(forward.lse[i], shuffled.lse[i], 1e-14);
}

TEST(ReferenceAttentionTest, FullyEmptyRows) {
  // Rows 0-3 and 12-15 are in no slice; rows 4-7 of the bi_causal slice with
  // Sq > Sk attend nothing either.
  AttentionShape shape{16, 8, 2, 2, 8};
  Mask mask = {Slice{4, 8, 0, 2, SliceKind::BiCausal},
               Slice{8, 12, 0, 8, SliceKind::Causal}};
  EXPECT_EQ(expectMatchesDense(mask, shape, {}, 61), 12 * 2);
}

TEST(ReferenceAttentionTest, EmptyMask) {
  AttentionShape shape{5, 7, 2, 1, 8};
  EXPECT_EQ(expectMatchesDense({}, shape, {}, 71), 5 * 2);
  ReferenceResult result = runReference({}, shape, {}, makeInputs(shape, 71));
  for (double x : result.out)
    EXPECT_EQ(x, 0.0);
  for (double x : result.lse)
    EXPECT_EQ(x, -kInf);
}

TEST(ReferenceAttentionTest, LseIsLogSumExpOfScaledScores) {
  AttentionShape shape{6, 9, 2, 1, 16};
  AttentionParams params{0.2, 0};
  Inputs inputs = makeInputs(shape, 81);
  ReferenceResult result =
      runReference(single(0, 6, 0, 9, SliceKind::Full), shape, params, inputs);
  for (int64_t row = 0; row < 6; ++row)
    for (int64_t h = 0; h < 2; ++h) {
      double sum = 0;
      for (int64_t key = 0; key < 9; ++key) {
        double dot = 0;
        for (int e = 0; e < 16; ++e)
          dot +=
              double(inputs.q[(row * 2 + h) * 16 + e]) * inputs.k[key * 16 + e];
        sum += std::exp(0.2 * dot);
      }
      EXPECT_NEAR(result.lse[row * 2 + h], std::log(sum), 1e-12);
    }
}

TEST(ReferenceAttentionTest, UniformScoresAverageTheValues) {
  // Zero queries give equal scores: out is the mean of the attended values
  // and lse is log(number of keys).
  AttentionShape shape{3, 5, 1, 1, 4};
  Inputs inputs = makeInputs(shape, 91);
  std::fill(inputs.q.begin(), inputs.q.end(), 0.0f);
  ReferenceResult result =
      runReference(single(0, 3, 0, 5, SliceKind::Causal), shape, {}, inputs);
  for (int64_t row = 0; row < 3; ++row) {
    int64_t keys = row + 3; // Sk - Sq = 2
    EXPECT_NEAR(result.lse[row], std::log(double(keys)), 1e-15);
    for (int e = 0; e < 4; ++e) {
      double mean = 0;
      for (int64_t key = 0; key < keys; ++key)
        mean += inputs.v[key * 4 + e];
      EXPECT_NEAR(result.out[row * 4 + e], mean / keys, 1e-15);
    }
  }
}

//===----------------------------------------------------------------------===//
// naiveAttention
//===----------------------------------------------------------------------===//

struct NaiveError {
  double out = 0, lse = 0;
};

NaiveError naiveError(ElementType type, const AttentionParams &params = {}) {
  AttentionShape shape{64, 80, 4, 2, 64};
  Mask mask = {Slice{0, 64, 0, 80, SliceKind::Causal}};
  Inputs inputs = makeInputs(shape, 101, type);
  ReferenceResult reference = runReference(mask, shape, params, inputs);
  std::vector<float> out(shape.qElements()), lse(shape.lseElements());
  naiveAttention(mask, shape, params, type, inputs.q.data(), inputs.k.data(),
                 inputs.v.data(), out.data(), lse.data());
  NaiveError error;
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(roundTo(type, out[i]), out[i]);
    error.out = std::max(error.out, std::fabs(out[i] - reference.out[i]));
  }
  for (size_t i = 0; i < lse.size(); ++i)
    error.lse = std::max(error.lse, std::fabs(lse[i] - reference.lse[i]));
  return error;
}

TEST(NaiveAttentionTest, Float32MatchesReference) {
  NaiveError error = naiveError(ElementType::F32);
  EXPECT_LT(error.out, 1e-5);
  EXPECT_LT(error.lse, 1e-5);
  NaiveError capped = naiveError(ElementType::F32, AttentionParams{0.4, 3.0});
  EXPECT_LT(capped.out, 1e-5);
  EXPECT_LT(capped.lse, 1e-5);
}

TEST(NaiveAttentionTest, LowPrecisionErrorIsLargerButBounded) {
  NaiveError bf16 = naiveError(ElementType::BF16);
  EXPECT_GT(bf16.out, 1e-4);
  EXPECT_LT(bf16.out, 5e-2);
  EXPECT_GT(bf16.lse, 1e-4);
  EXPECT_LT(bf16.lse, 5e-2);
  NaiveError f16 = naiveError(ElementType::F16);
  EXPECT_GT(f16.out, 1e-5);
  EXPECT_LT(f16.out, bf16.out); // three more mantissa bits
  NaiveError capped = naiveError(ElementType::BF16, AttentionParams{0, 2.0});
  EXPECT_GT(capped.out, 1e-4);
  EXPECT_LT(capped.out, 5e-2);
}

TEST(NaiveAttentionTest, EmptyRowsHaveNoNaN) {
  AttentionShape shape{6, 4, 2, 1, 8};
  Mask mask = {Slice{0, 6, 0, 4, SliceKind::Causal}}; // rows 0-1 attend nothing
  Inputs inputs = makeInputs(shape, 111, ElementType::BF16);
  std::vector<float> out(shape.qElements(), -7), lse(shape.lseElements(), -7);
  naiveAttention(mask, shape, {}, ElementType::BF16, inputs.q.data(),
                 inputs.k.data(), inputs.v.data(), out.data(), lse.data());
  for (int64_t i = 0; i < shape.lseElements(); ++i) {
    bool empty = i < 2 * 2;
    EXPECT_EQ(std::isinf(lse[i]) && lse[i] < 0, empty) << i;
    for (int e = 0; e < 8; ++e) {
      EXPECT_FALSE(std::isnan(out[i * 8 + e]));
      if (empty) {
        EXPECT_EQ(out[i * 8 + e], 0.0f);
      }
    }
  }
}

} // namespace
