//===- GpuCompiler.cpp - fattn programs to PTX plus a manifest ------------===//

#include "FlashDialect/GpuCompiler.h"

#include "FlashDialect/GpuKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace mlir::fattn;
namespace runtime = ::fattn::runtime;

static FailureOr<std::array<unsigned, 3>> constantDims(gpu::LaunchFuncOp launch,
                                                       gpu::KernelDim3 dims) {
  std::array<unsigned, 3> result;
  Value values[] = {dims.x, dims.y, dims.z};
  for (int axis = 0; axis < 3; ++axis) {
    APInt constant;
    if (!matchPattern(values[axis], m_ConstantInt(&constant)))
      return launch.emitError("launch dimensions must be constants");
    result[axis] = static_cast<unsigned>(constant.getZExtValue());
  }
  return result;
}

/// The manifest's parameter list from the launch's description
/// (fattn-map-tiles-to-gpu), which names each pointer the kernel takes.
static FailureOr<std::vector<runtime::KernelParam>>
kernelParams(gpu::LaunchFuncOp launch) {
  auto described = launch->getAttrOfType<ArrayAttr>(kKernelParamsAttrName);
  if (!described || described.size() != launch.getKernelOperands().size())
    return launch.emitError("expected '")
           << kKernelParamsAttrName << "' to describe every kernel operand";
  std::vector<runtime::KernelParam> params;
  for (Attribute entry : described) {
    auto dictionary = dyn_cast<DictionaryAttr>(entry);
    auto name = dictionary ? dictionary.getAs<StringAttr>("name") : nullptr;
    auto role = dictionary ? dictionary.getAs<StringAttr>("role") : nullptr;
    auto type = dictionary ? dictionary.getAs<TypeAttr>("type") : nullptr;
    if (role && (role.getValue() == "schedule" || role.getValue() == "scalar"))
      return launch.emitError("kernel parameter '")
             << (name ? name.getValue() : StringRef("?"))
             << "' is part of a run-time mask's schedule; manifests for "
                "run-time-mask kernels are not written yet";
    auto memref = type ? dyn_cast<MemRefType>(type.getValue()) : MemRefType();
    FailureOr<runtime::ElementType> dtype =
        memref ? runtimeElementType(memref.getElementType())
               : FailureOr<runtime::ElementType>(failure());
    if (!name || !role || !memref || !memref.hasStaticShape() ||
        failed(dtype) ||
        (role.getValue() != "input" && role.getValue() != "output"))
      return launch.emitError("malformed kernel parameter ") << entry;
    runtime::KernelParam param;
    param.name = name.str();
    param.role = role.getValue() == "input" ? runtime::ParamRole::Input
                                            : runtime::ParamRole::Output;
    param.dtype = *dtype;
    param.extents.assign(memref.getShape().begin(), memref.getShape().end());
    params.push_back(std::move(param));
  }
  return params;
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
  FailureOr<std::array<unsigned, 3>> grid =
      constantDims(launch, launch.getGridSizeOperandValues());
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
  manifest.mask = program.mask;
  return artifacts;
}
