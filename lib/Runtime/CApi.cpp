//===- CApi.cpp - The C API of libfattn_runtime.so ------------------------===//
//
// A thin layer over Manifest, CudaDriver and AttentionKernel that turns their
// error strings into status codes plus a thread-local message.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Runtime/fattn_runtime.h"

#include "FlashDialect/Mask/Mask.h"
#include "FlashDialect/Runtime/AttentionKernel.h"
#include "FlashDialect/Runtime/CudaDriver.h"
#include "FlashDialect/Runtime/DevicePlan.h"
#include "FlashDialect/Runtime/Manifest.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

using namespace fattn;
using namespace fattn::runtime;

struct fattn_kernel {
  const cuda::Driver *driver = nullptr;
  std::optional<cuda::Context> context;
  std::optional<AttentionKernel> kernel;
  /// A run-time mask's plan tables, reused from call to call.
  ScheduleBuffer schedule;
  /// The planner of masks in device memory and its tables (loaded on the
  /// first such call of which this kernel is the first).
  std::optional<DevicePlanner> devicePlanner;
};

namespace {

thread_local std::string lastError;

fattn_status failure(fattn_status status, std::string message) {
  lastError = std::move(message);
  return status;
}

fattn_status success() {
  lastError.clear();
  return FATTN_STATUS_SUCCESS;
}

fattn_status statusOfLoadError(KernelLoadError::Kind kind) {
  switch (kind) {
  case KernelLoadError::Kind::PtxLoad:
    return FATTN_STATUS_PTX_LOAD_FAILED;
  case KernelLoadError::Kind::Mismatch:
    return FATTN_STATUS_BAD_MANIFEST;
  case KernelLoadError::Kind::Unsupported:
    return FATTN_STATUS_UNSUPPORTED;
  case KernelLoadError::Kind::Cuda:
    return FATTN_STATUS_CUDA_ERROR;
  }
  return FATTN_STATUS_CUDA_ERROR;
}

/// Reads slices in the C layout, with the kind code checked (the rest is for
/// mask::validate).
std::optional<mask::Mask> readSlices(const int64_t *slices, int64_t count,
                                     std::string *error) {
  mask::Mask result;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t *values = slices + 5 * i;
    std::optional<mask::SliceKind> kind = mask::sliceKindFromCode(values[4]);
    if (!kind) {
      *error = "slice " + std::to_string(i) + ": unknown kind code " +
               std::to_string(values[4]);
      return std::nullopt;
    }
    result.push_back({values[0], values[1], values[2], values[3], *kind});
  }
  return result;
}

} // namespace

extern "C" {

fattn_status fattn_kernel_load(const char *manifest_path, fattn_kernel **out) {
  if (out)
    *out = nullptr;
  if (!manifest_path || !out)
    return failure(FATTN_STATUS_NULL_POINTER,
                   std::string("fattn_kernel_load: ") +
                       (manifest_path ? "out" : "manifest_path") + " is NULL");
  std::string error;
  std::optional<KernelManifest> manifest = readManifest(manifest_path, &error);
  if (!manifest)
    return failure(FATTN_STATUS_BAD_MANIFEST, error);
  std::optional<std::string> ptx =
      readTextFile(resolvePtxPath(manifest_path, *manifest), &error);
  if (!ptx)
    return failure(FATTN_STATUS_BAD_MANIFEST,
                   std::string(manifest_path) + ": PTX: " + error);

  const cuda::Driver *driver = cuda::Driver::get(&error);
  if (!driver)
    return failure(FATTN_STATUS_NO_DRIVER, error);
  std::optional<cuda::Context> context =
      cuda::Context::acquire(*driver, /*ordinal=*/0, &error);
  if (!context)
    return failure(error.rfind("no CUDA device", 0) == 0
                       ? FATTN_STATUS_NO_DEVICE
                       : FATTN_STATUS_CUDA_ERROR,
                   error);

  auto handle = std::make_unique<fattn_kernel>();
  handle->driver = driver;
  {
    cuda::ContextScope scope(*driver, context->handle());
    if (!scope.status().ok)
      return failure(FATTN_STATUS_CUDA_ERROR, scope.status().message);
    KernelLoadError loadError;
    handle->kernel =
        AttentionKernel::load(*context, std::move(*manifest), *ptx, &loadError);
    if (!handle->kernel)
      return failure(statusOfLoadError(loadError.kind),
                     std::string(manifest_path) + ": " + loadError.message);
  }
  handle->context = std::move(context);
  *out = handle.release();
  return success();
}

namespace {

/// Checks and launches in the kernel's context.
fattn_status launchArguments(fattn_kernel &kernel,
                             const KernelArguments &arguments, void *stream) {
  const std::string &name = kernel.kernel->manifest().kernel;
  cuda::ContextScope scope(*kernel.driver, kernel.context->handle());
  if (!scope.status().ok)
    return failure(FATTN_STATUS_CUDA_ERROR, scope.status().message);
  if (cuda::Status status = kernel.kernel->checkBuffers(arguments); !status)
    return failure(FATTN_STATUS_BAD_ARGUMENT, name + ": " + status.message);
  if (cuda::Status status =
          kernel.kernel->launch(arguments, static_cast<cuda::CUstream>(stream),
                                /*checkArguments=*/false);
      !status)
    return failure(FATTN_STATUS_LAUNCH_FAILED, status.message);
  return success();
}

} // namespace

fattn_status fattn_kernel_launch(fattn_kernel *kernel, const void *q,
                                 const void *k, const void *v, void *out,
                                 float *lse, void *stream) {
  if (!kernel)
    return failure(FATTN_STATUS_NULL_POINTER,
                   "fattn_kernel_launch: kernel is NULL");
  auto pointer = [](const void *p) {
    return cuda::CUdeviceptr(reinterpret_cast<uintptr_t>(p));
  };
  AttentionBuffers buffers;
  buffers.q = pointer(q);
  buffers.k = pointer(k);
  buffers.v = pointer(v);
  buffers.out = pointer(out);
  buffers.lse = pointer(lse);
  KernelArguments arguments;
  if (cuda::Status status = kernel->kernel->bind(buffers, arguments); !status)
    return failure(FATTN_STATUS_BAD_ARGUMENT, status.message);
  return launchArguments(*kernel, arguments, stream);
}

namespace {

/// A run-time mask's call, validated and planned for `kernel`; `function`
/// prefixes the messages.
std::optional<PlannedSchedule>
planRanges(const char *function, const fattn_kernel *kernel,
           const int32_t *q_ranges, const int32_t *k_ranges,
           const int32_t *kinds, int64_t num_slices, int64_t num_q,
           int64_t num_k, fattn_status *status) {
  std::string prefix = std::string(function) + ": ";
  if (!kernel || (num_slices > 0 && (!q_ranges || !k_ranges))) {
    *status = failure(FATTN_STATUS_NULL_POINTER,
                      prefix + (kernel ? "q_ranges or k_ranges" : "kernel") +
                          " is NULL");
    return std::nullopt;
  }
  if (num_slices < 0) {
    *status = failure(FATTN_STATUS_BAD_ARGUMENT,
                      prefix + "num_slices " + std::to_string(num_slices) +
                          " is negative");
    return std::nullopt;
  }
  std::string error;
  std::optional<PlannedSchedule> plan = kernel->kernel->planRanges(
      q_ranges, k_ranges, kinds, num_slices, num_q, num_k, &error);
  if (!plan)
    *status = failure(FATTN_STATUS_BAD_ARGUMENT, prefix + error);
  return plan;
}

} // namespace

fattn_status fattn_kernel_plan_ranges(
    const fattn_kernel *kernel, const int32_t *q_ranges,
    const int32_t *k_ranges, const int32_t *kinds, int64_t num_slices,
    int64_t num_q, int64_t num_k, int64_t *schedule_bytes, int64_t *num_slots,
    int64_t *max_items) {
  fattn_status status = FATTN_STATUS_SUCCESS;
  std::optional<PlannedSchedule> plan =
      planRanges("fattn_kernel_plan_ranges", kernel, q_ranges, k_ranges, kinds,
                 num_slices, num_q, num_k, &status);
  if (!plan)
    return status;
  if (schedule_bytes)
    *schedule_bytes = int64_t(plan->bytes());
  if (num_slots)
    *num_slots = plan->numSlots;
  if (max_items)
    *max_items = plan->maxItemsPerTile;
  return success();
}

fattn_status fattn_kernel_launch_ranges(
    fattn_kernel *kernel, const void *q, const void *k, const void *v,
    void *out, float *lse, const int32_t *q_ranges, const int32_t *k_ranges,
    const int32_t *kinds, int64_t num_slices, int64_t num_q, int64_t num_k,
    int64_t heads_q, int64_t heads_k, double scale, double softcap,
    void *stream) {
  fattn_status status = FATTN_STATUS_SUCCESS;
  std::optional<PlannedSchedule> plan =
      planRanges("fattn_kernel_launch_ranges", kernel, q_ranges, k_ranges,
                 kinds, num_slices, num_q, num_k, &status);
  if (!plan)
    return status;
  // Refused before anything touches the device (bind checks it again).
  const KernelManifest &manifest = kernel->kernel->manifest();
  AttentionShape call{num_q, num_k, heads_q, heads_k, manifest.shape.headDim};
  AttentionParams callParams{scale, softcap};
  if (std::optional<std::string> problem =
          checkCall(manifest.shape, manifest.params, call, callParams))
    return failure(FATTN_STATUS_BAD_ARGUMENT,
                   "fattn_kernel_launch_ranges: kernel " + manifest.kernel +
                       " was " + *problem);
  auto pointer = [](const void *p) {
    return cuda::CUdeviceptr(reinterpret_cast<uintptr_t>(p));
  };
  AttentionBuffers buffers{pointer(q), pointer(k), pointer(v), pointer(out),
                           pointer(lse)};
  cuda::ContextScope scope(*kernel->driver, kernel->context->handle());
  if (!scope.status().ok)
    return failure(FATTN_STATUS_CUDA_ERROR, scope.status().message);
  if (cuda::Status upload = kernel->schedule.upload(
          *kernel->driver, *plan, static_cast<cuda::CUstream>(stream));
      !upload)
    return failure(FATTN_STATUS_CUDA_ERROR, upload.message);
  KernelArguments arguments;
  if (cuda::Status bound = kernel->kernel->bind(
          buffers, arguments,
          {&*plan, kernel->schedule.pointer(), call, callParams});
      !bound)
    return failure(FATTN_STATUS_BAD_ARGUMENT, bound.message);
  return launchArguments(*kernel, arguments, stream);
}

namespace {

/// The kernels' item classes, or a failure naming the problem.
std::optional<std::vector<RuntimeSchedule>>
deviceClasses(fattn_kernel *const *kernels, int64_t count,
              const AttentionShape &call, const AttentionParams &params,
              fattn_status *status) {
  const std::string prefix = "fattn_kernels_launch_device_ranges: ";
  if (count < 1 || count > 4) {
    *status = failure(FATTN_STATUS_BAD_ARGUMENT,
                      prefix + std::to_string(count) +
                          " kernels given; give 1 to 4");
    return std::nullopt;
  }
  std::vector<RuntimeSchedule> schedules;
  for (int64_t c = 0; c < count; ++c) {
    if (!kernels[c]) {
      *status = failure(FATTN_STATUS_NULL_POINTER,
                        prefix + "kernel " + std::to_string(c) + " is NULL");
      return std::nullopt;
    }
    const KernelManifest &manifest = kernels[c]->kernel->manifest();
    std::optional<std::string> problem;
    if (!manifest.schedule)
      problem = "was compiled with its mask; it takes no run-time mask";
    else if (manifest.shape.headDim !=
                 kernels[0]->kernel->manifest().shape.headDim ||
             manifest.dtype != kernels[0]->kernel->manifest().dtype)
      problem = "computes another attention than kernel 0 (dtype or head dim)";
    else if (auto refused =
                 checkCall(manifest.shape, manifest.params, call, params))
      problem = "was " + *refused;
    if (problem) {
      *status = failure(FATTN_STATUS_BAD_ARGUMENT,
                        prefix + "kernel " + manifest.kernel + " " + *problem);
      return std::nullopt;
    }
    schedules.push_back(*manifest.schedule);
  }
  return schedules;
}

} // namespace

fattn_status fattn_kernels_launch_device_ranges(
    fattn_kernel *const *kernels, int64_t num_kernels, const void *q,
    const void *k, const void *v, void *out, float *lse,
    const fattn_device_mask_t *mask, int64_t num_q, int64_t num_k,
    int64_t heads_q, int64_t heads_k, double scale, double softcap,
    void *stream) {
  const std::string prefix = "fattn_kernels_launch_device_ranges: ";
  if (!kernels || !mask)
    return failure(FATTN_STATUS_NULL_POINTER,
                   prefix + (kernels ? "mask" : "kernels") + " is NULL");
  fattn_status status = FATTN_STATUS_SUCCESS;
  int64_t headDim = num_kernels > 0 && kernels[0]
                        ? kernels[0]->kernel->manifest().shape.headDim
                        : 0;
  AttentionShape call{num_q, num_k, heads_q, heads_k, headDim};
  AttentionParams params{scale, softcap};
  std::optional<std::vector<RuntimeSchedule>> schedules =
      deviceClasses(kernels, num_kernels, call, params, &status);
  if (!schedules)
    return status;
  auto address = [](const void *p) { return uint64_t(uintptr_t(p)); };
  DeviceRanges ranges;
  ranges.qRanges = address(mask->q_ranges);
  ranges.kRanges = address(mask->k_ranges);
  ranges.kinds = address(mask->kinds);
  ranges.cuSeqlensQ = address(mask->cu_seqlens_q);
  ranges.cuSeqlensK = address(mask->cu_seqlens_k);
  std::optional<mask::SliceKind> kind =
      mask::sliceKindFromCode(mask->seqlens_kind);
  if (!kind)
    return failure(FATTN_STATUS_BAD_ARGUMENT,
                   prefix + "seqlens_kind " +
                       std::to_string(mask->seqlens_kind) +
                       " is not a kind code (0 to 3)");
  ranges.seqlensKind = *kind;
  ranges.count = mask->count;
  ranges.numQ = num_q;
  ranges.numK = num_k;
  std::string error;
  std::optional<DevicePlanLayout> layout =
      layoutDevicePlan(*schedules, ranges, &error);
  if (!layout)
    return failure(FATTN_STATUS_BAD_ARGUMENT, prefix + error);
  fattn_kernel &first = *kernels[0];
  if (num_q == 0) {
    if (first.devicePlanner)
      first.devicePlanner->forgetLast();
    return success();
  }
  cuda::ContextScope scope(*first.driver, first.context->handle());
  if (!scope.status().ok)
    return failure(FATTN_STATUS_CUDA_ERROR, scope.status().message);
  if (!first.devicePlanner) {
    first.devicePlanner = DevicePlanner::load(*first.context, &error);
    if (!first.devicePlanner)
      return failure(FATTN_STATUS_UNSUPPORTED, prefix + error);
  }
  DevicePlanner &planner = *first.devicePlanner;
  auto cudaStream = static_cast<cuda::CUstream>(stream);
  if (cuda::Status reserved = planner.reserve(*layout, cudaStream); !reserved)
    return failure(FATTN_STATUS_LAUNCH_FAILED, prefix + reserved.message);
  // Every kernel bound and its buffers checked before anything is
  // enqueued: a refusal on the GPU writes NaN into out and lse, which must
  // be as large as the kernels' checks require.
  AttentionBuffers buffers{address(q), address(k), address(v), address(out),
                           address(lse)};
  std::vector<PlannedSchedule> views;
  std::vector<KernelArguments> arguments(static_cast<size_t>(num_kernels));
  for (int64_t c = 0; c < num_kernels; ++c)
    views.push_back(layout->viewOf(size_t(c)));
  for (int64_t c = 0; c < num_kernels; ++c) {
    const AttentionKernel &kernel = *kernels[c]->kernel;
    cuda::Status checked = kernel.bind(
        buffers, arguments[c], {&views[c], planner.pointer(), call, params});
    if (checked)
      checked = kernel.checkBuffers(arguments[c]);
    if (!checked)
      return failure(FATTN_STATUS_BAD_ARGUMENT, prefix + "kernel " +
                                                    kernel.manifest().kernel +
                                                    ": " + checked.message);
  }
  const KernelManifest &manifest = first.kernel->manifest();
  RefusedOutputs refused =
      refusedOutputsOf(manifest.dtype, address(out), address(lse),
                       num_q * heads_q * headDim, num_q * heads_q);
  if (cuda::Status planned =
          planner.enqueue(*layout, ranges, refused, cudaStream);
      !planned)
    return failure(FATTN_STATUS_LAUNCH_FAILED, prefix + planned.message);
  for (int64_t c = 0; c < num_kernels; ++c)
    if (cuda::Status launched = kernels[c]->kernel->launch(
            arguments[c], cudaStream, /*checkArguments=*/false);
        !launched)
      return failure(FATTN_STATUS_LAUNCH_FAILED, prefix + launched.message);
  return success();
}

fattn_status fattn_kernel_device_plan_status(fattn_kernel *kernel) {
  if (!kernel)
    return failure(FATTN_STATUS_NULL_POINTER,
                   "fattn_kernel_device_plan_status: kernel is NULL");
  if (!kernel->devicePlanner)
    return success();
  cuda::ContextScope scope(*kernel->driver, kernel->context->handle());
  if (!scope.status().ok)
    return failure(FATTN_STATUS_CUDA_ERROR, scope.status().message);
  std::string cudaError;
  std::optional<std::string> problem =
      kernel->devicePlanner->lastProblem(&cudaError);
  if (!cudaError.empty())
    return failure(FATTN_STATUS_CUDA_ERROR, cudaError);
  if (problem)
    return failure(FATTN_STATUS_BAD_ARGUMENT, *problem);
  return success();
}

fattn_status fattn_kernel_launch_params(fattn_kernel *kernel,
                                        void *const *buffers, int64_t count,
                                        void *stream) {
  if (!kernel || (!buffers && count > 0))
    return failure(FATTN_STATUS_NULL_POINTER,
                   std::string("fattn_kernel_launch_params: ") +
                       (kernel ? "buffers" : "kernel") + " is NULL");
  // Its tables and counts are the runtime's to make: raw values could
  // send the kernel past them.
  if (kernel->kernel->manifest().hasRuntimeMask())
    return failure(FATTN_STATUS_BAD_ARGUMENT,
                   "fattn_kernel_launch_params: kernel " +
                       kernel->kernel->manifest().kernel +
                       " takes its mask at run time; use "
                       "fattn_kernel_launch_ranges");
  // A count other than the kernel's is refused by launchArguments'
  // checkBuffers.
  KernelArguments arguments;
  for (int64_t index = 0; index < count; ++index)
    arguments.push_back(
        cuda::CUdeviceptr(reinterpret_cast<uintptr_t>(buffers[index])));
  return launchArguments(*kernel, arguments, stream);
}

fattn_status fattn_kernel_num_params(const fattn_kernel *kernel,
                                     int64_t *count) {
  if (!kernel || !count)
    return failure(FATTN_STATUS_NULL_POINTER,
                   std::string("fattn_kernel_num_params: ") +
                       (kernel ? "count" : "kernel") + " is NULL");
  *count = int64_t(kernel->kernel->manifest().parameters.size());
  return success();
}

fattn_status fattn_kernel_param(const fattn_kernel *kernel, int64_t index,
                                fattn_param_info_t *info) {
  if (!kernel || !info)
    return failure(FATTN_STATUS_NULL_POINTER,
                   std::string("fattn_kernel_param: ") +
                       (kernel ? "info" : "kernel") + " is NULL");
  const std::vector<KernelParam> &params =
      kernel->kernel->manifest().parameters;
  if (index < 0 || index >= int64_t(params.size()))
    return failure(FATTN_STATUS_BAD_ARGUMENT,
                   "fattn_kernel_param: index " + std::to_string(index) +
                       " is outside [0, " + std::to_string(params.size()) +
                       ")");
  const KernelParam &param = params[size_t(index)];
  *info = fattn_param_info_t{};
  info->name = param.name.c_str();
  static const fattn_param_role kRoles[] = {
      FATTN_PARAM_INPUT, FATTN_PARAM_OUTPUT, FATTN_PARAM_SCHEDULE,
      FATTN_PARAM_SCALAR};
  info->role = kRoles[static_cast<int>(param.role)];
  bool tensor = param.role == ParamRole::Input || param.role == ParamRole::Output;
  info->dtype = tensor || param.isFloatScalar()
                    ? static_cast<fattn_dtype>(param.dtype)
                    : FATTN_DTYPE_I32;
  info->rank = int(param.extents.size());
  std::copy(param.extents.begin(), param.extents.end(), info->extents);
  bool dynamic = std::count(param.extents.begin(), param.extents.end(),
                            kDynamicExtent) > 0;
  info->bytes = param.isScalar() ? int64_t(sizeof(int32_t))
                : dynamic        ? 0
                                 : int64_t(param.bytes());
  return success();
}

fattn_status fattn_kernel_info(const fattn_kernel *kernel,
                               fattn_kernel_info_t *info) {
  if (!kernel || !info)
    return failure(FATTN_STATUS_NULL_POINTER,
                   std::string("fattn_kernel_info: ") +
                       (kernel ? "info" : "kernel") + " is NULL");
  const AttentionKernel &loaded = *kernel->kernel;
  const KernelManifest &manifest = loaded.manifest();
  *info = fattn_kernel_info_t{};
  info->kernel_name = manifest.kernel.c_str();
  for (int i = 0; i < 3; ++i) {
    info->grid[i] = manifest.grid[i];
    info->block[i] = manifest.block[i];
  }
  info->shared_bytes = manifest.sharedBytes;
  info->dtype = static_cast<fattn_dtype>(manifest.dtype);
  info->num_q = manifest.shape.numQ;
  info->num_k = manifest.shape.numK;
  info->heads_q = manifest.shape.headsQ;
  info->heads_k = manifest.shape.headsK;
  info->head_dim = manifest.shape.headDim;
  info->scale = manifest.params.effectiveScale(manifest.shape);
  info->softcap = manifest.params.softcap == kCallParam ? kCallParam
                  : manifest.params.softcap > 0       ? manifest.params.softcap
                                                      : 0.0;
  info->num_slices = int64_t(manifest.mask.size());
  info->attended_pairs = loaded.attendedPairs();
  info->flops = loaded.flops();
  info->q_bytes = int64_t(loaded.qBytes());
  info->kv_bytes = int64_t(loaded.kvBytes());
  info->out_bytes = int64_t(loaded.outBytes());
  info->lse_bytes = int64_t(loaded.lseBytes());
  info->num_registers = loaded.numRegisters();
  info->runtime_mask = manifest.hasRuntimeMask() ? 1 : 0;
  return success();
}

fattn_status fattn_kernel_slices(const fattn_kernel *kernel, int64_t *slices,
                                 int64_t capacity, int64_t *num_slices) {
  if (!kernel || !num_slices || (!slices && capacity > 0))
    return failure(FATTN_STATUS_NULL_POINTER,
                   "fattn_kernel_slices: kernel, num_slices or slices is NULL");
  const mask::Mask &mask = kernel->kernel->manifest().mask;
  *num_slices = int64_t(mask.size());
  if (capacity < int64_t(mask.size()))
    return slices || capacity
               ? failure(FATTN_STATUS_BAD_ARGUMENT,
                         "fattn_kernel_slices: capacity " +
                             std::to_string(capacity) + " < " +
                             std::to_string(mask.size()) + " slices")
               : success();
  for (size_t i = 0; i < mask.size(); ++i) {
    const mask::Slice &slice = mask[i];
    int64_t values[5] = {slice.qBegin, slice.qEnd, slice.kBegin, slice.kEnd,
                         int64_t(slice.kind)};
    std::copy(values, values + 5, slices + 5 * i);
  }
  return success();
}

void fattn_kernel_destroy(fattn_kernel *kernel) {
  if (!kernel)
    return;
  if (kernel->context) {
    // The module lives in the kernel's context: unload it there.
    cuda::ContextScope scope(*kernel->driver, kernel->context->handle());
    kernel->kernel.reset();
  }
  delete kernel;
}

fattn_status fattn_mask_count_pairs(const int64_t *slices, int64_t num_slices,
                                    int64_t num_q, int64_t num_k,
                                    int64_t *pairs) {
  if (!pairs || (!slices && num_slices > 0))
    return failure(FATTN_STATUS_NULL_POINTER,
                   "fattn_mask_count_pairs: slices or pairs is NULL");
  std::string error;
  std::optional<mask::Mask> mask = readSlices(slices, num_slices, &error);
  if (!mask)
    return failure(FATTN_STATUS_BAD_ARGUMENT, error);
  if (auto problem = mask::validate(*mask, num_q, num_k))
    return failure(FATTN_STATUS_BAD_ARGUMENT, *problem);
  mask::PairCount count = mask::countAttendedPairs(*mask);
  std::optional<int64_t> narrow = mask::pairCountToInt64(count);
  if (!narrow)
    return failure(FATTN_STATUS_BAD_ARGUMENT,
                   "fattn_mask_count_pairs: the mask attends " +
                       mask::formatPairCount(count) +
                       " pairs, more than int64 holds");
  *pairs = *narrow;
  return success();
}

fattn_status fattn_mask_same_pairs(const int64_t *slices_a,
                                   int64_t num_slices_a,
                                   const int64_t *slices_b,
                                   int64_t num_slices_b, int64_t num_q,
                                   int64_t num_k, int *same) {
  if (!same || (!slices_a && num_slices_a > 0) ||
      (!slices_b && num_slices_b > 0))
    return failure(FATTN_STATUS_NULL_POINTER,
                   "fattn_mask_same_pairs: a slice array or same is NULL");
  std::string error;
  std::optional<mask::Mask> a = readSlices(slices_a, num_slices_a, &error);
  if (!a)
    return failure(FATTN_STATUS_BAD_ARGUMENT, "first mask: " + error);
  std::optional<mask::Mask> b = readSlices(slices_b, num_slices_b, &error);
  if (!b)
    return failure(FATTN_STATUS_BAD_ARGUMENT, "second mask: " + error);
  if (auto problem = mask::validate(*a, num_q, num_k))
    return failure(FATTN_STATUS_BAD_ARGUMENT, "first mask: " + *problem);
  if (auto problem = mask::validate(*b, num_q, num_k))
    return failure(FATTN_STATUS_BAD_ARGUMENT, "second mask: " + *problem);
  // The comparison walks attended rows; bound it like a tile table.
  mask::PairCount rows = 0;
  for (const mask::Mask *m : {&*a, &*b})
    for (const mask::Slice &slice : *m)
      rows += slice.attendedRows().size();
  if (rows > mask::kMaxTileMapEntries)
    return failure(FATTN_STATUS_BAD_ARGUMENT,
                   "fattn_mask_same_pairs: the masks attend " +
                       mask::formatPairCount(rows) +
                       " slice rows, more than the 2^26 the comparison, "
                       "linear in rows, takes");
  *same = mask::sameAttendedPairs(*a, *b);
  return success();
}

const char *fattn_last_error(void) { return lastError.c_str(); }

const char *fattn_status_name(fattn_status status) {
  // C callers may pass any int; reading it as the enum would be undefined
  // for values no enumerator has, so the bits are read as an int.
  int code;
  std::memcpy(&code, &status, sizeof(code));
  switch (code) {
  case FATTN_STATUS_SUCCESS:
    return "FATTN_STATUS_SUCCESS";
  case FATTN_STATUS_NULL_POINTER:
    return "FATTN_STATUS_NULL_POINTER";
  case FATTN_STATUS_BAD_MANIFEST:
    return "FATTN_STATUS_BAD_MANIFEST";
  case FATTN_STATUS_NO_DRIVER:
    return "FATTN_STATUS_NO_DRIVER";
  case FATTN_STATUS_NO_DEVICE:
    return "FATTN_STATUS_NO_DEVICE";
  case FATTN_STATUS_PTX_LOAD_FAILED:
    return "FATTN_STATUS_PTX_LOAD_FAILED";
  case FATTN_STATUS_LAUNCH_FAILED:
    return "FATTN_STATUS_LAUNCH_FAILED";
  case FATTN_STATUS_BAD_ARGUMENT:
    return "FATTN_STATUS_BAD_ARGUMENT";
  case FATTN_STATUS_UNSUPPORTED:
    return "FATTN_STATUS_UNSUPPORTED";
  case FATTN_STATUS_CUDA_ERROR:
    return "FATTN_STATUS_CUDA_ERROR";
  }
  return "FATTN_STATUS_UNKNOWN";
}

} // extern "C"
