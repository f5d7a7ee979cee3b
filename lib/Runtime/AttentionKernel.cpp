//===- AttentionKernel.cpp - Loading and launching compiled kernels -------===//

#include "FlashDialect/Runtime/AttentionKernel.h"

#include "FlashDialect/Runtime/Elements.h"

#include <algorithm>
#include <cstdio>

namespace fattn::runtime {

using cuda::Status;

namespace {

std::nullopt_t fail(KernelLoadError *error, KernelLoadError::Kind kind,
                    std::string message) {
  if (error) {
    error->kind = kind;
    error->message = std::move(message);
  }
  return std::nullopt;
}

std::string hex(cuda::CUdeviceptr pointer) {
  char text[32];
  std::snprintf(text, sizeof(text), "0x%llx", pointer);
  return text;
}

} // namespace

std::optional<AttentionKernel>
AttentionKernel::load(const cuda::Context &context, KernelManifest manifest,
                      std::string_view ptx, KernelLoadError *error) {
  using Kind = KernelLoadError::Kind;
  const cuda::Driver &driver = context.driver();
  AttentionKernel kernel;
  kernel.driver = &driver;
  std::string problem;
  std::optional<cuda::Module> module =
      cuda::Module::loadPtx(driver, ptx, &problem);
  if (!module)
    return fail(error, Kind::PtxLoad, problem);
  std::optional<cuda::CUfunction> function =
      module->function(manifest.kernel, &problem);
  if (!function)
    return fail(error, Kind::PtxLoad, problem);
  kernel.module = std::move(*module);
  kernel.function = *function;
  const std::string &name = manifest.kernel;

  // A kernel whose parameters differ from the ABI would read garbage
  // pointers; where the driver can tell, refuse it up front.
  if (driver.cuFuncGetParamInfo) {
    // Only the manifest's parameters are probed: asking for one past the
    // last fails by design, and compute-sanitizer reports every failing
    // driver call, so a kernel with extra parameters is left to the launch.
    size_t expected = manifest.parameters.size();
    for (size_t index = 0; index < expected; ++index) {
      size_t offset = 0, size = 0;
      cuda::CUresult result =
          driver.cuFuncGetParamInfo(*function, index, &offset, &size);
      // A failure at index 0 says more about the driver than the kernel
      // (no kernel of the ABI takes no parameters): skip the check.
      if (result != cuda::kSuccess && index == 0)
        break;
      if (result != cuda::kSuccess)
        return fail(error, Kind::Mismatch,
                    "kernel " + name + " takes " + std::to_string(index) +
                        " parameters; the manifest lists " +
                        std::to_string(expected));
      if (size != sizeof(cuda::CUdeviceptr))
        return fail(error, Kind::Mismatch,
                    "kernel " + name + " parameter " + std::to_string(index) +
                        " is " + std::to_string(size) +
                        " bytes; the ABI passes 8-byte device pointers");
    }
  }

  struct {
    int *value;
    cuda::FunctionAttribute attribute;
  } attributes[] = {{&kernel.registers, cuda::kFuncNumRegs},
                    {&kernel.localMemory, cuda::kFuncLocalSizeBytes},
                    {&kernel.staticShared, cuda::kFuncSharedSizeBytes}};
  for (auto &attribute : attributes)
    if (Status status =
            driver.check(driver.cuFuncGetAttribute(
                             attribute.value, attribute.attribute, *function),
                         "cuFuncGetAttribute");
        !status)
      return fail(error, Kind::Cuda, status.message);
  int maxThreads = 0;
  if (Status status = driver.check(
          driver.cuFuncGetAttribute(&maxThreads, cuda::kFuncMaxThreadsPerBlock,
                                    *function),
          "cuFuncGetAttribute(max threads per block)");
      !status)
    return fail(error, Kind::Cuda, status.message);
  uint64_t threads =
      uint64_t(manifest.block[0]) * manifest.block[1] * manifest.block[2];
  if (threads > uint64_t(maxThreads))
    return fail(error, Kind::Unsupported,
                "kernel " + name + " allows at most " +
                    std::to_string(maxThreads) +
                    " threads per block (registers, launch bounds); the "
                    "manifest's block has " +
                    std::to_string(threads));
  if (manifest.grid[1] > 65535 || manifest.grid[2] > 65535)
    return fail(error, Kind::Mismatch,
                "grid " + std::to_string(manifest.grid[1]) + "x" +
                    std::to_string(manifest.grid[2]) +
                    " exceeds the limit of 65535 in y and z");
  if (Status status = cuda::prepareSharedMemory(
          driver, *function, context.info(), manifest.sharedBytes, name);
      !status)
    return fail(error, Kind::Unsupported, status.message);

  // The manifest's lengths are at most 2^31 - 1, so the count fits.
  kernel.pairs = static_cast<int64_t>(mask::countAttendedPairs(manifest.mask));
  kernel.spec = std::move(manifest);
  return kernel;
}

double AttentionKernel::flops() const {
  return 4.0 * double(pairs) * double(spec.shape.headsQ) *
         double(spec.shape.headDim);
}

size_t AttentionKernel::qBytes() const {
  return size_t(spec.shape.qElements()) * elementBytes(spec.dtype);
}

size_t AttentionKernel::kvBytes() const {
  return size_t(spec.shape.kvElements()) * elementBytes(spec.dtype);
}

size_t AttentionKernel::lseBytes() const {
  return size_t(spec.shape.lseElements()) * sizeof(float);
}

Status AttentionKernel::bind(const AttentionBuffers &buffers,
                             KernelArguments &arguments) const {
  const std::pair<const char *, cuda::CUdeviceptr> named[] = {
      {"q", buffers.q},     {"k", buffers.k},    {"v", buffers.v},
      {"out", buffers.out}, {"lse", buffers.lse}};
  arguments.clear();
  for (const KernelParam &param : spec.parameters) {
    const auto *match = std::find_if(
        std::begin(named), std::end(named),
        [&](const auto &entry) { return param.name == entry.first; });
    if (match == std::end(named))
      return Status::failure("kernel " + spec.kernel + " takes parameter '" +
                             param.name +
                             "', which the q, k, v, out, lse launch does "
                             "not supply");
    arguments.push_back(match->second);
  }
  return Status::success();
}

/// The kernels copy their inputs in 16-byte chunks (cp.async) and store out
/// in pairs of elements and lse as f32: a pointer aligned to less faults in
/// the kernel instead of failing here.
static size_t requiredAlignment(const KernelParam &param) {
  if (param.role == ParamRole::Input)
    return 16;
  return std::max<size_t>(4, elementBytes(param.dtype));
}

Status AttentionKernel::checkBuffers(const KernelArguments &arguments) const {
  if (arguments.size() != spec.parameters.size())
    return Status::failure("kernel " + spec.kernel + " takes " +
                           std::to_string(spec.parameters.size()) +
                           " buffers, got " + std::to_string(arguments.size()));
  for (size_t index = 0; index < arguments.size(); ++index) {
    const KernelParam &param = spec.parameters[index];
    cuda::CUdeviceptr pointer = arguments[index];
    size_t alignment = requiredAlignment(param);
    if (!pointer)
      return Status::failure(param.name + " is a null pointer");
    if (pointer % alignment)
      return Status::failure(param.name + " at " + hex(pointer) +
                             " is not aligned to " + std::to_string(alignment) +
                             " bytes");
    // Only a known allocation can be checked: memory from some other
    // allocator (or context) is left to the kernel.
    cuda::CUdeviceptr base = 0;
    size_t size = 0;
    if (driver->cuMemGetAddressRange(&base, &size, pointer) != cuda::kSuccess)
      continue;
    size_t available = size_t(base + size - pointer);
    if (available < param.bytes()) {
      std::string extents;
      for (int64_t extent : param.extents)
        extents += (extents.empty() ? "" : "x") + std::to_string(extent);
      return Status::failure(
          param.name + " needs " + std::to_string(param.bytes()) +
          " bytes at " + hex(pointer) + " for " + extents + " " +
          std::string(stringifyElementType(param.dtype)) +
          ", but its allocation has only " + std::to_string(available) +
          " bytes from there");
    }
  }
  return Status::success();
}

Status AttentionKernel::launch(const KernelArguments &arguments,
                               cuda::CUstream stream,
                               bool checkArguments) const {
  // The count is checked even when the caller checked the buffers: the
  // driver reads one pointer per parameter from `params`.
  if (checkArguments || arguments.size() != spec.parameters.size())
    if (Status status = checkBuffers(arguments); !status)
      return status;
  KernelArguments values = arguments;
  std::vector<void *> params;
  for (cuda::CUdeviceptr &value : values)
    params.push_back(&value);
  cuda::LaunchConfig config;
  config.grid = spec.grid;
  config.block = spec.block;
  config.sharedBytes = spec.sharedBytes;
  return cuda::launch(*driver, function, config, stream, params.data(),
                      spec.kernel);
}

Status AttentionKernel::launch(const AttentionBuffers &buffers,
                               cuda::CUstream stream,
                               bool checkArguments) const {
  KernelArguments arguments;
  if (Status status = bind(buffers, arguments); !status)
    return status;
  return launch(arguments, stream, checkArguments);
}

} // namespace fattn::runtime
