//===- BackwardTileOpsTest.cpp - The backward's tile ops, run on the CPU --===//
//
// One key-major tile covering a whole single-head problem, written with the
// backward's tile ops (delta, scores of K against Q, the transposed mask,
// probabilities from the forward's lse, dV, dP, dS, dK, dQ), lowered by
// fattn-to-llvm (fattn-lower-tiles-to-loops and on), JIT-compiled and
// compared with the fp64 reference gradients: the ops compute the
// gradients of the mask's attention, with the mask seen from the keys
// (mask::transposeMask).
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/CpuRunner.h"
#include "FlashDialect/CpuSchedule.h"
#include "FlashDialect/GradientRunner.h"
#include "FlashDialect/Mask/Schedule.h"
#include "FlashDialect/Passes.h"
#include "FlashDialect/Runtime/Reference.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/TargetSelect.h"

#include "ExecutionCases.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir;
using mlir::fattn::describeContiguous;
namespace mask = ::fattn::mask;
namespace runtime = ::fattn::runtime;

namespace {

std::string programText(int64_t numQ, int64_t numK, int64_t headDim,
                        double scale, double softcap, int64_t pieces) {
  auto type = [](int64_t rows, int64_t cols, const char *element = "f32") {
    return "memref<" + std::to_string(rows) + "x" + std::to_string(cols) + "x" +
           element + ">";
  };
  std::string q = type(numQ, headDim), k = type(numK, headDim),
              t = type(numK, numQ), lse = "memref<" + std::to_string(numQ) +
                                           "xf32>",
              table = type(pieces, 5, "i32"),
              ids = "memref<" + std::to_string(pieces) + "xi32>";
  char attributes[96];
  std::snprintf(attributes, sizeof(attributes), "{scale = %.9e : f32%s}",
                scale,
                softcap > 0 ? (", softcap = " + std::to_string(softcap) +
                               " : f32")
                                  .c_str()
                            : "");
  std::string a = attributes;
  return "func.func @grad(%q: " + q + ", %k: " + k + ", %v: " + k +
         ", %do: " + q + ", %o: " + q + ", %lse: " + lse + ", %dq: " + q +
         ", %dk: " + k + ", %dv: " + k + ", %table: " + table + ", %ids: " +
         ids + ") attributes {llvm.emit_c_interface} {\n"
         "  %c0 = arith.constant 0 : index\n"
         "  %n = arith.constant " + std::to_string(pieces) + " : index\n"
         "  %s = memref.alloca() : " + t + "\n"
         "  %p = memref.alloca() : " + t + "\n"
         "  %dp = memref.alloca() : " + t + "\n"
         "  %ds = memref.alloca() : " + t + "\n"
         "  %delta = memref.alloca() : " + lse + "\n"
         "  fattn.tile_dots %do, %o into %delta {diagonal} : " + q + ", " + q +
         ", " + lse + "\n"
         "  fattn.tile_scores %k, %q into %s " + a + " : " + k + ", " + q +
         ", " + t + "\n"
         "  fattn.tile_mask %s at [%c0, %c0] slices %table[%ids[%c0 : %n]] : " +
         t + ", " + table + ", " + ids + "\n"
         "  fattn.tile_probabilities %s lse %lse into %p : " + t + ", " + lse +
         ", " + t + "\n"
         "  fattn.tile_accumulate %p, %do into %dv : " + t + ", " + q + ", " +
         k + "\n"
         "  fattn.tile_dots %v, %do into %dp : " + k + ", " + q + ", " + t +
         "\n"
         "  fattn.tile_score_grads %s, %p, %dp delta %delta into %ds " + a +
         " : " + t + ", " + t + ", " + t + ", " + lse + ", " + t + "\n"
         "  fattn.tile_accumulate %ds, %q into %dk : " + t + ", " + q + ", " +
         k + "\n"
         "  fattn.tile_accumulate_transposed %ds, %k into %dq : " + t + ", " +
         k + ", " + q + "\n"
         "  return\n}\n";
}

/// Runs the tile program on `mask` and compares with referenceAttentionGrad.
void expectReferenceGradients(const mask::Mask &maskSlices, int64_t numQ,
                              int64_t numK, double softcap) {
  const int64_t headDim = 8;
  runtime::AttentionShape shape{numQ, numK, 1, 1, headDim};
  runtime::AttentionParams params{0, softcap};
  double scale = params.effectiveScale(shape);
  std::vector<float> q = runtime::randomTensor(numQ * headDim, 1,
                                               runtime::ElementType::F32);
  std::vector<float> k = runtime::randomTensor(numK * headDim, 2,
                                               runtime::ElementType::F32);
  std::vector<float> v = runtime::randomTensor(numK * headDim, 3,
                                               runtime::ElementType::F32);
  std::vector<float> dout = runtime::randomTensor(numQ * headDim, 4,
                                                  runtime::ElementType::F32);
  std::vector<double> out64(numQ * headDim), lse64(numQ);
  runtime::referenceAttention(maskSlices, shape, params, q.data(), k.data(),
                              v.data(), out64.data(), lse64.data());
  std::vector<float> out(out64.begin(), out64.end()),
      lse(lse64.begin(), lse64.end());
  mask::TransposedMask transposed = mask::transposeMask(maskSlices);
  std::vector<int32_t> table = mask::sliceRecords(transposed.slices);
  std::vector<int32_t> ids(transposed.slices.size());
  for (size_t i = 0; i < ids.size(); ++i)
    ids[i] = int32_t(i);
  int64_t pieces = std::max<int64_t>(1, int64_t(ids.size()));
  if (ids.empty()) { // a zero-row table is not a memref type: a dead piece
    table = {0, 0, 0, 0, 0};
    ids = {0};
  }

  DialectRegistry registry;
  mlir::fattn::registerFattnCompilerDialects(registry);
  MLIRContext context(registry);
  std::string source = programText(numQ, numK, headDim, scale, softcap, pieces);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(source, ParserConfig(&context));
  ASSERT_TRUE(module) << source;
  PassManager pm(&context);
  mlir::fattn::buildFattnToLLVMPipeline(pm, {});
  ASSERT_TRUE(succeeded(pm.run(*module))) << source;
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  ExecutionEngineOptions options;
  auto engine = ExecutionEngine::create(*module, options);
  ASSERT_TRUE(bool(engine)) << llvm::toString(engine.takeError());
  auto entry = (*engine)->lookup("_mlir_ciface_grad");
  ASSERT_TRUE(bool(entry)) << llvm::toString(entry.takeError());

  std::vector<float> dq(numQ * headDim, 0), dk(numK * headDim, 0),
      dv(numK * headDim, 0);
  auto d2 = [&](std::vector<float> &x, int64_t rows) {
    return describeContiguous<2>(x.data(), {rows, headDim});
  };
  auto qd = d2(q, numQ), kd = d2(k, numK), vd = d2(v, numK),
       dod = d2(dout, numQ), od = d2(out, numQ), dqd = d2(dq, numQ),
       dkd = d2(dk, numK), dvd = d2(dv, numK);
  auto lsed = describeContiguous<1>(lse.data(), {numQ});
  auto tabled = describeContiguous<2>(table.data(), {pieces, 5});
  auto idsd = describeContiguous<1>(ids.data(), {pieces});
  using Entry = void (*)(void *, void *, void *, void *, void *, void *,
                         void *, void *, void *, void *, void *);
  reinterpret_cast<Entry>(*entry)(&qd, &kd, &vd, &dod, &od, &lsed, &dqd, &dkd,
                                  &dvd, &tabled, &idsd);

  std::vector<double> rq(dq.size()), rk(dk.size()), rv(dv.size());
  runtime::referenceAttentionGrad(maskSlices, shape, params, q.data(),
                                  k.data(), v.data(), dout.data(), rq.data(),
                                  rk.data(), rv.data());
  for (auto [name, got, expected] :
       {std::tuple{"dq", &dq, &rq}, std::tuple{"dk", &dk, &rk},
        std::tuple{"dv", &dv, &rv}})
    for (size_t i = 0; i < got->size(); ++i)
      ASSERT_NEAR((*got)[i], (*expected)[i], 1e-4 * (1 + std::abs((*expected)[i])))
          << name << "[" << i << "], softcap " << softcap;
}

TEST(BackwardTileOpsTest, GradientsOfEveryKindWithEmptyRows) {
  // Every kind, rows 16..19 attending nothing, tall and wide slices.
  mask::Mask slices = {{0, 6, 0, 9, mask::SliceKind::Full},
                       {6, 11, 2, 14, mask::SliceKind::Causal},
                       {11, 16, 0, 4, mask::SliceKind::InvCausal},
                       {0, 5, 9, 14, mask::SliceKind::BiCausal}};
  for (double softcap : {0.0, 1.5})
    expectReferenceGradients(slices, 20, 14, softcap);
}

TEST(BackwardTileOpsTest, CausalAndNoKeys) {
  expectReferenceGradients(mask::causalMask(13, 13), 13, 13, 0);
  expectReferenceGradients({}, 5, 7, 0);
}

/// A memref-level program applying fattn.attention_grad to `c`'s mask.
class AttentionGradCpuTest
    : public ::testing::TestWithParam<::fattn::testing::ExecutionCase> {};

/// Compiles the tensor-level gradient program of `c` (formatGradientProgram,
/// or with `ranges` formatRuntimeMaskGradientProgram) through
/// GradientExecutable (fattn-to-llvm and the JIT), runs it on random inputs
/// with the fp64 forward's out and lse, and compares dQ, dK, dV with
/// referenceAttentionGrad: fp32 within 1e-5 of each tensor's largest
/// magnitude, every element written.
void expectReferenceGradients(const ::fattn::testing::ExecutionCase &c,
                              bool ranges) {
  const runtime::AttentionShape &shape = c.shape;
  auto random = [](int64_t count, uint64_t seed) {
    return runtime::randomTensor(count, seed, runtime::ElementType::F32);
  };
  std::vector<float> q = random(shape.qElements(), 1),
                     k = random(shape.kvElements(), 2),
                     v = random(shape.kvElements(), 3),
                     dout = random(shape.qElements(), 4);
  std::vector<double> out64(shape.qElements()), lse64(shape.lseElements());
  runtime::referenceAttention(c.mask, shape, c.params, q.data(), k.data(),
                              v.data(), out64.data(), lse64.data());
  std::vector<float> out(out64.begin(), out64.end()),
      lse(lse64.begin(), lse64.end());

  std::string source =
      ranges ? mlir::fattn::formatRuntimeMaskGradientProgram(shape, c.params)
             : mlir::fattn::formatGradientProgram(c.mask, shape, c.params);
  DialectRegistry registry;
  mlir::fattn::registerFattnCompilerDialects(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(source, ParserConfig(&context));
  ASSERT_TRUE(module) << source;
  FailureOr<mlir::fattn::GradientProgram> program =
      mlir::fattn::analyzeGradientProgram(*module);
  ASSERT_TRUE(succeeded(program)) << source;
  mlir::fattn::FattnToLLVMPipelineOptions options;
  options.blockQ = c.blockQ;
  options.blockK = c.blockK;
  auto executable =
      mlir::fattn::GradientExecutable::compile(*module, *program, options);
  ASSERT_TRUE(succeeded(executable)) << source;

  // NaN-poisoned: every element must be written.
  std::vector<float> dq(shape.qElements(), std::nanf("")),
      dk(shape.kvElements(), std::nanf("")),
      dv(shape.kvElements(), std::nanf(""));
  mlir::fattn::GradientBuffers buffers{dout.data(), q.data(),  k.data(),
                                       v.data(),    out.data(), lse.data(),
                                       dq.data(),   dk.data(),  dv.data()};
  if (ranges) {
    mask::MaskRanges call = mask::rangesOfMask(c.mask);
    std::optional<std::string> refused = (*executable)->runRanges(
        buffers, call.qRanges.data(), call.kRanges.data(), call.kinds.data(),
        call.count(), shape.numQ, shape.numK);
    ASSERT_FALSE(refused) << *refused;
  } else {
    std::optional<std::string> refused = (*executable)->run(buffers);
    ASSERT_FALSE(refused) << *refused;
  }

  std::vector<double> rq(dq.size()), rk(dk.size()), rv(dv.size());
  runtime::referenceAttentionGrad(c.mask, shape, c.params, q.data(), k.data(),
                                  v.data(), dout.data(), rq.data(), rk.data(),
                                  rv.data());
  for (auto [name, got, expected] :
       {std::tuple{"dq", &dq, &rq}, std::tuple{"dk", &dk, &rk},
        std::tuple{"dv", &dv, &rv}}) {
    double largest = 1e-30;
    for (double value : *expected)
      largest = std::max(largest, std::abs(value));
    for (size_t i = 0; i < got->size(); ++i)
      ASSERT_NEAR((*got)[i], (*expected)[i], 1e-5 * largest)
          << name << "[" << i << "] of " << c.name
          << (ranges ? " (run-time form)" : "");
  }
}

/// The op through fattn-to-llvm: tiled over the key-major schedule, the
/// backward's tile ops lowered to loops.
TEST_P(AttentionGradCpuTest, MatchesFp64ReferenceGradients) {
  expectReferenceGradients(GetParam(), /*ranges=*/false);
}

/// The run-time form: the same masks as range operands of one program with
/// dynamic token counts, planned key-major when it runs.
TEST_P(AttentionGradCpuTest, RuntimeFormMatchesFp64ReferenceGradients) {
  expectReferenceGradients(GetParam(), /*ranges=*/true);
}

INSTANTIATE_TEST_SUITE_P(
    Suite, AttentionGradCpuTest,
    ::testing::ValuesIn(::fattn::testing::allCases()),
    [](const ::testing::TestParamInfo<::fattn::testing::ExecutionCase> &info) {
      return info.param.name;
    });

} // namespace
