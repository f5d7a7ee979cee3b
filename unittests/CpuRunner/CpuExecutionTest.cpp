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

/// The case's program `source`, lowered with the case's tiles and
/// JIT-compiled; null (with the failure recorded) when any step fails.
std::unique_ptr<mlir::fattn::CpuExecutable>
compileCase(const ExecutionCase &c, const std::string &source,
            MLIRContext &context, mlir::fattn::AttentionProgram &program) {
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(source, ParserConfig(&context));
  if (!module) {
    ADD_FAILURE() << "does not parse:\n" << source;
    return nullptr;
  }
  FailureOr<mlir::fattn::AttentionProgram> analyzed =
      mlir::fattn::analyzeAttentionProgram(*module);
  if (failed(analyzed)) {
    ADD_FAILURE() << "not a program:\n" << source;
    return nullptr;
  }
  program = *analyzed;
  mlir::fattn::FattnToLLVMPipelineOptions options;
  options.blockQ = c.blockQ;
  options.blockK = c.blockK;
  options.alignQueryTiles = c.alignQueryTiles;
  auto executable =
      mlir::fattn::CpuExecutable::compile(*module, program, options);
  if (failed(executable)) {
    ADD_FAILURE() << "does not compile:\n" << source;
    return nullptr;
  }
  return std::move(*executable);
}

/// Seeded random q, k, v of the case's shape, and poisoned out and lse.
struct CaseBuffers {
  std::vector<float> q, k, v, out, lse;

  explicit CaseBuffers(const runtime::AttentionShape &s)
      : q(runtime::randomTensor(s.qElements(), 11, runtime::ElementType::F32)),
        k(runtime::randomTensor(s.kvElements(), 12, runtime::ElementType::F32)),
        v(runtime::randomTensor(s.kvElements(), 13, runtime::ElementType::F32)),
        out(s.qElements(), std::nanf("")), lse(s.lseElements(), std::nanf("")) {
  }
};

/// out and lse within 1e-5 relative of the fp64 reference.
void expectMatchesReference(const ExecutionCase &c, const CaseBuffers &b) {
  std::vector<double> refOut(b.out.size()), refLse(b.lse.size());
  runtime::referenceAttention(c.mask, c.shape, c.params, b.q.data(),
                              b.k.data(), b.v.data(), refOut.data(),
                              refLse.data());
  runtime::Verdict outVerdict =
      runtime::judgeExact("out", b.out.data(), refOut.data(), b.out.size());
  runtime::Verdict lseVerdict =
      runtime::judgeExact("lse", b.lse.data(), refLse.data(), b.lse.size());
  EXPECT_TRUE(outVerdict.pass) << outVerdict.summary;
  EXPECT_TRUE(lseVerdict.pass) << lseVerdict.summary;
}

TEST_P(CpuExecutionTest, MatchesFp64Reference) {
  const ExecutionCase &c = GetParam();
  ASSERT_FALSE(mask::validate(c.mask, c.shape.numQ, c.shape.numK))
      << "test case mask is invalid";
  MLIRContext context(*registry);
  mlir::fattn::AttentionProgram program;
  auto executable = compileCase(
      c, mlir::fattn::formatAttentionProgram(c.mask, c.shape, c.params),
      context, program);
  ASSERT_TRUE(executable);
  const runtime::AttentionShape &s = program.shape;
  CaseBuffers b(s);
  std::optional<std::string> refused = executable->run(
      b.q.data(), b.k.data(), b.v.data(), b.out.data(), b.lse.data());
  ASSERT_FALSE(refused) << *refused;
  expectMatchesReference(c, b);

  // Rows the mask leaves empty are exactly 0 / -inf, never NaN.
  for (int64_t row = 0; row < s.numQ; ++row) {
    bool attendsSomething = false;
    for (const Slice &sl : c.mask)
      attendsSomething |= !sl.keysOfRow(row).empty();
    if (attendsSomething)
      continue;
    for (int64_t h = 0; h < s.headsQ; ++h) {
      EXPECT_TRUE(std::isinf(b.lse[row * s.headsQ + h]) &&
                  b.lse[row * s.headsQ + h] < 0)
          << "row " << row;
      for (int64_t d = 0; d < s.headDim; ++d)
        EXPECT_EQ(b.out[(row * s.headsQ + h) * s.headDim + d], 0.0f)
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
  mlir::fattn::AttentionProgram program;
  auto executable = compileCase(
      c,
      mlir::fattn::formatRuntimeMaskProgram(c.shape, c.params, "attention",
                                            runtime::ElementType::F32),
      context, program);
  ASSERT_TRUE(executable);
  ASSERT_TRUE(program.hasRuntimeMask);
  mask::MaskRanges ranges = mask::rangesOfMask(c.mask);
  CaseBuffers b(c.shape);
  std::optional<std::string> problem = executable->runRanges(
      b.q.data(), b.k.data(), b.v.data(), b.out.data(), b.lse.data(),
      ranges.qRanges.data(), ranges.kRanges.data(), ranges.kinds.data(),
      ranges.count(), c.shape.numQ, c.shape.numK);
  ASSERT_FALSE(problem) << *problem;
  expectMatchesReference(c, b);
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
