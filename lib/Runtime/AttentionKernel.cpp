//===- AttentionKernel.cpp - Loading and launching compiled kernels -------===//

#include "FlashDialect/Runtime/AttentionKernel.h"

#include "FlashDialect/Runtime/Elements.h"

#include <cstdio>

namespace fattn::runtime {

using cuda::Status;

namespace {

constexpr size_t kNumParams = 5;

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
    // Only the five expected parameters are probed: asking for a sixth
    // fails by design, and compute-sanitizer reports every failing driver
    // call, so a kernel with extra parameters is left to the launch.
    for (size_t index = 0; index < kNumParams; ++index) {
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
                        " parameters; the manifest's ABI 'q k v out lse' "
                        "needs 5");
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

Status AttentionKernel::checkBuffers(const AttentionBuffers &buffers) const {
  struct Argument {
    const char *name;
    cuda::CUdeviceptr pointer;
    size_t bytes, alignment;
  };
  size_t element = elementBytes(spec.dtype);
  const Argument arguments[] = {
      {"q", buffers.q, qBytes(), element},
      {"k", buffers.k, kvBytes(), element},
      {"v", buffers.v, kvBytes(), element},
      {"out", buffers.out, outBytes(), element},
      {"lse", buffers.lse, lseBytes(), sizeof(float)},
  };
  for (const Argument &argument : arguments) {
    if (!argument.pointer)
      return Status::failure(std::string(argument.name) + " is a null pointer");
    if (argument.pointer % argument.alignment)
      return Status::failure(std::string(argument.name) + " at " +
                             hex(argument.pointer) + " is not aligned to " +
                             std::to_string(argument.alignment) + " bytes");
    // Only a known allocation can be checked: memory from some other
    // allocator (or context) is left to the kernel.
    cuda::CUdeviceptr base = 0;
    size_t size = 0;
    if (driver->cuMemGetAddressRange(&base, &size, argument.pointer) !=
        cuda::kSuccess)
      continue;
    size_t available = size_t(base + size - argument.pointer);
    if (available < argument.bytes)
      return Status::failure(std::string(argument.name) + " needs " +
                             std::to_string(argument.bytes) + " bytes at " +
                             hex(argument.pointer) + " for shape " +
                             std::to_string(spec.shape.numQ) + "x" +
                             std::to_string(spec.shape.numK) + " heads " +
                             std::to_string(spec.shape.headsQ) + "/" +
                             std::to_string(spec.shape.headsK) + " dim " +
                             std::to_string(spec.shape.headDim) + " " +
                             std::string(stringifyElementType(spec.dtype)) +
                             ", but its allocation has only " +
                             std::to_string(available) + " bytes from there");
  }
  return Status::success();
}

Status AttentionKernel::launch(const AttentionBuffers &buffers,
                               cuda::CUstream stream,
                               bool checkArguments) const {
  if (checkArguments)
    if (Status status = checkBuffers(buffers); !status)
      return status;
  AttentionBuffers arguments = buffers;
  void *params[kNumParams] = {&arguments.q, &arguments.k, &arguments.v,
                              &arguments.out, &arguments.lse};
  cuda::LaunchConfig config;
  config.grid = spec.grid;
  config.block = spec.block;
  config.sharedBytes = spec.sharedBytes;
  return cuda::launch(*driver, function, config, stream, params, spec.kernel);
}

} // namespace fattn::runtime
