//===- GpuCompiler.cpp - fattn programs to PTX plus a manifest ------------===//

#include "FlashDialect/GpuCompiler.h"

#include "FlashDialect/FattnOps.h"
#include "FlashDialect/GpuKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace mlir::fattn;
namespace runtime = ::fattn::runtime;

/// The launch's constant dimensions; those of `dynamic` are 0 (the run-time
/// plan's slot count in y, the call's heads in x).
static FailureOr<std::array<unsigned, 3>>
constantDims(gpu::LaunchFuncOp launch, gpu::KernelDim3 dims,
             std::array<bool, 3> dynamic = {false, false, false}) {
  std::array<unsigned, 3> result = {0, 0, 0};
  Value values[] = {dims.x, dims.y, dims.z};
  for (int axis = 0; axis < 3; ++axis) {
    if (dynamic[axis])
      continue;
    APInt constant;
    if (!matchPattern(values[axis], m_ConstantInt(&constant)))
      return launch.emitError("launch dimensions must be constants");
    result[axis] = static_cast<unsigned>(constant.getZExtValue());
  }
  return result;
}

/// One entry of the launch's description (fattn-map-tiles-to-gpu) as a
/// manifest parameter: a buffer of its memref's element type and shape, the
/// dynamic extents named by their scalars (a schedule table's row count is
/// the plan's), or an i32 scalar.
static FailureOr<runtime::KernelParam> kernelParam(gpu::LaunchFuncOp launch,
                                                   Attribute entry) {
  auto dictionary = dyn_cast<DictionaryAttr>(entry);
  auto name = dictionary ? dictionary.getAs<StringAttr>("name") : nullptr;
  auto role = dictionary ? dictionary.getAs<StringAttr>("role") : nullptr;
  auto type = dictionary ? dictionary.getAs<TypeAttr>("type") : nullptr;
  auto extents = dictionary ? dictionary.getAs<ArrayAttr>("extents") : nullptr;
  std::optional<runtime::ParamRole> parsedRole =
      role ? runtime::parseParamRole(role.getValue()) : std::nullopt;
  auto malformed = [&] {
    return launch.emitError("malformed kernel parameter ") << entry;
  };
  if (!name || !type || !parsedRole)
    return malformed();
  runtime::KernelParam param;
  param.name = name.str();
  param.role = *parsedRole;
  if (param.isScalar()) {
    Type scalar = type.getValue();
    if (!(scalar.isInteger(32) || scalar.isF32()) || extents)
      return malformed();
    if (scalar.isF32())
      param.dtype = runtime::ElementType::F32;
    return param;
  }
  auto memref = dyn_cast<MemRefType>(type.getValue());
  if (!memref)
    return malformed();
  bool tensor = param.role == runtime::ParamRole::Input ||
                param.role == runtime::ParamRole::Output;
  if (tensor) {
    FailureOr<runtime::ElementType> dtype =
        runtimeElementType(memref.getElementType());
    if (failed(dtype))
      return malformed();
    param.dtype = *dtype;
  } else if (!memref.getElementType().isInteger(32)) {
    return malformed();
  }
  for (int64_t extent : memref.getShape())
    param.extents.push_back(ShapedType::isDynamic(extent)
                                ? runtime::kDynamicExtent
                                : extent);
  if (tensor) {
    for (Attribute extent : extents ? extents.getValue() : ArrayRef<Attribute>{})
      if (auto scalar = dyn_cast<StringAttr>(extent))
        param.extentScalars.push_back(scalar.str());
    if (param.extentScalars.size() != size_t(memref.getNumDynamicDims()))
      return malformed();
  } else {
    param.extentScalars.assign(memref.getNumDynamicDims(), "");
  }
  return param;
}

/// The manifest's parameter list from the launch's description, which names
/// each value the kernel takes.
static FailureOr<std::vector<runtime::KernelParam>>
kernelParams(gpu::LaunchFuncOp launch) {
  auto described = launch->getAttrOfType<ArrayAttr>(kKernelParamsAttrName);
  if (!described || described.size() != launch.getKernelOperands().size())
    return launch.emitError("expected '")
           << kKernelParamsAttrName << "' to describe every kernel operand";
  std::vector<runtime::KernelParam> params;
  for (Attribute entry : described) {
    FailureOr<runtime::KernelParam> param = kernelParam(launch, entry);
    if (failed(param))
      return failure();
    params.push_back(std::move(*param));
  }
  return params;
}

/// The run-time plan the host side of the launch makes (fattn.kernel_schedule),
/// as the manifest's schedule record; none for a static mask.
static FailureOr<std::optional<runtime::RuntimeSchedule>>
runtimeSchedule(ModuleOp module, gpu::LaunchFuncOp launch) {
  SmallVector<KernelScheduleOp> plans;
  module.walk([&](KernelScheduleOp plan) { plans.push_back(plan); });
  if (plans.empty())
    return std::optional<runtime::RuntimeSchedule>();
  if (plans.size() != 1 ||
      launch.getGridSizeY() != plans.front().getNumSlots())
    return launch.emitError("expected one fattn.kernel_schedule, whose slot "
                            "count is the launch's grid y");
  KernelScheduleOp plan = plans.front();
  runtime::RuntimeSchedule schedule;
  schedule.blockQ = plan.getBlockQ();
  schedule.blockK = plan.getBlockK();
  schedule.keyEdge = plan.getWholeKeyTiles() ? ::fattn::mask::KeyEdge::Whole
                                             : ::fattn::mask::KeyEdge::Clipped;
  schedule.queryTiles = plan.getAlignQueryTiles()
                            ? ::fattn::mask::QueryTiles::SliceAligned
                            : ::fattn::mask::QueryTiles::Uniform;
  schedule.maxItemsPerTile = plan.getMaxItemsPerTile();
  return std::optional<runtime::RuntimeSchedule>(schedule);
}

FailureOr<GpuKernelArtifacts>
mlir::fattn::compileForGpu(ModuleOp module, const AttentionProgram &program,
                           const FattnToPTXPipelineOptions &options,
                           StringRef ptxFileName) {
  if (program.elementType == runtime::ElementType::F32)
    return module.emitError("GPU kernels take bf16 or f16 programs; this one "
                            "is f32");
  PassManager pm(module.getContext());
  buildFattnToPTXPipeline(pm, options);
  if (failed(pm.run(module)))
    return module.emitError("fattn-to-ptx pipeline failed");

  SmallVector<gpu::LaunchFuncOp> launches;
  module.walk([&](gpu::LaunchFuncOp launch) { launches.push_back(launch); });
  SmallVector<gpu::BinaryOp> binaries(module.getOps<gpu::BinaryOp>());
  if (launches.size() != 1 || binaries.size() != 1)
    return module.emitError("expected one kernel launch and one gpu.binary, "
                            "found ")
           << launches.size() << " and " << binaries.size();
  gpu::LaunchFuncOp launch = launches.front();
  auto object = dyn_cast<gpu::ObjectAttr>(binaries.front().getObjects()[0]);
  if (!object || object.getFormat() != gpu::CompilationTarget::Assembly)
    return module.emitError("expected PTX assembly in the gpu.binary");

  GpuKernelArtifacts artifacts;
  artifacts.ptx = object.getObject().str();
  runtime::KernelManifest &manifest = artifacts.manifest;
  manifest.kernel = launch.getKernelName().str();
  manifest.ptxFile = ptxFileName.str();
  FailureOr<std::vector<runtime::KernelParam>> params = kernelParams(launch);
  if (failed(params))
    return failure();
  FailureOr<std::optional<runtime::RuntimeSchedule>> schedule =
      runtimeSchedule(module, launch);
  if (failed(schedule))
    return failure();
  auto takes = [&](const char *name) {
    return llvm::any_of(*params, [&](const runtime::KernelParam &param) {
      return param.name == name;
    });
  };
  namespace Call = runtime::call_param;
  bool callHeads = takes(Call::kHeadsQ), callHeadsK = takes(Call::kHeadsK),
       callScale = takes(Call::kScale), callSoftcap = takes(Call::kSoftcap);
  FailureOr<std::array<unsigned, 3>> grid =
      constantDims(launch, launch.getGridSizeOperandValues(),
                   {callHeads, schedule->has_value(), false});
  FailureOr<std::array<unsigned, 3>> block =
      constantDims(launch, launch.getBlockSizeOperandValues());
  if (failed(grid) || failed(block))
    return failure();
  manifest.grid = *grid;
  manifest.block = *block;
  APInt sharedBytes;
  if (Value dynamic = launch.getDynamicSharedMemorySize()) {
    if (!matchPattern(dynamic, m_ConstantInt(&sharedBytes)))
      return launch.emitError("dynamic shared memory size must be constant");
    manifest.sharedBytes = static_cast<unsigned>(sharedBytes.getZExtValue());
  }
  manifest.parameters = std::move(*params);
  manifest.dtype = program.elementType;
  manifest.shape = program.shape;
  manifest.params = program.params;
  // What the kernel takes per call instead of the program's values.
  if (callHeads)
    manifest.shape.headsQ = runtime::kDynamicExtent;
  if (callHeadsK)
    manifest.shape.headsK = runtime::kDynamicExtent;
  if (callScale)
    manifest.params.scale = runtime::kCallParam;
  if (callSoftcap)
    manifest.params.softcap = runtime::kCallParam;
  manifest.mask = program.mask;
  manifest.schedule = *schedule;
  if (program.hasRuntimeMask != manifest.hasRuntimeMask())
    return module.emitError("the program's mask and the kernel's schedule "
                            "disagree on whether the mask is a run-time one");
  return artifacts;
}
