//===- AttentionKernel.h - A compiled kernel, ready to launch ---*- C++ -*-===//
//
// A manifest plus its PTX, loaded into a CUDA context and checked against
// each other: the entry exists, takes one pointer per manifest parameter,
// fits the block size and shared memory the manifest asks for. Launches take
// one device pointer per parameter, in the manifest's order, and check each
// against the parameter's extents before they go out; AttentionBuffers binds
// a forward kernel's q, k, v, out and lse by name.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_RUNTIME_ATTENTIONKERNEL_H
#define FATTN_RUNTIME_ATTENTIONKERNEL_H

#include "FlashDialect/Runtime/CudaDriver.h"
#include "FlashDialect/Runtime/Manifest.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fattn::runtime {

/// The buffers of a forward kernel (forwardParams), by name.
struct AttentionBuffers {
  cuda::CUdeviceptr q = 0, k = 0, v = 0, out = 0, lse = 0;
};

/// One device pointer per manifest parameter, in the manifest's order.
using KernelArguments = std::vector<cuda::CUdeviceptr>;

struct KernelLoadError {
  enum class Kind {
    PtxLoad,     // the JIT rejected the PTX, or the entry is missing
    Mismatch,    // PTX and manifest disagree (parameters, grid limits)
    Unsupported, // the device cannot run it (block size, shared memory)
    Cuda,        // any other driver failure
  };
  Kind kind = Kind::Cuda;
  std::string message;
};

class AttentionKernel {
public:
  /// Loads `ptx` into `context` (current on this thread) and checks it
  /// against `manifest`.
  static std::optional<AttentionKernel> load(const cuda::Context &context,
                                             KernelManifest manifest,
                                             std::string_view ptx,
                                             KernelLoadError *error);

  /// The forward buffers in the manifest's parameter order; fails when the
  /// kernel takes a parameter AttentionBuffers does not name.
  cuda::Status bind(const AttentionBuffers &buffers,
                    KernelArguments &arguments) const;

  /// A count other than the parameters', null or misaligned pointers
  /// (inputs to 16 bytes, outputs to 4), and
  /// buffers that the driver knows to be smaller than their parameter's
  /// extents, as "q ..." messages.
  cuda::Status checkBuffers(const KernelArguments &arguments) const;

  /// An asynchronous launch on `stream`, after checkBuffers unless the
  /// caller has done that already; execution errors surface at the next
  /// synchronization.
  cuda::Status launch(const KernelArguments &arguments, cuda::CUstream stream,
                      bool checkArguments = true) const;
  cuda::Status launch(const AttentionBuffers &buffers, cuda::CUstream stream,
                      bool checkArguments = true) const;

  const KernelManifest &manifest() const { return spec; }
  int64_t attendedPairs() const { return pairs; }
  /// docs/spec.md §4: 4 * attended pairs * headsQ * headDim.
  double flops() const;
  /// Bytes of each buffer the ABI expects.
  size_t qBytes() const;
  size_t kvBytes() const;
  size_t outBytes() const { return qBytes(); }
  size_t lseBytes() const;

  /// What the JIT reported, and the function's resources, for diagnostics.
  const std::string &jitLog() const { return module.infoLog(); }
  int numRegisters() const { return registers; }
  int localBytes() const { return localMemory; }
  int staticSharedBytes() const { return staticShared; }

private:
  AttentionKernel() = default;
  const cuda::Driver *driver = nullptr;
  KernelManifest spec;
  cuda::Module module;
  cuda::CUfunction function = nullptr;
  int64_t pairs = 0;
  int registers = 0, localMemory = 0, staticShared = 0;
};

} // namespace fattn::runtime

#endif // FATTN_RUNTIME_ATTENTIONKERNEL_H
