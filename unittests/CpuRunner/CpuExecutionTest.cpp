//===- CpuExecutionTest.cpp - Compiled CPU code against the reference -----===//
//
// Each case builds a tensor-level program from a mask, lowers it through the
// fattn-to-llvm pipeline, runs it through the JIT and compares out and lse
// with the fp64 reference to 1e-5 relative (docs/spec.md §3 for fp32 CPU runs).
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/CpuRunner.h"
#include "FlashDialect/Mask/Mask.h"
#include "FlashDialect/Runtime/Check.h"
#include "FlashDialect/Runtime/Reference.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "ExecutionCases.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir;

using namespace ::fattn::testing;

namespace {

class CpuExecutionTest : public ::testing::TestWithParam<ExecutionCase> {
protected:
  static void SetUpTestSuite() {
    registry = new DialectRegistry();
    mlir::fattn::registerFattnCompilerDialects(*registry);
  }
  static void TearDownTestSuite() {
    delete registry;
    registry = nullptr;
  }
  static DialectRegistry *registry;
};
DialectRegistry *CpuExecutionTest::registry = nullptr;

TEST_P(CpuExecutionTest, MatchesFp64Reference) {
  const ExecutionCase &c = GetParam();
  ASSERT_FALSE(mask::validate(c.mask, c.shape.numQ, c.shape.numK))
      << "test case mask is invalid";
  MLIRContext context(*registry);
  std::string source =
      mlir::fattn::formatAttentionProgram(c.mask, c.shape, c.params);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(source, ParserConfig(&context));
  ASSERT_TRUE(module) << source;
  FailureOr<mlir::fattn::AttentionProgram> program =
      mlir::fattn::analyzeAttentionProgram(*module);
  ASSERT_TRUE(succeeded(program));

  mlir::fattn::FattnToLLVMPipelineOptions options;
  options.blockQ = c.blockQ;
  options.blockK = c.blockK;
  options.alignQueryTiles = c.alignQueryTiles;
  auto executable =
      mlir::fattn::CpuExecutable::compile(*module, *program, options);
  ASSERT_TRUE(succeeded(executable)) << source;

  const runtime::AttentionShape &s = program->shape;
  auto q = runtime::randomTensor(s.qElements(), 11, runtime::ElementType::F32);
  auto k = runtime::randomTensor(s.kvElements(), 12, runtime::ElementType::F32);
  auto v = runtime::randomTensor(s.kvElements(), 13, runtime::ElementType::F32);
  std::vector<float> out(s.qElements(), std::nanf(""));
  std::vector<float> lse(s.lseElements(), std::nanf(""));
  (*executable)->run(q.data(), k.data(), v.data(), out.data(), lse.data());

  std::vector<double> refOut(out.size()), refLse(lse.size());
  runtime::referenceAttention(c.mask, s, program->params, q.data(), k.data(),
                              v.data(), refOut.data(), refLse.data());
  runtime::Verdict outVerdict =
      runtime::judgeExact("out", out.data(), refOut.data(), out.size());
  runtime::Verdict lseVerdict =
      runtime::judgeExact("lse", lse.data(), refLse.data(), lse.size());
  EXPECT_TRUE(outVerdict.pass) << outVerdict.summary << "\n" << source;
  EXPECT_TRUE(lseVerdict.pass) << lseVerdict.summary << "\n" << source;

  // Rows the mask leaves empty are exactly 0 / -inf, never NaN.
  for (int64_t row = 0; row < s.numQ; ++row) {
    bool attendsSomething = false;
    for (const Slice &sl : c.mask)
      attendsSomething |= !sl.keysOfRow(row).empty();
    if (attendsSomething)
      continue;
    for (int64_t h = 0; h < s.headsQ; ++h) {
      EXPECT_TRUE(std::isinf(lse[row * s.headsQ + h]) &&
                  lse[row * s.headsQ + h] < 0)
          << "row " << row;
      for (int64_t d = 0; d < s.headDim; ++d)
        EXPECT_EQ(out[(row * s.headsQ + h) * s.headDim + d], 0.0f)
            << "row " << row;
    }
  }
}

// The same masks as a run-time call: one program with the mask as ranges
// operands and dynamic token counts, planned by fattn-lower-tile-schedules'
// calls into the mask library, against the same fp64 reference.
TEST_P(CpuExecutionTest, RuntimeFormMatchesFp64Reference) {
  const ExecutionCase &c = GetParam();
  MLIRContext context(*registry);
  std::string source = mlir::fattn::formatRuntimeMaskProgram(
      c.shape, c.params, "attention", runtime::ElementType::F32);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(source, ParserConfig(&context));
  ASSERT_TRUE(module) << source;
  FailureOr<mlir::fattn::AttentionProgram> program =
      mlir::fattn::analyzeAttentionProgram(*module);
  ASSERT_TRUE(succeeded(program));
  ASSERT_TRUE(program->hasRuntimeMask);
  mlir::fattn::FattnToLLVMPipelineOptions options;
  options.blockQ = c.blockQ;
  options.blockK = c.blockK;
  options.alignQueryTiles = c.alignQueryTiles;
  auto executable =
      mlir::fattn::CpuExecutable::compile(*module, *program, options);
  ASSERT_TRUE(succeeded(executable)) << source;

  const runtime::AttentionShape &s = c.shape;
  std::vector<int32_t> qRanges, kRanges, kinds;
  for (const Slice &slice : c.mask) {
    qRanges.insert(qRanges.end(), {int32_t(slice.qBegin), int32_t(slice.qEnd)});
    kRanges.insert(kRanges.end(), {int32_t(slice.kBegin), int32_t(slice.kEnd)});
    kinds.push_back(static_cast<int32_t>(slice.kind));
  }
  auto q = runtime::randomTensor(s.qElements(), 11, runtime::ElementType::F32);
  auto k = runtime::randomTensor(s.kvElements(), 12, runtime::ElementType::F32);
  auto v = runtime::randomTensor(s.kvElements(), 13, runtime::ElementType::F32);
  std::vector<float> out(s.qElements(), std::nanf(""));
  std::vector<float> lse(s.lseElements(), std::nanf(""));
  std::optional<std::string> problem = (*executable)->runRanges(
      q.data(), k.data(), v.data(), out.data(), lse.data(), qRanges.data(),
      kRanges.data(), kinds.data(), int64_t(kinds.size()), s.numQ, s.numK);
  ASSERT_FALSE(problem) << *problem;

  std::vector<double> refOut(out.size()), refLse(lse.size());
  runtime::referenceAttention(c.mask, s, c.params, q.data(), k.data(),
                              v.data(), refOut.data(), refLse.data());
  runtime::Verdict outVerdict =
      runtime::judgeExact("out", out.data(), refOut.data(), out.size());
  runtime::Verdict lseVerdict =
      runtime::judgeExact("lse", lse.data(), refLse.data(), lse.size());
  EXPECT_TRUE(outVerdict.pass) << outVerdict.summary;
  EXPECT_TRUE(lseVerdict.pass) << lseVerdict.summary;
}

INSTANTIATE_TEST_SUITE_P(
    Masks, CpuExecutionTest, ::testing::ValuesIn(allCases()),
    [](const ::testing::TestParamInfo<ExecutionCase> &info) {
      return info.param.name;
    });

TEST(CpuExecutionCaseCount, AtLeastFiftyMasks) {
  EXPECT_GE(allCases().size(), 50u);
}

TEST(AnalyzeAttentionProgram, RejectsOtherCallingConventions) {
  DialectRegistry registry;
  mlir::fattn::registerFattnCompilerDialects(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  const char *swapped = R"mlir(
func.func @f(%k: tensor<8x1x8xf32>, %q: tensor<8x1x8xf32>, %v: tensor<8x1x8xf32>) -> (tensor<8x1x8xf32>, tensor<8x1xf32>) {
  %o = tensor.empty() : tensor<8x1x8xf32>
  %l = tensor.empty() : tensor<8x1xf32>
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<8x1x8xf32>, tensor<8x1x8xf32>, tensor<8x1x8xf32>) outs(%o, %l : tensor<8x1x8xf32>, tensor<8x1xf32>) mask <causal [0:8, 0:8]> -> tensor<8x1x8xf32>, tensor<8x1xf32>
  return %r#0, %r#1 : tensor<8x1x8xf32>, tensor<8x1xf32>
})mlir";
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(swapped, ParserConfig(&context));
  ASSERT_TRUE(module);
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
    message = diagnostic.str();
    return success();
  });
  EXPECT_TRUE(failed(mlir::fattn::analyzeAttentionProgram(*module)));
  EXPECT_NE(message.find("expected @f(q, k, v)"), std::string::npos)
      << message;
}

} // namespace
