//===- GpuReference.cpp - Launching the embedded reference kernel ---------===//

#include "FlashDialect/Runtime/GpuReference.h"

#include "ReferenceKernelArgs.h"
#include "EmbeddedPtx.h"

#include <vector>

namespace fattn::runtime {

namespace rk = reference_kernel;
using cuda::Status;

bool GpuReference::isAvailable() { return rk::kPtx != nullptr; }

std::optional<GpuReference> GpuReference::load(const cuda::Context &context,
                                               std::string *error) {
  if (!rk::kPtx) {
    if (error)
      *error = std::string("GPU reference unavailable: ") +
               rk::kPtxUnavailableReason;
    return std::nullopt;
  }
  GpuReference reference;
  reference.driver = &context.driver();
  reference.device = context.info();
  std::string problem;
  std::optional<cuda::Module> module =
      cuda::Module::loadPtx(context.driver(), rk::kPtx, &problem);
  if (!module) {
    if (error)
      *error = "GPU reference: " + problem;
    return std::nullopt;
  }
  std::optional<cuda::CUfunction> function =
      module->function(rk::kEntryName, &problem);
  if (!function) {
    if (error)
      *error = "GPU reference: " + problem;
    return std::nullopt;
  }
  reference.module = std::move(*module);
  reference.function = *function;
  return reference;
}

int GpuReference::maxHeadDim() const {
  int headDim = 8;
  while (rk::sharedBytes(headDim + 8) <= size_t(device.maxSharedPerBlockOptin))
    headDim += 8;
  return headDim;
}

Status GpuReference::run(ReferenceMode mode, const mask::Mask &mask,
                         const AttentionShape &shape,
                         const AttentionParams &params, ElementType type,
                         cuda::CUdeviceptr q, cuda::CUdeviceptr k,
                         cuda::CUdeviceptr v, cuda::CUdeviceptr out,
                         cuda::CUdeviceptr lse, cuda::CUstream stream) const {
  if (auto problem = checkShape(shape))
    return Status::failure("GPU reference: " + *problem);
  // Bounds only: overlapping slices are a run-time mask's to give, and
  // like the kernels (and the CPU reference) the reference then weighs a
  // shared cell once per slice.
  for (size_t i = 0; i < mask.size(); ++i)
    if (auto problem = mask::checkSlice(mask[i], shape.numQ, shape.numK))
      return Status::failure("GPU reference: mask: slice " +
                             std::to_string(i) + ": " + *problem);
  if (shape.headsQ > 65535)
    return Status::failure("GPU reference: " + std::to_string(shape.headsQ) +
                           " query heads exceed the grid's y limit of 65535");
  if (!q || !k || !v || !out || !lse)
    return Status::failure("GPU reference: null device pointer");

  std::vector<int64_t> slices;
  slices.reserve(5 * mask.size());
  for (const mask::Slice &slice : mask) {
    slices.insert(slices.end(), {slice.qBegin, slice.qEnd, slice.kBegin,
                                 slice.kEnd, int64_t(slice.kind)});
  }
  std::string error;
  std::optional<cuda::DeviceBuffer> sliceBuffer = cuda::DeviceBuffer::allocate(
      *driver, slices.size() * sizeof(int64_t), &error);
  if (!sliceBuffer)
    return Status::failure("GPU reference: " + error);
  if (Status status =
          sliceBuffer->upload(slices.data(), slices.size() * sizeof(int64_t));
      !status)
    return status;

  rk::Args args = {};
  args.q = q;
  args.k = k;
  args.v = v;
  args.slices = sliceBuffer->pointer();
  args.out = out;
  args.lse = lse;
  args.numQ = shape.numQ;
  args.numK = shape.numK;
  args.numSlices = int64_t(mask.size());
  args.headsQ = int32_t(shape.headsQ);
  args.headsK = int32_t(shape.headsK);
  args.headDim = int32_t(shape.headDim);
  args.dtype = int32_t(type);
  args.naive = mode == ReferenceMode::Naive ? 1 : 0;
  args.scale = params.effectiveScale(shape);
  args.softcap = params.softcap > 0 ? params.softcap : 0.0;

  cuda::LaunchConfig config;
  config.grid = {unsigned((shape.numQ + rk::kTileRows - 1) / rk::kTileRows),
                 unsigned(shape.headsQ), 1};
  config.block = {unsigned(rk::kThreads), 1, 1};
  config.sharedBytes = unsigned(rk::sharedBytes(args.headDim));
  const char *name = mode == ReferenceMode::Exact ? "the GPU reference (exact)"
                                                  : "the GPU reference (naive)";
  if (Status status = cuda::prepareSharedMemory(*driver, function, device,
                                                config.sharedBytes, name);
      !status)
    return Status::failure(status.message + " (head dim " +
                           std::to_string(shape.headDim) + "; at most " +
                           std::to_string(maxHeadDim()) + " fits)");
  void *kernelParams[] = {&args};
  if (Status status =
          cuda::launch(*driver, function, config, stream, kernelParams, name);
      !status)
    return status;
  // The slices must outlive the kernel, and a fault is best reported here,
  // next to the launch that caused it.
  return driver->check(driver->cuStreamSynchronize(stream),
                       std::string("running ") + name);
}

} // namespace fattn::runtime
