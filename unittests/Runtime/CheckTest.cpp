//===- CheckTest.cpp - Tests of the correctness yardstick -----------------===//

#include "FlashDialect/Runtime/Check.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <vector>

using namespace fattn::runtime;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// A smooth, deterministic reference with values of both signs and sizes.
std::vector<double> makeReference(int64_t count) {
  std::vector<double> reference(count);
  for (int64_t i = 0; i < count; ++i)
    reference[i] = std::sin(0.37 * double(i)) * (1.0 + 0.01 * double(i % 17));
  return reference;
}

/// reference + amplitude * a pattern in [-1, 1] that differs with `phase`.
std::vector<float> perturb(const std::vector<double> &reference,
                           double amplitude, double phase) {
  std::vector<float> values(reference.size());
  for (size_t i = 0; i < reference.size(); ++i)
    values[i] = float(reference[i] + amplitude * std::cos(1.3 * i + phase));
  return values;
}

std::vector<float> toFloat(const std::vector<double> &reference) {
  return std::vector<float>(reference.begin(), reference.end());
}

TEST(MeasureErrorTest, IdenticalArraysAreExact) {
  std::vector<double> reference = makeReference(1000);
  std::vector<float> values = toFloat(reference);
  ErrorStats stats =
      measureError(values.data(), reference.data(), 1000, 1e-8, 1e-6);
  EXPECT_EQ(stats.count, 1000);
  EXPECT_LE(stats.maxAbsError, 1e-7); // only the fp32 conversion
  EXPECT_LE(stats.maxRelError, 1e-7);
  EXPECT_EQ(stats.numNonFinite, 0);
  EXPECT_EQ(stats.numOutsideTolerance, 0);
  EXPECT_EQ(stats.fractionOutsideTolerance(), 0.0);
  EXPECT_EQ(stats.atol, 1e-8);
  EXPECT_EQ(stats.rtol, 1e-6);
}

TEST(MeasureErrorTest, SingleNaNIsNonFiniteAndOutside) {
  std::vector<double> reference = makeReference(100);
  std::vector<float> values = toFloat(reference);
  values[42] = kNaN;
  ErrorStats stats =
      measureError(values.data(), reference.data(), 100, 1e-8, 0.05);
  EXPECT_EQ(stats.numNonFinite, 1);
  EXPECT_EQ(stats.numOutsideTolerance, 1);
  EXPECT_FALSE(std::isnan(stats.maxAbsError));
  EXPECT_DOUBLE_EQ(stats.fractionOutsideTolerance(), 0.01);
}

TEST(MeasureErrorTest, PerturbedElementBeyondTolerance) {
  std::vector<double> reference(10, 2.0);
  std::vector<float> values(10, 2.0f);
  values[3] = 2.2f;  // 0.2 > 1e-8 + 0.05 * 2
  values[5] = 2.09f; // inside
  ErrorStats stats =
      measureError(values.data(), reference.data(), 10, 1e-8, 0.05);
  EXPECT_EQ(stats.numOutsideTolerance, 1);
  EXPECT_EQ(stats.numNonFinite, 0);
  EXPECT_NEAR(stats.maxAbsError, 0.2, 1e-6);
  EXPECT_NEAR(stats.maxRelError, 0.1, 1e-6);
}

TEST(MeasureErrorTest, ZeroReferenceUsesAtolAndSkipsRelative) {
  std::vector<double> reference = {0.0, 0.0};
  std::vector<float> values = {1e-9f, 1e-7f};
  ErrorStats stats =
      measureError(values.data(), reference.data(), 2, 1e-8, 0.05);
  EXPECT_EQ(stats.numOutsideTolerance, 1);
  EXPECT_EQ(stats.maxRelError, 0.0);
}

TEST(MeasureErrorTest, Infinities) {
  std::vector<double> reference = {-kInf, -kInf, 1.0, -kInf, kInf};
  std::vector<float> values = {-float(kInf), -float(kInf), 1.0f, 3.0f,
                               -float(kInf)};
  // Matching -inf (lse of empty rows) is exact.
  ErrorStats matching =
      measureError(values.data(), reference.data(), 3, 1e-8, 1e-3);
  EXPECT_EQ(matching.numNonFinite, 0);
  EXPECT_EQ(matching.numOutsideTolerance, 0);
  EXPECT_EQ(matching.maxAbsError, 0.0);
  // -inf against a finite value, and an infinity of the wrong sign, are not.
  ErrorStats all = measureError(values.data(), reference.data(), 5, 1e-8, 1e-3);
  EXPECT_EQ(all.numNonFinite, 2);
  EXPECT_EQ(all.numOutsideTolerance, 2);
  EXPECT_TRUE(std::isfinite(all.maxAbsError));
  // A finite reference with an infinite result is a mismatch too.
  std::vector<double> finite = {1.0};
  std::vector<float> infinite = {float(kInf)};
  EXPECT_EQ(
      measureError(infinite.data(), finite.data(), 1, 1e-8, 1e-3).numNonFinite,
      1);
}

TEST(JudgeExactTest, PassesAndFails) {
  std::vector<double> reference = makeReference(500);
  std::vector<float> values = toFloat(reference);
  Verdict pass = judgeExact("out", values.data(), reference.data(), 500);
  EXPECT_TRUE(pass.pass) << pass.summary;
  EXPECT_EQ(pass.summary.rfind("out: PASS", 0), 0u) << pass.summary;

  values[7] = float(reference[7] * (1 + 1e-4));
  Verdict fail = judgeExact("out", values.data(), reference.data(), 500);
  EXPECT_FALSE(fail.pass);
  EXPECT_EQ(fail.ours.numOutsideTolerance, 1);
  EXPECT_EQ(fail.summary.rfind("out: FAIL", 0), 0u) << fail.summary;

  std::vector<double> lseReference = {-kInf, 0.5};
  std::vector<float> lse = {-float(kInf), 0.5f};
  EXPECT_TRUE(judgeExact("lse", lse.data(), lseReference.data(), 2).pass);
  lse[0] = -1e30f;
  Verdict nonFinite = judgeExact("lse", lse.data(), lseReference.data(), 2);
  EXPECT_FALSE(nonFinite.pass);
  EXPECT_NE(nonFinite.summary.find("1 non-finite"), std::string::npos)
      << nonFinite.summary;
}

TEST(JudgeAgainstNaiveTest, AsGoodAsNaivePasses) {
  std::vector<double> reference = makeReference(4096);
  std::vector<float> naive = perturb(reference, 1e-3, 0.0);
  std::vector<float> ours = perturb(reference, 1e-3, 1.0);
  Verdict verdict = judgeAgainstNaive("out", ours.data(), naive.data(),
                                      reference.data(), 4096, Tolerance{});
  EXPECT_TRUE(verdict.pass) << verdict.summary;
  EXPECT_EQ(verdict.summary.rfind("out: PASS max_abs=", 0), 0u)
      << verdict.summary;
  EXPECT_NE(verdict.summary.find("frac_out_of_tol="), std::string::npos);
  EXPECT_GT(verdict.naive.maxAbsError, 0.0);

  // Identical to the reference passes even when naive is exact as well: the
  // floor absorbs the fp32 conversion.
  std::vector<float> exact = toFloat(reference);
  EXPECT_TRUE(judgeAgainstNaive("out", exact.data(), exact.data(),
                                reference.data(), 4096, Tolerance{})
                  .pass);
}

TEST(JudgeAgainstNaiveTest, ThreeTimesWorseFails) {
  std::vector<double> reference = makeReference(4096);
  std::vector<float> naive = perturb(reference, 1e-3, 0.0);
  std::vector<float> ours = perturb(reference, 3e-3, 0.0);
  Verdict verdict = judgeAgainstNaive("out", ours.data(), naive.data(),
                                      reference.data(), 4096, Tolerance{});
  EXPECT_FALSE(verdict.pass);
  EXPECT_EQ(verdict.summary.rfind("out: FAIL", 0), 0u) << verdict.summary;
  EXPECT_NE(verdict.summary.find("EXCEEDED"), std::string::npos)
      << verdict.summary;
}

TEST(JudgeAgainstNaiveTest, FractionOutsideTolerance) {
  // Both are equally far off at their worst, but ours is off in more places.
  std::vector<double> reference(1000, 1.0);
  std::vector<float> naive(1000, 1.0f), ours(1000, 1.0f);
  for (int i = 0; i < 5; ++i)
    naive[i * 100] = 1.1f;
  for (int i = 0; i < 11; ++i)
    ours[i * 50] = 1.1f;
  Tolerance tolerance;
  Verdict verdict = judgeAgainstNaive("out", ours.data(), naive.data(),
                                      reference.data(), 1000, tolerance);
  EXPECT_FALSE(verdict.pass) << verdict.summary;
  EXPECT_EQ(verdict.ours.numOutsideTolerance, 11);
  EXPECT_EQ(verdict.naive.numOutsideTolerance, 5);

  // Ten is exactly twice naive's five: allowed.
  ours[500] = 1.0f;
  EXPECT_TRUE(judgeAgainstNaive("out", ours.data(), naive.data(),
                                reference.data(), 1000, tolerance)
                  .pass);

  // However badly naive does, at most maxFailFraction may fail.
  tolerance.maxFailFraction = 0.005;
  EXPECT_FALSE(judgeAgainstNaive("out", ours.data(), naive.data(),
                                 reference.data(), 1000, tolerance)
                   .pass);
}

TEST(JudgeAgainstNaiveTest, NonFiniteAlwaysFails) {
  std::vector<double> reference = makeReference(256);
  reference[0] = -kInf; // an empty row's lse
  std::vector<float> naive = perturb(reference, 1e-3, 0.0);
  std::vector<float> ours = toFloat(reference);
  Tolerance tolerance{1e-8, 0.001, 1e-6, 0.03};
  Verdict matching = judgeAgainstNaive("lse", ours.data(), naive.data(),
                                       reference.data(), 256, tolerance);
  EXPECT_TRUE(matching.pass) << matching.summary;

  ours[10] = kNaN;
  Verdict withNaN = judgeAgainstNaive("lse", ours.data(), naive.data(),
                                      reference.data(), 256, tolerance);
  EXPECT_FALSE(withNaN.pass);
  EXPECT_EQ(withNaN.summary.rfind("lse: FAIL", 0), 0u) << withNaN.summary;
  EXPECT_NE(withNaN.summary.find("1 non-finite"), std::string::npos)
      << withNaN.summary;

  ours[10] = float(reference[10]);
  ours[0] = 0.0f; // finite where the reference row is empty
  EXPECT_FALSE(judgeAgainstNaive("lse", ours.data(), naive.data(),
                                 reference.data(), 256, tolerance)
                   .pass);
}

} // namespace
