//===- ReferenceGradTest.cpp - The fp64 gradients against finite differences ===//
//
// referenceAttentionGrad is checked against central differences of
// referenceAttention itself (the loss sum(out * dout)), element by element
// on a sample of q, k and v, on masks of every kind, GQA, overlapping
// run-time slices, softcap and rows with no key: the derivative of what the
// forward computes, not a second formula of it.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Runtime/Reference.h"

#include "gtest/gtest.h"

#include <cmath>
#include <string>
#include <vector>

using namespace fattn;
using namespace fattn::runtime;
using mask::Mask;
using mask::SliceKind;

namespace {

struct Problem {
  Mask mask;
  AttentionShape shape;
  AttentionParams params;
  std::vector<float> q, k, v, dout;
};

Problem makeProblem(Mask mask, AttentionShape shape,
                    AttentionParams params = {}) {
  Problem p{std::move(mask), shape, params, {}, {}, {}, {}};
  p.q = randomTensor(shape.qElements(), 11, ElementType::F32);
  p.k = randomTensor(shape.kvElements(), 12, ElementType::F32);
  p.v = randomTensor(shape.kvElements(), 13, ElementType::F32);
  p.dout = randomTensor(shape.qElements(), 14, ElementType::F32);
  return p;
}

/// sum(out * dout) of the fp64 reference.
double loss(const Problem &p) {
  std::vector<double> out(p.shape.qElements()), lse(p.shape.lseElements());
  referenceAttention(p.mask, p.shape, p.params, p.q.data(), p.k.data(),
                     p.v.data(), out.data(), lse.data());
  double total = 0;
  for (size_t i = 0; i < out.size(); ++i)
    total += out[i] * double(p.dout[i]);
  return total;
}

/// Central difference of the loss along element `index` of `tensor` (one of
/// p's), over the perturbation the float inputs really take.
double finiteDifference(Problem &p, std::vector<float> &tensor,
                        size_t index) {
  const float original = tensor[index];
  const float plus = original + 1e-3f, minus = original - 1e-3f;
  tensor[index] = plus;
  double up = loss(p);
  tensor[index] = minus;
  double down = loss(p);
  tensor[index] = original;
  return (up - down) / (double(plus) - double(minus));
}

/// Every element's analytic gradient is finite; a sample of them matches the
/// finite differences.
void expectGradientsMatch(Problem p, const std::string &what) {
  std::vector<double> dq(p.shape.qElements()), dk(p.shape.kvElements()),
      dv(p.shape.kvElements());
  referenceAttentionGrad(p.mask, p.shape, p.params, p.q.data(), p.k.data(),
                         p.v.data(), p.dout.data(), dq.data(), dk.data(),
                         dv.data());
  struct Named {
    const char *name;
    std::vector<float> *input;
    const std::vector<double> *gradient;
  };
  for (Named tensor : {Named{"dq", &p.q, &dq}, Named{"dk", &p.k, &dk},
                       Named{"dv", &p.v, &dv}}) {
    for (double value : *tensor.gradient)
      ASSERT_TRUE(std::isfinite(value)) << what << " " << tensor.name;
    // A spread-out sample: every 7th element, about 40 of them.
    size_t size = tensor.gradient->size();
    size_t step = std::max<size_t>(1, size / 40) | 1;
    for (size_t i = 0; i < size; i += step) {
      double expected = finiteDifference(p, *tensor.input, i);
      double got = (*tensor.gradient)[i];
      EXPECT_NEAR(got, expected, 2e-5 + 2e-5 * std::abs(expected))
          << what << ": " << tensor.name << "[" << i << "]";
    }
  }
}

TEST(ReferenceGradTest, CausalGroupedQueryAttention) {
  expectGradientsMatch(
      makeProblem(mask::causalMask(12, 12), {12, 12, 4, 2, 8}), "causal 4:2");
}

TEST(ReferenceGradTest, EveryKindWithEmptyRows) {
  // Rows 10..11 attend nothing; the slices are narrower and wider than tall.
  Mask mask = {{0, 4, 0, 6, SliceKind::Full},
               {4, 7, 2, 9, SliceKind::Causal},
               {7, 10, 0, 5, SliceKind::InvCausal},
               {0, 6, 8, 14, SliceKind::BiCausal}};
  Problem p = makeProblem(mask, {12, 14, 2, 1, 8});
  expectGradientsMatch(p, "every kind");
  std::vector<double> dq(p.shape.qElements()), dk(p.shape.kvElements()),
      dv(p.shape.kvElements());
  referenceAttentionGrad(p.mask, p.shape, p.params, p.q.data(), p.k.data(),
                         p.v.data(), p.dout.data(), dq.data(), dk.data(),
                         dv.data());
  for (int64_t i = 10 * 2 * 8; i < 12 * 2 * 8; ++i)
    EXPECT_EQ(dq[i], 0.0) << "empty row's dq[" << i << "]";
}

TEST(ReferenceGradTest, OverlappingRuntimeSlicesCountPerSlice) {
  // Two copies of one slice weigh each of its cells twice, as in the
  // forward; a third slice overlaps half of them.
  Mask mask = {{0, 9, 0, 9, SliceKind::Causal},
               {0, 9, 0, 9, SliceKind::Causal},
               {4, 9, 0, 5, SliceKind::Full}};
  expectGradientsMatch(makeProblem(mask, {9, 9, 3, 3, 8}), "overlaps");
}

TEST(ReferenceGradTest, SoftcapAndScale) {
  // A cap near the scores' size, so that tanh bends them.
  expectGradientsMatch(makeProblem(mask::fullMask(10, 7), {10, 7, 2, 2, 16},
                                   {0.9, 1.5}),
                       "softcap 1.5, scale 0.9");
}

} // namespace
