//===- GradientRunner.cpp - Lower, JIT and call gradient programs ---------===//

#include "FlashDialect/GradientRunner.h"
#include "FlashDialect/FattnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::fattn;
namespace mask = ::fattn::mask;
namespace runtime = ::fattn::runtime;

namespace {

constexpr const char *kConvention =
    "expected @f(dout, q, k, v, out, lse) -> (dq, dk, dv) with the "
    "fattn.attention_grad operands in that order and its results returned, "
    "and a ranges mask's q_ranges, k_ranges and kinds as the last three "
    "arguments";

/// Whether the function's results are the op's, in order.
bool returnsResults(func::FuncOp func, AttentionGradOp op) {
  auto returnOp =
      dyn_cast<func::ReturnOp>(func.getBody().front().getTerminator());
  return returnOp && returnOp.getNumOperands() == 3 &&
         llvm::equal(returnOp.getOperands(), op.getResults());
}

LogicalResult checkConvention(func::FuncOp func, AttentionGradOp op) {
  auto isArgument = [&](Value value, unsigned position) {
    auto argument = dyn_cast<BlockArgument>(value);
    return argument && argument.getOwner() == &func.getBody().front() &&
           argument.getArgNumber() == position;
  };
  Value inputs[] = {op.getDout(), op.getQuery(), op.getKey(),
                    op.getValue(), op.getOut(),  op.getLse()};
  unsigned expectedArguments = op.hasRuntimeMask() ? 9 : 6;
  if (func.getNumArguments() != expectedArguments || !returnsResults(func, op))
    return func.emitError(kConvention);
  for (auto [position, input] : llvm::enumerate(inputs))
    if (!isArgument(input, position))
      return func.emitError(kConvention);
  if (op.hasRuntimeMask() &&
      (!isArgument(op.getQRanges(), 6) || !isArgument(op.getKRanges(), 7) ||
       !isArgument(op.getKinds(), 8)))
    return func.emitError(kConvention);
  return success();
}

} // namespace

FailureOr<GradientProgram>
mlir::fattn::analyzeGradientProgram(ModuleOp module) {
  SmallVector<AttentionGradOp> ops;
  module.walk([&](AttentionGradOp op) { ops.push_back(op); });
  if (ops.size() != 1)
    return module.emitError("expected exactly one fattn.attention_grad, found ")
           << ops.size();
  AttentionGradOp op = ops.front();
  auto func = op->getParentOfType<func::FuncOp>();
  if (!func)
    return op.emitError("fattn.attention_grad must be inside a func.func");
  if (!op.hasPureTensorSemantics())
    return op.emitError("expected a tensor-level program (before bufferization)");
  if (failed(checkConvention(func, op)))
    return failure();

  FailureOr<ProgramAttention> attention =
      readProgramAttention(op, func.getName());
  if (failed(attention))
    return failure();
  GradientProgram program;
  static_cast<ProgramAttention &>(program) = *attention;
  program.deterministic = op.getDeterministic();
  return program;
}

FailureOr<std::unique_ptr<GradientExecutable>>
GradientExecutable::compile(ModuleOp module, const GradientProgram &program,
                            const FattnToLLVMPipelineOptions &options) {
  if (program.elementType != runtime::ElementType::F32)
    return module.emitError("CPU execution of gradients runs f32 programs; "
                            "this one is ")
           << runtime::stringifyElementType(program.elementType);
  auto executable = std::unique_ptr<GradientExecutable>(new GradientExecutable());
  if (failed(executable->load(module, program.functionName, options)))
    return failure();
  executable->program = program;
  return executable;
}

void GradientExecutable::call(const GradientBuffers &buffers, int64_t numQ,
                              int64_t numK, void *qRanges, void *kRanges,
                              void *kinds) const {
  const runtime::AttentionShape &s = program.shape;
  // The generated code never writes its inputs; the descriptors are simply
  // not const-qualified.
  auto rows = [&](const float *data, int64_t tokens, int64_t heads) {
    return describeContiguous<3>(const_cast<float *>(data),
                                 {tokens, heads, s.headDim});
  };
  auto dout = rows(buffers.dout, numQ, s.headsQ),
       q = rows(buffers.q, numQ, s.headsQ), k = rows(buffers.k, numK, s.headsK),
       v = rows(buffers.v, numK, s.headsK),
       out = rows(buffers.out, numQ, s.headsQ),
       dq = rows(buffers.dq, numQ, s.headsQ),
       dk = rows(buffers.dk, numK, s.headsK),
       dv = rows(buffers.dv, numK, s.headsK);
  auto lse = describeContiguous<2>(const_cast<float *>(buffers.lse),
                                   {numQ, s.headsQ});
  if (!qRanges) {
    using Entry = void (*)(void *, void *, void *, void *, void *, void *,
                           void *, void *, void *);
    reinterpret_cast<Entry>(entry)(&dout, &q, &k, &v, &out, &lse, &dq, &dk,
                                   &dv);
    return;
  }
  using Entry = void (*)(void *, void *, void *, void *, void *, void *,
                         void *, void *, void *, void *, void *, void *);
  reinterpret_cast<Entry>(entry)(&dout, &q, &k, &v, &out, &lse, qRanges,
                                 kRanges, kinds, &dq, &dk, &dv);
}

std::optional<std::string>
GradientExecutable::run(const GradientBuffers &buffers) const {
  if (program.hasRuntimeMask)
    return std::string("the program's mask is ranges operands; use "
                       "runRanges()");
  call(buffers, program.shape.numQ, program.shape.numK, nullptr, nullptr,
       nullptr);
  return std::nullopt;
}

std::optional<std::string> GradientExecutable::runRanges(
    const GradientBuffers &buffers, const int32_t *qRanges,
    const int32_t *kRanges, const int32_t *kinds, int64_t count, int64_t numQ,
    int64_t numK) const {
  RangesOperands ranges;
  if (std::optional<std::string> problem = ranges.prepare(
          program, qRanges, kRanges, kinds, count, numQ, numK))
    return problem;
  call(buffers, numQ, numK, &ranges.qRanges, &ranges.kRanges, &ranges.kinds);
  return std::nullopt;
}

namespace {

/// The function text around a mask clause (`mask <...>` or `ranges(...)`).
std::string formatGradFunction(StringRef name, int64_t numQ, int64_t numK,
                               const runtime::AttentionShape &shape,
                               const runtime::AttentionParams &params,
                               StringRef extraArguments, StringRef maskClause) {
  auto tensor = [&](int64_t tokens, int64_t heads, bool rows) {
    return formatThdTensorType(tokens, heads, rows ? shape.headDim : 0,
                               runtime::ElementType::F32);
  };
  std::string q = tensor(numQ, shape.headsQ, true),
              kv = tensor(numK, shape.headsK, true),
              lse = tensor(numQ, shape.headsQ, false);
  bool dynamic = numQ == runtime::kDynamicExtent;
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "func.func @" << name << "(%dout: " << q << ", %q: " << q
     << ", %k: " << kv << ", %v: " << kv << ", %out: " << q << ", %lse: "
     << lse << extraArguments << ") -> (" << q << ", " << kv << ", " << kv
     << ") {\n";
  if (dynamic)
    os << "  %c0 = arith.constant 0 : index\n"
       << "  %num_q = tensor.dim %q, %c0 : " << q << "\n"
       << "  %num_k = tensor.dim %k, %c0 : " << kv << "\n";
  os << "  %dq0 = tensor.empty(" << (dynamic ? "%num_q" : "") << ") : " << q
     << "\n  %dk0 = tensor.empty(" << (dynamic ? "%num_k" : "") << ") : " << kv
     << "\n  %dv0 = tensor.empty(" << (dynamic ? "%num_k" : "") << ") : " << kv
     << "\n  %g:3 = fattn.attention_grad ins(%dout, %q, %k, %v, %out, %lse : "
     << q << ", " << q << ", " << kv << ", " << kv << ", " << q << ", " << lse
     << ")\n      outs(%dq0, %dk0, %dv0 : " << q << ", " << kv << ", " << kv
     << ")\n      " << maskClause << formatScoreAttributes(params) << " -> "
     << q << ", " << kv << ", " << kv << "\n"
     << "  return %g#0, %g#1, %g#2 : " << q << ", " << kv << ", " << kv
     << "\n}\n";
  return text;
}

} // namespace

std::string mlir::fattn::formatGradientProgram(
    const mask::Mask &attended, const runtime::AttentionShape &shape,
    const runtime::AttentionParams &params, StringRef name) {
  std::string clause = "mask <";
  llvm::raw_string_ostream os(clause);
  llvm::interleaveComma(attended, os, [&](const mask::Slice &slice) {
    os << mask::formatSlice(slice);
  });
  os << ">";
  return formatGradFunction(name, shape.numQ, shape.numK, shape, params, "",
                            clause);
}

std::string mlir::fattn::formatRuntimeMaskGradientProgram(
    const runtime::AttentionShape &shape,
    const runtime::AttentionParams &params, StringRef name) {
  return formatGradFunction(
      name, runtime::kDynamicExtent, runtime::kDynamicExtent, shape, params,
      ", %q_ranges: tensor<?x2xi32>, %k_ranges: tensor<?x2xi32>, %kinds: "
      "tensor<?xi32>",
      "ranges(%q_ranges, %k_ranges, %kinds : tensor<?x2xi32>, "
      "tensor<?x2xi32>, tensor<?xi32>)");
}
