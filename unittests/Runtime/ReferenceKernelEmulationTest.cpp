//===- ReferenceKernelEmulationTest.cpp - The GPU reference on the CPU ----===//
//
// CI has no GPU, yet the GPU reference kernel decides whether generated
// kernels pass. So its source (lib/Runtime/ReferenceKernel.cu) is compiled
// here as plain C++ against a tiny CUDA emulation: each block runs as
// kThreads std::threads sharing one dynamic-shared-memory buffer, with
// __syncthreads as a barrier. The results must match the CPU references of
// Reference.h, which share no code with the kernel. On the GPU machine,
// `fattn-launch --self-test` repeats the comparison with the real kernel.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Mask/Mask.h"
#include "FlashDialect/Runtime/Check.h"
#include "FlashDialect/Runtime/Elements.h"
#include "FlashDialect/Runtime/Reference.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <math.h>
#include <vector>

//===----------------------------------------------------------------------===//
// The CUDA emulation the kernel source compiles against
//===----------------------------------------------------------------------===//

#include "CudaEmulation.h"

inline float fattnHalfToFloat(unsigned short bits) {
  float value;
  fattn::runtime::decodeElements(fattn::runtime::ElementType::F16, &bits, 1,
                                 &value);
  return value;
}
inline float fattnBFloat16ToFloat(unsigned short bits) {
  float value;
  fattn::runtime::decodeElements(fattn::runtime::ElementType::BF16, &bits, 1,
                                 &value);
  return value;
}
inline float fattnRoundHalf(float value) {
  return fattn::runtime::roundTo(fattn::runtime::ElementType::F16, value);
}
inline float fattnRoundBFloat16(float value) {
  return fattn::runtime::roundTo(fattn::runtime::ElementType::BF16, value);
}

#include "ReferenceKernel.cu"

//===----------------------------------------------------------------------===//
// Tests
//===----------------------------------------------------------------------===//

using namespace fattn;
using namespace fattn::runtime;
using mask::Slice;
using mask::SliceKind;
namespace rk = fattn::runtime::reference_kernel;

namespace {

/// Runs the kernel over the whole grid, one block at a time.
void emulateLaunch(const rk::Args &args) {
  unsigned gridX = unsigned((args.numQ + rk::kTileRows - 1) / rk::kTileRows);
  unsigned gridY = unsigned(args.headsQ);
  std::vector<double> shared(rk::sharedBytes(args.headDim) / sizeof(double) +
                             1);
  for (unsigned by = 0; by < gridY; ++by)
    for (unsigned bx = 0; bx < gridX; ++bx) {
      // Garbage, as a real block would find: nothing may read it unwritten.
      std::fill(shared.begin(), shared.end(),
                std::numeric_limits<double>::quiet_NaN());
      emulation::runBlock(bx, by, rk::kThreads, shared.data(),
                          [&] { fattn_reference_attention(args); });
    }
}

struct Problem {
  const char *name;
  mask::Mask mask;
  AttentionShape shape;
  ElementType type;
  AttentionParams params;
};

struct KernelResult {
  std::vector<double> exactOut, exactLse;
  std::vector<float> naiveOut, naiveLse;
};

KernelResult runEmulated(const Problem &problem, const std::vector<float> &q,
                         const std::vector<float> &k,
                         const std::vector<float> &v) {
  const AttentionShape &shape = problem.shape;
  std::vector<uint8_t> qBytes =
      encodeElements(problem.type, q.data(), int64_t(q.size()));
  std::vector<uint8_t> kBytes =
      encodeElements(problem.type, k.data(), int64_t(k.size()));
  std::vector<uint8_t> vBytes =
      encodeElements(problem.type, v.data(), int64_t(v.size()));
  std::vector<int64_t> slices;
  for (const Slice &slice : problem.mask)
    slices.insert(slices.end(), {slice.qBegin, slice.qEnd, slice.kBegin,
                                 slice.kEnd, int64_t(slice.kind)});
  KernelResult result;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  result.exactOut.assign(shape.qElements(), nan);
  result.exactLse.assign(shape.lseElements(), nan);
  result.naiveOut.assign(shape.qElements(), float(nan));
  result.naiveLse.assign(shape.lseElements(), float(nan));

  rk::Args args = {};
  args.q = reinterpret_cast<uint64_t>(qBytes.data());
  args.k = reinterpret_cast<uint64_t>(kBytes.data());
  args.v = reinterpret_cast<uint64_t>(vBytes.data());
  args.slices = reinterpret_cast<uint64_t>(slices.data());
  args.numQ = shape.numQ;
  args.numK = shape.numK;
  args.numSlices = int64_t(problem.mask.size());
  args.headsQ = int32_t(shape.headsQ);
  args.headsK = int32_t(shape.headsK);
  args.headDim = int32_t(shape.headDim);
  args.dtype = int32_t(problem.type);
  args.scale = problem.params.effectiveScale(shape);
  args.softcap = problem.params.softcap;

  args.naive = 0;
  args.out = reinterpret_cast<uint64_t>(result.exactOut.data());
  args.lse = reinterpret_cast<uint64_t>(result.exactLse.data());
  emulateLaunch(args);
  args.naive = 1;
  args.out = reinterpret_cast<uint64_t>(result.naiveOut.data());
  args.lse = reinterpret_cast<uint64_t>(result.naiveLse.data());
  emulateLaunch(args);
  return result;
}

std::vector<Problem> problems() {
  std::vector<Problem> list;
  AttentionParams defaults, capped, scaled;
  capped.softcap = 5.0;
  scaled.scale = 0.3;
  list.push_back({"causal-tall-gqa",
                  mask::causalMask(37, 29),
                  {37, 29, 4, 2, 24},
                  ElementType::BF16,
                  defaults});
  list.push_back({"all-kinds-softcap",
                  {Slice{0, 20, 0, 30, SliceKind::InvCausal},
                   Slice{20, 40, 0, 25, SliceKind::BiCausal},
                   Slice{20, 40, 40, 50, SliceKind::Full},
                   Slice{40, 50, 10, 50, SliceKind::Causal}},
                  {50, 50, 3, 1, 40},
                  ElementType::F16,
                  capped});
  list.push_back({"block-causal-overlapping-q",
                  *mask::blockCausalMask(40, 16),
                  {40, 40, 2, 2, 16},
                  ElementType::F32,
                  defaults});
  list.push_back({"empty-rows",
                  {Slice{0, 20, 0, 20, SliceKind::Causal},
                   Slice{40, 60, 30, 64, SliceKind::Full}},
                  {64, 64, 2, 1, 32},
                  ElementType::BF16,
                  defaults});
  list.push_back({"sliding-window",
                  *mask::slidingWindowMask(50, 70, 8, 3),
                  {50, 70, 2, 2, 8},
                  ElementType::BF16,
                  scaled});
  list.push_back(
      {"no-slices", {}, {20, 20, 1, 1, 16}, ElementType::BF16, defaults});
  return list;
}

/// Rows of the mask with no attended key.
std::vector<bool> emptyRows(const mask::Mask &mask, int64_t numQ) {
  std::vector<bool> empty(numQ, true);
  for (const Slice &slice : mask)
    for (int64_t row = slice.qBegin; row < slice.qEnd; ++row)
      if (!slice.keysOfRow(row).empty())
        empty[row] = false;
  return empty;
}

class ReferenceKernelEmulationTest : public ::testing::TestWithParam<size_t> {};

TEST_P(ReferenceKernelEmulationTest, MatchesTheCpuReferences) {
  Problem problem = problems()[GetParam()];
  const AttentionShape &shape = problem.shape;
  SCOPED_TRACE(problem.name);
  std::vector<float> q = randomTensor(shape.qElements(), 11, problem.type);
  std::vector<float> k = randomTensor(shape.kvElements(), 12, problem.type);
  std::vector<float> v = randomTensor(shape.kvElements(), 13, problem.type);
  KernelResult kernel = runEmulated(problem, q, k, v);

  std::vector<double> refOut(shape.qElements()), refLse(shape.lseElements());
  referenceAttention(problem.mask, shape, problem.params, q.data(), k.data(),
                     v.data(), refOut.data(), refLse.data());
  std::vector<float> naiveOut(shape.qElements()), naiveLse(shape.lseElements());
  naiveAttention(problem.mask, shape, problem.params, problem.type, q.data(),
                 k.data(), v.data(), naiveOut.data(), naiveLse.data());

  // fp64: the same sums in another order, so equal up to rounding.
  for (size_t i = 0; i < refOut.size(); ++i)
    ASSERT_NEAR(kernel.exactOut[i], refOut[i],
                1e-12 * (1 + std::fabs(refOut[i])))
        << "out element " << i;
  for (size_t i = 0; i < refLse.size(); ++i) {
    if (std::isinf(refLse[i]))
      ASSERT_EQ(kernel.exactLse[i], refLse[i]) << "lse element " << i;
    else
      ASSERT_NEAR(kernel.exactLse[i], refLse[i],
                  1e-12 * (1 + std::fabs(refLse[i])))
          << "lse element " << i;
  }

  // Naive: the same roundings at the same points, fp32 sums in another
  // order. Its error against the fp64 reference is what the yardstick
  // scales by, so that is what must agree.
  ErrorStats kernelOut = measureError(kernel.naiveOut.data(), refOut.data(),
                                      shape.qElements(), 0, 0);
  ErrorStats cpuOut =
      measureError(naiveOut.data(), refOut.data(), shape.qElements(), 0, 0);
  ErrorStats kernelLse = measureError(kernel.naiveLse.data(), refLse.data(),
                                      shape.lseElements(), 0, 0);
  ErrorStats cpuLse =
      measureError(naiveLse.data(), refLse.data(), shape.lseElements(), 0, 0);
  EXPECT_EQ(kernelOut.numNonFinite, 0);
  EXPECT_EQ(kernelLse.numNonFinite, 0);
  double floor = problem.type == ElementType::F32 ? 1e-5 : 1e-6;
  EXPECT_LE(kernelOut.maxAbsError, 2 * cpuOut.maxAbsError + floor);
  EXPECT_GE(kernelOut.maxAbsError, 0.5 * cpuOut.maxAbsError - floor);
  EXPECT_LE(kernelLse.maxAbsError, 2 * cpuLse.maxAbsError + floor);
  EXPECT_GE(kernelLse.maxAbsError, 0.5 * cpuLse.maxAbsError - floor);
  // Rounded at the same points, the two land on the same dtype value for
  // all but the elements where an fp32 sum order tips a rounding; leaving
  // out any of the roundings (of the scores, the probabilities or the
  // output) moves most elements instead.
  if (problem.type != ElementType::F32) {
    int64_t identical = 0;
    for (size_t i = 0; i < naiveOut.size(); ++i)
      identical += kernel.naiveOut[i] == naiveOut[i];
    EXPECT_GE(double(identical), 0.97 * double(naiveOut.size()))
        << identical << " of " << naiveOut.size() << " identical";
  }
  // Low precision, but not the fp64 reference in disguise.
  if (problem.type != ElementType::F32 && !problem.mask.empty()) {
    EXPECT_GT(kernelOut.maxAbsError, 1e-4);
  }

  // Rows with no key: out exactly 0 and lse -inf in both modes.
  std::vector<bool> empty = emptyRows(problem.mask, shape.numQ);
  for (int64_t row = 0; row < shape.numQ; ++row) {
    if (!empty[row])
      continue;
    for (int64_t head = 0; head < shape.headsQ; ++head) {
      int64_t index = row * shape.headsQ + head;
      EXPECT_EQ(kernel.exactLse[index],
                -std::numeric_limits<double>::infinity());
      EXPECT_EQ(kernel.naiveLse[index],
                -std::numeric_limits<float>::infinity());
      for (int64_t d = 0; d < shape.headDim; ++d) {
        EXPECT_EQ(kernel.exactOut[index * shape.headDim + d], 0.0);
        EXPECT_EQ(kernel.naiveOut[index * shape.headDim + d], 0.0f);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Masks, ReferenceKernelEmulationTest,
                         ::testing::Range<size_t>(0, 6),
                         [](const ::testing::TestParamInfo<size_t> &info) {
                           std::string name = problems()[info.param].name;
                           for (char &c : name)
                             if (c == '-')
                               c = '_';
                           return name;
                         });

TEST(ReferenceKernelLayoutTest, SharedMemoryFitsHopperForCommonHeadDims) {
  // 227 KiB is the opt-in limit per block on sm_90.
  for (int headDim : {64, 128, 256})
    EXPECT_LE(rk::sharedBytes(headDim), size_t(227 * 1024)) << headDim;
  // The default 48 KiB covers head dims up to 128 without opting in.
  EXPECT_LE(rk::sharedBytes(128), size_t(48 * 1024));
}

} // namespace
