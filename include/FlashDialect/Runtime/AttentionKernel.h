//===- AttentionKernel.h - A compiled kernel, ready to launch ---*- C++ -*-===//
//
// A manifest plus its PTX, loaded into a CUDA context and checked against
// each other: the entry exists, takes one pointer (or i32 scalar) per
// manifest parameter, fits the block size and shared memory the manifest
// asks for. Launches take one value per parameter, in the manifest's order,
// and check each against the parameter's extents before they go out;
// AttentionBuffers binds a forward kernel's q, k, v, out and lse by name.
// A kernel with a run-time mask also takes a call's plan (RuntimeSchedule.h):
// its tables, uploaded to a ScheduleBuffer, and the token and slot counts.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_RUNTIME_ATTENTIONKERNEL_H
#define FATTN_RUNTIME_ATTENTIONKERNEL_H

#include "FlashDialect/Runtime/CudaDriver.h"
#include "FlashDialect/Runtime/Manifest.h"
#include "FlashDialect/Runtime/RuntimeSchedule.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fattn::runtime {

/// The buffers of a forward kernel (forwardParams), by name.
struct AttentionBuffers {
  cuda::CUdeviceptr q = 0, k = 0, v = 0, out = 0, lse = 0;
};

/// One value per manifest parameter, in the manifest's order: a device
/// pointer, or a scalar parameter's value (passed to the kernel as i32; an
/// f32 scalar's bit pattern).
using KernelArguments = std::vector<cuda::CUdeviceptr>;

/// Device memory holding run-time plans' tables, grown as needed and reused.
/// Launches on one stream may share it: each upload is ordered after the
/// launches before it on that stream. Launches on different streams need
/// buffers of their own.
class ScheduleBuffer {
public:
  /// Copies the plan's tables (asynchronously, on `stream`; `plan` may be
  /// destroyed on return).
  cuda::Status upload(const cuda::Driver &driver, const PlannedSchedule &plan,
                      cuda::CUstream stream);
  cuda::CUdeviceptr pointer() const { return buffer ? buffer->pointer() : 0; }

private:
  std::optional<cuda::DeviceBuffer> buffer;
};

/// A run-time mask's part of a launch: the call's plan, the device copy of
/// its tables, and the call's head counts, head dim, scale and softcap (its
/// token counts are the plan's), which the kernel takes as parameters where
/// its manifest has '?' and must otherwise match (checkCall).
struct ScheduleBinding {
  const PlannedSchedule *plan = nullptr;
  cuda::CUdeviceptr tables = 0;
  AttentionShape shape;
  AttentionParams params;
};

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

  /// The forward buffers in the manifest's parameter order, and for a
  /// run-time mask the plan's tables and counts and the call's heads, scale
  /// and softcap; fails when the kernel takes a parameter these do not
  /// supply, a plan is given to a static kernel, or the call does not fit
  /// what the kernel fixes.
  cuda::Status bind(const AttentionBuffers &buffers, KernelArguments &arguments,
                    const ScheduleBinding &schedule = {}) const;

  /// This kernel's plan of a run-time mask (planSchedule with the manifest's
  /// schedule record); fails for a kernel compiled with its mask, and for
  /// token counts other than those the kernel fixes (where it fixes them).
  std::optional<PlannedSchedule> plan(const mask::Mask &mask, int64_t numQ,
                                      int64_t numK, std::string *error) const;
  /// The same from MagiAttention-style range arrays (mask::maskFromRanges).
  std::optional<PlannedSchedule> planRanges(const int32_t *qRanges,
                                            const int32_t *kRanges,
                                            const int32_t *kinds, int64_t count,
                                            int64_t numQ, int64_t numK,
                                            std::string *error) const;

  /// A count other than the parameters', null or misaligned pointers
  /// (inputs and schedule tables to 16 bytes, outputs to 4), i32 scalars
  /// past int32, and buffers that the driver knows to be smaller than their
  /// parameter's extents (dynamic ones as the scalars give them), as
  /// "q ..." messages.
  cuda::Status checkBuffers(const KernelArguments &arguments) const;

  /// An asynchronous launch on `stream`, after checkBuffers unless the
  /// caller has done that already; execution errors surface at the next
  /// synchronization.
  cuda::Status launch(const KernelArguments &arguments, cuda::CUstream stream,
                      bool checkArguments = true) const;
  cuda::Status launch(const AttentionBuffers &buffers, cuda::CUstream stream,
                      bool checkArguments = true) const;

  const KernelManifest &manifest() const { return spec; }
  /// Of the manifest's mask: 0 under a run-time mask.
  int64_t attendedPairs() const { return pairs; }
  /// docs/spec.md §4: 4 * attended pairs * headsQ * headDim.
  double flops() const;
  /// Bytes of each buffer the ABI expects (static token counts only).
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
