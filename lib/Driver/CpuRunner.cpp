//===- CpuRunner.cpp - Lower, JIT and call fattn programs on the CPU ------===//

#include "FlashDialect/CpuRunner.h"
#include "FlashDialect/CpuSchedule.h"
#include "FlashDialect/FattnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <mutex>

using namespace mlir;
using namespace mlir::fattn;
namespace mask = ::fattn::mask;
namespace runtime = ::fattn::runtime;

void mlir::fattn::registerFattnCompilerDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  registry.insert<FattnDialect>();
  registerBufferizableOpInterfaceExternalModels(registry);
}

FailureOr<runtime::ElementType> mlir::fattn::runtimeElementType(Type type) {
  if (type.isF32())
    return runtime::ElementType::F32;
  if (type.isF16())
    return runtime::ElementType::F16;
  if (type.isBF16())
    return runtime::ElementType::BF16;
  return failure();
}

FailureOr<ProgramAttention> mlir::fattn::readProgramAttention(
    Operation *op, StringRef functionName, RankedTensorType queryType,
    RankedTensorType keyType, bool hasRuntimeMask, const mask::Mask &mask,
    double scale, double softcap) {
  ProgramAttention attention;
  attention.functionName = functionName.str();
  attention.hasRuntimeMask = hasRuntimeMask;
  attention.mask = mask;
  // The verifier allows dynamic token counts only with a ranges mask.
  auto tokens = [](RankedTensorType type) {
    return type.isDynamicDim(0) ? runtime::kDynamicExtent : type.getDimSize(0);
  };
  attention.shape.numQ = tokens(queryType);
  attention.shape.headsQ = queryType.getDimSize(1);
  attention.shape.headDim = queryType.getDimSize(2);
  attention.shape.numK = tokens(keyType);
  attention.shape.headsK = keyType.getDimSize(1);
  attention.params.scale = scale;
  attention.params.softcap = softcap;
  FailureOr<runtime::ElementType> elementType =
      runtimeElementType(queryType.getElementType());
  if (failed(elementType))
    return op->emitError("unsupported element type ")
           << queryType.getElementType();
  attention.elementType = *elementType;
  return attention;
}

FailureOr<AttentionProgram>
mlir::fattn::analyzeAttentionProgram(ModuleOp module) {
  SmallVector<AttentionOp> ops;
  module.walk([&](AttentionOp op) { ops.push_back(op); });
  if (ops.size() != 1)
    return module.emitError("expected exactly one fattn.attention, found ")
           << ops.size();
  AttentionOp op = ops.front();
  auto func = op->getParentOfType<func::FuncOp>();
  if (!func)
    return op.emitError("fattn.attention must be inside a func.func");
  if (!op.hasPureTensorSemantics())
    return op.emitError("expected a tensor-level program (before bufferization)");

  auto isArgument = [&](Value value, unsigned position) {
    auto argument = dyn_cast<BlockArgument>(value);
    return argument && argument.getOwner() == &func.getBody().front() &&
           argument.getArgNumber() == position;
  };
  const char *convention =
      "expected @f(q, k, v) -> (out, lse) or @f(q, k, v, out, lse) with the "
      "fattn.attention operands in that order, and a ranges mask's q_ranges, "
      "k_ranges and kinds as the last three arguments";
  if (!isArgument(op.getQuery(), 0) || !isArgument(op.getKey(), 1) ||
      !isArgument(op.getValue(), 2))
    return func.emitError(convention);
  unsigned numArguments = func.getNumArguments();
  if (op.hasRuntimeMask()) {
    if (numArguments < 6 ||
        !isArgument(op.getQRanges(), numArguments - 3) ||
        !isArgument(op.getKRanges(), numArguments - 2) ||
        !isArgument(op.getKinds(), numArguments - 1))
      return func.emitError(convention);
    numArguments -= 3;
  }
  bool outputsAreArguments =
      numArguments == 5 && isArgument(op.getOut(), 3) && isArgument(op.getLse(), 4);
  if (numArguments != 3 && !outputsAreArguments)
    return func.emitError(convention);
  auto returnOp =
      dyn_cast<func::ReturnOp>(func.getBody().front().getTerminator());
  if (!returnOp)
    return func.emitError(convention);
  bool returnsResults = returnOp.getNumOperands() == 2 &&
                        returnOp.getOperand(0) == op.getResult(0) &&
                        returnOp.getOperand(1) == op.getResult(1);
  if (returnOp.getNumOperands() != 0 && !returnsResults)
    return func.emitError(convention);
  if (numArguments == 3 && !returnsResults)
    return func.emitError(convention);

  FailureOr<ProgramAttention> attention =
      readProgramAttention(op, func.getName());
  if (failed(attention))
    return failure();
  AttentionProgram program;
  static_cast<ProgramAttention &>(program) = *attention;
  program.hasDestinationArguments = outputsAreArguments && returnsResults;
  program.outputsAreArguments = outputsAreArguments;
  return program;
}

JitProgram::~JitProgram() = default;

FailureOr<std::unique_ptr<CpuExecutable>>
CpuExecutable::compile(ModuleOp module, const AttentionProgram &program,
                       const FattnToLLVMPipelineOptions &options) {
  if (program.elementType != runtime::ElementType::F32)
    return module.emitError("CPU execution runs f32 programs; this one is ")
           << runtime::stringifyElementType(program.elementType);
  if (program.hasRuntimeMask && program.hasDestinationArguments)
    return module.emitError("CPU execution of a ranges mask takes @f(q, k, v, "
                            "q_ranges, k_ranges, kinds) -> (out, lse) or "
                            "@f(q, k, v, out, lse, q_ranges, k_ranges, kinds)");
  auto executable = std::unique_ptr<CpuExecutable>(new CpuExecutable());
  if (failed(executable->load(module, program.functionName, options)))
    return failure();
  executable->program = program;
  return executable;
}

LogicalResult JitProgram::load(ModuleOp module, StringRef functionName,
                               const FattnToLLVMPipelineOptions &options) {
  auto func = module.lookupSymbol<func::FuncOp>(functionName);
  if (!func)
    return module.emitError("no function @") << functionName;
  // A C-compatible wrapper taking memref descriptors by pointer.
  func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                UnitAttr::get(module.getContext()));

  PassManager pm(module.getContext());
  buildFattnToLLVMPipeline(pm, options);
  if (failed(pm.run(module)))
    return module.emitError("fattn-to-llvm pipeline failed");

  static std::once_flag nativeTargetOnce;
  std::call_once(nativeTargetOnce, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  ExecutionEngineOptions engineOptions;
  auto transformer = makeOptimizingTransformer(/*optLevel=*/2,
                                               /*sizeLevel=*/0, nullptr);
  engineOptions.transformer = transformer;
  auto created = ExecutionEngine::create(module, engineOptions);
  if (!created) {
    std::string message = llvm::toString(created.takeError());
    return module.emitError("JIT compilation failed: ") << message;
  }
  engine = std::move(*created);
  // fattn-lower-tile-schedules' calls into the mask library.
  registerCpuScheduleSymbols(*engine);
  auto symbol = engine->lookup(("_mlir_ciface_" + functionName).str());
  if (!symbol) {
    std::string message = llvm::toString(symbol.takeError());
    return module.emitError("no JIT entry point: ") << message;
  }
  entry = *symbol;
  return success();
}


std::optional<std::string> CpuExecutable::run(const float *q, const float *k,
                                              const float *v, float *out,
                                              float *lse) const {
  if (program.hasRuntimeMask)
    return std::string("the program's mask is ranges operands; use "
                       "runRanges()");
  const runtime::AttentionShape &s = program.shape;
  // The generated code never writes q, k or v; the descriptors are simply
  // not const-qualified.
  auto qDesc = describeContiguous<3>(const_cast<float *>(q), {s.numQ, s.headsQ, s.headDim});
  auto kDesc = describeContiguous<3>(const_cast<float *>(k), {s.numK, s.headsK, s.headDim});
  auto vDesc = describeContiguous<3>(const_cast<float *>(v), {s.numK, s.headsK, s.headDim});
  auto outDesc = describeContiguous<3>(out, {s.numQ, s.headsQ, s.headDim});
  auto lseDesc = describeContiguous<2>(lse, {s.numQ, s.headsQ});
  using Desc3 = StridedMemRefType<float, 3>;
  using Desc2 = StridedMemRefType<float, 2>;
  if (!program.hasDestinationArguments) {
    using Entry = void (*)(Desc3 *, Desc3 *, Desc3 *, Desc3 *, Desc2 *);
    reinterpret_cast<Entry>(entry)(&qDesc, &kDesc, &vDesc, &outDesc, &lseDesc);
    return std::nullopt;
  }
  scratchOut.resize(s.qElements());
  scratchLse.resize(s.lseElements());
  auto initOutDesc = describeContiguous<3>(scratchOut.data(), {s.numQ, s.headsQ, s.headDim});
  auto initLseDesc = describeContiguous<2>(scratchLse.data(), {s.numQ, s.headsQ});
  using Entry = void (*)(Desc3 *, Desc3 *, Desc3 *, Desc3 *, Desc2 *, Desc3 *,
                         Desc2 *);
  reinterpret_cast<Entry>(entry)(&qDesc, &kDesc, &vDesc, &initOutDesc,
                                 &initLseDesc, &outDesc, &lseDesc);
  return std::nullopt;
}

std::optional<std::string> RangesOperands::prepare(
    const ProgramAttention &program, const int32_t *qRanges,
    const int32_t *kRanges, const int32_t *kindCodes, int64_t count,
    int64_t numQ, int64_t numK) {
  if (!program.hasRuntimeMask)
    return std::string("the program's mask is an attribute; use run()");
  if (std::optional<std::string> problem =
          runtime::checkCallTokens(program.shape, numQ, numK))
    return "the program was " + *problem;
  std::string problem;
  if (!mask::maskFromRanges(qRanges, kRanges, kindCodes, count, numQ, numK,
                            &problem))
    return problem;
  qData.assign(qRanges, qRanges + 2 * count);
  kData.assign(kRanges, kRanges + 2 * count);
  kindData.assign(size_t(count), 0);
  if (kindCodes)
    std::copy(kindCodes, kindCodes + count, kindData.begin());
  qData.resize(std::max<size_t>(qData.size(), 2));
  kData.resize(std::max<size_t>(kData.size(), 2));
  kindData.resize(std::max<size_t>(kindData.size(), 1));
  this->qRanges = describeContiguous<2>(qData.data(), {count, 2});
  this->kRanges = describeContiguous<2>(kData.data(), {count, 2});
  kinds = describeContiguous<1>(kindData.data(), {count});
  return std::nullopt;
}

std::optional<std::string> CpuExecutable::runRanges(
    const float *q, const float *k, const float *v, float *out, float *lse,
    const int32_t *qRanges, const int32_t *kRanges, const int32_t *kinds,
    int64_t count, int64_t numQ, int64_t numK) const {
  const runtime::AttentionShape &s = program.shape;
  RangesOperands ranges;
  if (std::optional<std::string> problem = ranges.prepare(
          program, qRanges, kRanges, kinds, count, numQ, numK))
    return problem;
  auto qDesc = describeContiguous<3>(const_cast<float *>(q), {numQ, s.headsQ, s.headDim});
  auto kDesc = describeContiguous<3>(const_cast<float *>(k), {numK, s.headsK, s.headDim});
  auto vDesc = describeContiguous<3>(const_cast<float *>(v), {numK, s.headsK, s.headDim});
  auto outDesc = describeContiguous<3>(out, {numQ, s.headsQ, s.headDim});
  auto lseDesc = describeContiguous<2>(lse, {numQ, s.headsQ});
  using Desc3 = StridedMemRefType<float, 3>;
  using Desc2 = StridedMemRefType<float, 2>;
  using Ranges = StridedMemRefType<int32_t, 2>;
  using Kinds = StridedMemRefType<int32_t, 1>;
  if (program.outputsAreArguments) {
    using Entry = void (*)(Desc3 *, Desc3 *, Desc3 *, Desc3 *, Desc2 *,
                           Ranges *, Ranges *, Kinds *);
    reinterpret_cast<Entry>(entry)(&qDesc, &kDesc, &vDesc, &outDesc, &lseDesc,
                                   &ranges.qRanges, &ranges.kRanges,
                                   &ranges.kinds);
    return std::nullopt;
  }
  using Entry = void (*)(Desc3 *, Desc3 *, Desc3 *, Ranges *, Ranges *,
                         Kinds *, Desc3 *, Desc2 *);
  reinterpret_cast<Entry>(entry)(&qDesc, &kDesc, &vDesc, &ranges.qRanges,
                                 &ranges.kRanges, &ranges.kinds, &outDesc,
                                 &lseDesc);
  return std::nullopt;
}

std::string
mlir::fattn::formatScoreAttributes(const runtime::AttentionParams &params) {
  auto f32Literal = [](double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.9e", value);
    return std::string(buffer);
  };
  SmallVector<std::string> attributes;
  if (params.scale > 0)
    attributes.push_back("scale = " + f32Literal(params.scale) + " : f32");
  if (params.softcap > 0)
    attributes.push_back("softcap = " + f32Literal(params.softcap) + " : f32");
  if (attributes.empty())
    return "";
  return " {" + llvm::join(attributes, ", ") + "}";
}

std::string
mlir::fattn::formatThdTensorType(int64_t tokens, int64_t heads,
                                 int64_t headDim,
                                 runtime::ElementType elementType) {
  std::string count = tokens == runtime::kDynamicExtent
                          ? std::string("?")
                          : std::to_string(tokens);
  return "tensor<" + count + "x" + std::to_string(heads) +
         (headDim ? "x" + std::to_string(headDim) : std::string()) + "x" +
         std::string(runtime::stringifyElementType(elementType)) + ">";
}

std::string mlir::fattn::formatAttentionProgram(
    const mask::Mask &attended, const runtime::AttentionShape &shape,
    const runtime::AttentionParams &params, StringRef name,
    runtime::ElementType elementType) {
  std::string text;
  llvm::raw_string_ostream os(text);
  std::string qType =
      formatThdTensorType(shape.numQ, shape.headsQ, shape.headDim, elementType);
  std::string kvType =
      formatThdTensorType(shape.numK, shape.headsK, shape.headDim, elementType);
  std::string lseType =
      formatThdTensorType(shape.numQ, shape.headsQ, 0, runtime::ElementType::F32);
  os << "func.func @" << name << "(%q: " << qType << ", %k: " << kvType
     << ", %v: " << kvType << ") -> (" << qType << ", " << lseType << ") {\n"
     << "  %out = tensor.empty() : " << qType << "\n"
     << "  %lse = tensor.empty() : " << lseType << "\n"
     << "  %o, %l = fattn.attention ins(%q, %k, %v : " << qType << ", "
     << kvType << ", " << kvType << ") outs(%out, %lse : " << qType << ", "
     << lseType << ")\n      mask <";
  llvm::interleaveComma(attended, os, [&](const mask::Slice &slice) {
    os << mask::formatSlice(slice);
  });
  os << ">" << formatScoreAttributes(params) << " -> " << qType << ", "
     << lseType << "\n"
     << "  return %o, %l : " << qType << ", " << lseType << "\n}\n";
  return text;
}

std::string mlir::fattn::formatRuntimeMaskProgram(
    const runtime::AttentionShape &shape,
    const runtime::AttentionParams &params, StringRef name,
    runtime::ElementType elementType) {
  const int64_t dynamic = runtime::kDynamicExtent;
  std::string qType = formatThdTensorType(dynamic, shape.headsQ, shape.headDim,
                                elementType);
  std::string kvType = formatThdTensorType(dynamic, shape.headsK, shape.headDim,
                                 elementType);
  std::string lseType =
      formatThdTensorType(dynamic, shape.headsQ, 0, runtime::ElementType::F32);
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "func.func @" << name << "(%q: " << qType << ", %k: " << kvType
     << ", %v: " << kvType
     << ", %q_ranges: tensor<?x2xi32>, %k_ranges: tensor<?x2xi32>, "
        "%kinds: tensor<?xi32>) -> ("
     << qType << ", " << lseType << ") {\n"
     << "  %c0 = arith.constant 0 : index\n"
     << "  %num_q = tensor.dim %q, %c0 : " << qType << "\n"
     << "  %out = tensor.empty(%num_q) : " << qType << "\n"
     << "  %lse = tensor.empty(%num_q) : " << lseType << "\n"
     << "  %o, %l = fattn.attention ins(%q, %k, %v : " << qType << ", "
     << kvType << ", " << kvType << ") outs(%out, %lse : " << qType << ", "
     << lseType << ")\n"
     << "      ranges(%q_ranges, %k_ranges, %kinds : tensor<?x2xi32>, "
        "tensor<?x2xi32>, tensor<?xi32>)"
     << formatScoreAttributes(params) << " -> " << qType << ", " << lseType
     << "\n"
     << "  return %o, %l : " << qType << ", " << lseType << "\n}\n";
  return text;
}
