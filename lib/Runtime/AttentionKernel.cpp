//===- AttentionKernel.cpp - Loading and launching compiled kernels -------===//

#include "FlashDialect/Runtime/AttentionKernel.h"

#include "FlashDialect/Runtime/Elements.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

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
      bool scalar = manifest.parameters[index].isScalar();
      size_t expectedSize =
          scalar ? sizeof(int32_t) : sizeof(cuda::CUdeviceptr);
      if (size != expectedSize)
        return fail(error, Kind::Mismatch,
                    "kernel " + name + " parameter " + std::to_string(index) +
                        " is " + std::to_string(size) + " bytes; the ABI " +
                        (scalar ? "passes scalars as 4-byte i32"
                                : "passes 8-byte device pointers"));
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

// Run-time token and head counts (kDynamicExtent) have no size until a
// launch.
size_t AttentionKernel::qBytes() const {
  return spec.shape.numQ < 0 || spec.shape.headsQ < 0
             ? 0
             : size_t(spec.shape.qElements()) * elementBytes(spec.dtype);
}

size_t AttentionKernel::kvBytes() const {
  return spec.shape.numK < 0 || spec.shape.headsK < 0
             ? 0
             : size_t(spec.shape.kvElements()) * elementBytes(spec.dtype);
}

size_t AttentionKernel::lseBytes() const {
  return spec.shape.numQ < 0 || spec.shape.headsQ < 0
             ? 0
             : size_t(spec.shape.lseElements()) * sizeof(float);
}

/// An f32 scalar as KernelArguments carries it: its bit pattern.
static cuda::CUdeviceptr floatArgument(double value) {
  float narrow = float(value);
  uint32_t bits;
  std::memcpy(&bits, &narrow, sizeof(bits));
  return cuda::CUdeviceptr(bits);
}

/// The value of a run-time mask's parameter `param` under `schedule`.
static std::optional<cuda::CUdeviceptr>
scheduleArgument(const KernelParam &param, const ScheduleBinding &schedule) {
  const PlannedSchedule &plan = *schedule.plan;
  if (param.role == ParamRole::Schedule) {
    std::optional<size_t> offset = plan.tableOffset(param.name);
    if (!offset)
      return std::nullopt;
    return schedule.tables + *offset * sizeof(int32_t);
  }
  if (param.name == plan_param::kNumQ)
    return cuda::CUdeviceptr(plan.numQ);
  if (param.name == plan_param::kNumK)
    return cuda::CUdeviceptr(plan.numK);
  if (param.name == plan_param::kNumSlots)
    return cuda::CUdeviceptr(plan.numSlots);
  const AttentionShape &shape = schedule.shape;
  if (param.name == call_param::kHeadsQ)
    return cuda::CUdeviceptr(shape.headsQ);
  if (param.name == call_param::kHeadsK)
    return cuda::CUdeviceptr(shape.headsK);
  if (param.name == call_param::kScale)
    return floatArgument(schedule.params.effectiveScale(shape));
  if (param.name == call_param::kSoftcap)
    return floatArgument(schedule.params.softcap);
  return std::nullopt;
}

Status AttentionKernel::bind(const AttentionBuffers &buffers,
                             KernelArguments &arguments,
                             const ScheduleBinding &schedule) const {
  const std::pair<const char *, cuda::CUdeviceptr> named[] = {
      {"q", buffers.q},     {"k", buffers.k},    {"v", buffers.v},
      {"out", buffers.out}, {"lse", buffers.lse}};
  if (spec.hasRuntimeMask() != (schedule.plan != nullptr))
    return Status::failure(
        "kernel " + spec.kernel +
        (schedule.plan ? " was compiled with its mask; it takes no plan"
                       : " takes its mask at run time; launch it with a plan "
                         "of the mask"));
  if (schedule.plan) {
    AttentionShape call = schedule.shape;
    call.numQ = schedule.plan->numQ;
    call.numK = schedule.plan->numK;
    if (std::optional<std::string> problem =
            checkCall(spec.shape, spec.params, call, schedule.params))
      return Status::failure("kernel " + spec.kernel + " was " + *problem);
  }
  arguments.clear();
  for (const KernelParam &param : spec.parameters) {
    const auto *match = std::find_if(
        std::begin(named), std::end(named),
        [&](const auto &entry) { return param.name == entry.first; });
    std::optional<cuda::CUdeviceptr> value;
    if (match != std::end(named))
      value = match->second;
    else if (schedule.plan)
      value = scheduleArgument(param, schedule);
    if (!value)
      return Status::failure("kernel " + spec.kernel + " takes parameter '" +
                             param.name +
                             "', which the q, k, v, out, lse launch does "
                             "not supply");
    arguments.push_back(*value);
  }
  return Status::success();
}

/// Why the kernel cannot take a run-time call of numQ x numK tokens, or
/// nullopt: it has no run-time mask, or fixes other token counts (its
/// buffers' extents and the kernel's row limits are those constants).
static std::optional<std::string> refuseCall(const KernelManifest &spec,
                                             int64_t numQ, int64_t numK) {
  if (!spec.schedule)
    return "kernel " + spec.kernel +
           " was compiled with its mask; it takes no run-time mask";
  if (std::optional<std::string> problem =
          checkCallTokens(spec.shape, numQ, numK))
    return "kernel " + spec.kernel + " was " + *problem;
  return std::nullopt;
}

std::optional<PlannedSchedule>
AttentionKernel::plan(const mask::Mask &mask, int64_t numQ, int64_t numK,
                      std::string *error) const {
  if (std::optional<std::string> refused = refuseCall(spec, numQ, numK)) {
    if (error)
      *error = *refused;
    return std::nullopt;
  }
  return planSchedule(*spec.schedule, mask, numQ, numK, error);
}

std::optional<PlannedSchedule>
AttentionKernel::planRanges(const int32_t *qRanges, const int32_t *kRanges,
                            const int32_t *kinds, int64_t count, int64_t numQ,
                            int64_t numK, std::string *error) const {
  if (std::optional<std::string> refused = refuseCall(spec, numQ, numK)) {
    if (error)
      *error = *refused;
    return std::nullopt;
  }
  return planScheduleFromRanges(*spec.schedule, qRanges, kRanges, kinds, count,
                                numQ, numK, error);
}

Status ScheduleBuffer::upload(const cuda::Driver &driver,
                              const PlannedSchedule &plan,
                              cuda::CUstream stream) {
  if (!buffer || buffer->size() < plan.bytes()) {
    // Launches still queued may read the old tables.
    if (buffer)
      if (Status status = driver.check(driver.cuStreamSynchronize(stream),
                                       "cuStreamSynchronize");
          !status)
        return status;
    // Twice the size: a call that grows the plan is rarely the last.
    size_t bytes = std::max(plan.bytes(), buffer ? 2 * buffer->size() : 0);
    buffer.reset();
    std::string problem;
    buffer = cuda::DeviceBuffer::allocate(driver, bytes, &problem);
    if (!buffer)
      return Status::failure("schedule tables: " + problem);
  }
  return driver.check(driver.cuMemcpyHtoDAsync(buffer->pointer(),
                                               plan.tables.data(),
                                               plan.bytes(), stream),
                      "cuMemcpyHtoDAsync (schedule tables)");
}

/// The kernels copy their inputs in 16-byte chunks (cp.async) and store out
/// in pairs of elements and lse as f32: a pointer aligned to less faults in
/// the kernel instead of failing here.
static size_t requiredAlignment(const KernelParam &param) {
  if (param.role == ParamRole::Input || param.role == ParamRole::Schedule)
    return 16;
  return std::max<size_t>(4, elementBytes(param.dtype));
}

Status AttentionKernel::checkBuffers(const KernelArguments &arguments) const {
  if (arguments.size() != spec.parameters.size())
    return Status::failure("kernel " + spec.kernel + " takes " +
                           std::to_string(spec.parameters.size()) +
                           " buffers, got " + std::to_string(arguments.size()));
  // Scalars first: dynamic extents are theirs.
  for (size_t index = 0; index < arguments.size(); ++index)
    if (spec.parameters[index].isScalar() &&
        !spec.parameters[index].isFloatScalar() &&
        arguments[index] > uint64_t(INT32_MAX))
      return Status::failure(spec.parameters[index].name + " = " +
                             std::to_string(arguments[index]) +
                             " does not fit the kernel's int32");
  auto scalar = [&](const std::string &name) -> int64_t {
    for (size_t index = 0; index < arguments.size(); ++index)
      if (spec.parameters[index].isScalar() &&
          spec.parameters[index].name == name)
        return int64_t(arguments[index]);
    return 0; // the manifest reader makes every name a scalar's
  };
  for (size_t index = 0; index < arguments.size(); ++index) {
    const KernelParam &param = spec.parameters[index];
    if (param.isScalar())
      continue;
    size_t needed = param.elementSize();
    std::string extents;
    size_t named = 0;
    for (int64_t extent : param.extents) {
      if (extent == kDynamicExtent)
        extent = scalar(param.extentScalars[named++]);
      needed *= size_t(extent);
      extents += (extents.empty() ? "" : "x") + std::to_string(extent);
    }
    // An empty tensor (no query or no key tokens) is never read or written,
    // and torch gives it no address. Schedule tables are never empty.
    if (needed == 0 && param.role != ParamRole::Schedule)
      continue;
    cuda::CUdeviceptr pointer = arguments[index];
    size_t alignment = requiredAlignment(param);
    if (!pointer)
      return Status::failure(param.name + " is a null pointer");
    if (pointer % alignment)
      return Status::failure(param.name + " at " + hex(pointer) +
                             " is not aligned to " + std::to_string(alignment) +
                             " bytes");
    // Schedule tables come from the runtime's own plan; only a known
    // allocation can be checked (memory from some other allocator, or
    // context, is left to the kernel).
    cuda::CUdeviceptr base = 0;
    size_t size = 0;
    if (param.role == ParamRole::Schedule ||
        driver->cuMemGetAddressRange(&base, &size, pointer) != cuda::kSuccess)
      continue;
    size_t available = size_t(base + size - pointer);
    if (available < needed)
      return Status::failure(
          param.name + " needs " + std::to_string(needed) + " bytes at " +
          hex(pointer) + " for " + extents + " " +
          std::string(stringifyElementType(param.dtype)) +
          ", but its allocation has only " + std::to_string(available) +
          " bytes from there");
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
  // Scalars go by value as i32 (checkBuffers bounds them).
  std::vector<int32_t> scalars(values.size());
  std::vector<void *> params;
  cuda::LaunchConfig config;
  config.grid = spec.grid;
  for (size_t index = 0; index < values.size(); ++index) {
    const KernelParam &param = spec.parameters[index];
    if (!param.isScalar()) {
      params.push_back(&values[index]);
      continue;
    }
    // Either an int32 (checked) or an f32's bits.
    scalars[index] = int32_t(uint32_t(values[index]));
    params.push_back(&scalars[index]);
    if (param.name == plan_param::kNumSlots)
      config.grid[1] = unsigned(values[index]);
    if (param.name == call_param::kHeadsQ)
      config.grid[0] = unsigned(values[index]);
  }
  // No query tiles (no query tokens): nothing to write.
  if (config.grid[1] == 0)
    return Status::success();
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
