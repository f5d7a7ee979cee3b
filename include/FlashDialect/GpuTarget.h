//===- GpuTarget.h - The GPUs fattn compiles for ----------------*- C++ -*-===//
//
// One table of the chips the tensor-core kernels target (mma.sync, ldmatrix
// and cp.async: sm_80 and newer), with the PTX version each needs and the
// shared memory one CTA may use. Pass options are resolved against it before
// anything reaches LLVM's NVPTX backend, which aborts on a chip and PTX
// version it cannot pair.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_GPUTARGET_H
#define FATTN_GPUTARGET_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mlir::fattn {

/// Which target builders (Gpu/TargetBuilders.h) emit a chip's kernels.
enum class GpuKernelFamily {
  /// mma.sync m16n8k16, ldmatrix, cp.async: sm_80 and every newer chip.
  MmaSync,
};

struct GpuTarget {
  std::string chip;     // "sm_90a"
  std::string features; // "+ptx80"
  GpuKernelFamily family = GpuKernelFamily::MmaSync;
  /// Dynamic shared memory one CTA may opt into on this chip.
  int64_t maxSharedBytes = 0;
};

/// "sm_80, sm_86, ...": the chips resolveGpuTarget accepts.
std::string supportedGpuChips();

/// `chip` must be one of supportedGpuChips(); `features` either empty (the
/// chip's own PTX version, at least 8.0) or "+ptxNN" for a PTX version LLVM
/// emits (7.0 to 9.0) that the chip supports. Returns the problem, or nullopt
/// with `target` set.
std::optional<std::string> resolveGpuTarget(std::string_view chip,
                                            std::string_view features,
                                            GpuTarget &target);

} // namespace mlir::fattn

#endif // FATTN_GPUTARGET_H
