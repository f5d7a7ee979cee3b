//===- GpuReference.h - Reference attention computed on the GPU -*- C++ -*-===//
//
// The CPU reference (Reference.h) takes minutes at the sizes the kernels are
// benchmarked at; this computes the same two references on the GPU, with a
// kernel written in CUDA C++ that shares nothing with the generated code
// (lib/Runtime/ReferenceKernel.cu, compiled to PTX when the runtime is built
// and embedded in it):
//
// - Exact: fp64 scores, softmax and products; out and lse as double.
// - Naive: eager PyTorch's materialized-scores attention in the input dtype
//   (fp32 accumulation, every result rounded to the dtype, fp32 softmax with
//   rounded probabilities); out and lse as float. The yardstick of docs/spec.md
//   §3 compares a kernel's error with this one's.
//
// Rows with no attended key get out 0 and lse -inf in both.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_RUNTIME_GPUREFERENCE_H
#define FATTN_RUNTIME_GPUREFERENCE_H

#include "FlashDialect/Mask/Mask.h"
#include "FlashDialect/Runtime/CudaDriver.h"
#include "FlashDialect/Runtime/Reference.h"

#include <optional>
#include <string>

namespace fattn::runtime {

enum class ReferenceMode { Exact, Naive };

class GpuReference {
public:
  /// Whether the runtime was built with nvcc, i.e. carries the kernel.
  static bool isAvailable();

  /// Loads the embedded kernel into `context`, which must be current here
  /// and in every later call.
  /// Errors: "GPU reference unavailable: ..." when built without nvcc, or the
  /// PTX load failure.
  static std::optional<GpuReference> load(const cuda::Context &context,
                                          std::string *error);

  /// Computes out and lse for every query row and head. q, k, v are device
  /// "thd" tensors of `type`; out holds numQ*headsQ*headDim and lse
  /// numQ*headsQ elements of double (Exact) or float (Naive). Each slice is
  /// checked against the shape first; slices may overlap (a run-time mask's
  /// shared cell weighs once per slice). Synchronizes `stream` before
  /// returning, so that execution errors are reported here.
  cuda::Status run(ReferenceMode mode, const mask::Mask &mask,
                   const AttentionShape &shape, const AttentionParams &params,
                   ElementType type, cuda::CUdeviceptr q, cuda::CUdeviceptr k,
                   cuda::CUdeviceptr v, cuda::CUdeviceptr out,
                   cuda::CUdeviceptr lse, cuda::CUstream stream) const;

  /// The largest head dim the kernel's shared memory allows on this device.
  int maxHeadDim() const;

private:
  GpuReference() = default;
  const cuda::Driver *driver = nullptr;
  cuda::DeviceInfo device;
  cuda::Module module;
  cuda::CUfunction function = nullptr;
};

} // namespace fattn::runtime

#endif // FATTN_RUNTIME_GPUREFERENCE_H
