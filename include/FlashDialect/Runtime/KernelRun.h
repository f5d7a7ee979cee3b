//===- KernelRun.h - Load, run, check and time a compiled kernel -*- C++ -*-===//
//
// The GPU half of fattn-run and all of fattn-launch: given NAME.manifest
// (and the NAME.ptx it names), load the kernel in a fresh context, run it
// once on random inputs of its dtype (seeds as fattn-run's CPU path: q seed,
// k seed + 1, v seed + 2) with out and lse poisoned (NaN bit patterns), and
//  - always: report unwritten (NaN) output elements as a failure;
//  - check: judge out and lse against the GPU fp64 reference by docs/spec.md §3
//    (bf16/f16: against the naive low-precision attention, out rtol 0.05,
//    lse rtol 0.001, at most maxFailFraction of elements outside; f32:
//    1e-5 relative), and on small problems the GPU reference against the
//    CPU one;
//  - time: median and min of `iters` CUDA-event timed launches after
//    `warmup`, L2 flushed before each, in TFLOP/s over attended pairs.
// Reports go to stdout, errors to stderr prefixed with toolName. No MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_RUNTIME_KERNELRUN_H
#define FATTN_RUNTIME_KERNELRUN_H

#include "FlashDialect/Mask/Mask.h"
#include "FlashDialect/Runtime/Check.h"

#include <cstdint>
#include <optional>
#include <string>

namespace fattn::runtime {

/// Exit statuses: everything passed; a check failed (or the kernel faulted
/// or left outputs unwritten); an error (bad manifest, no driver, no GPU,
/// PTX that does not load).
inline constexpr int kRunPass = 0;
inline constexpr int kRunFail = 1;
inline constexpr int kRunError = 2;

/// What a call gives a run-time kernel besides its mask and token counts,
/// where it gives them: head counts (0: not given), the softmax scale (0:
/// 1/sqrt(head dim)) and the softcap (0: none).
struct CallValues {
  int64_t headsQ = 0, headsK = 0;
  std::optional<double> scale, softcap;
};

struct KernelRunOptions {
  std::string manifestPath;
  bool check = false;
  bool time = false;
  int iters = 20;
  int warmup = 3;
  uint64_t seed = 1;
  int device = 0;
  double maxFailFraction = Tolerance().maxFailFraction;
  /// Written with every figure when not empty.
  std::string jsonPath;
  /// For a kernel with a run-time mask: the manifest whose mask and token
  /// counts it runs (its dtype, heads, head dim, scale and softcap must be
  /// the kernel's).
  std::string maskOfPath;
  /// Or a file of the call, checked only as a user's call is (RangesCall;
  /// overlaps allowed): adversarial inputs.
  std::string rangesPath;
  /// The heads, scale and softcap of a --ranges call where its file does
  /// not give them (fattn-run: the program's). A kernel that takes its heads
  /// per call needs them from one or the other; a kernel that fixes any of
  /// these runs only calls that agree (checkCall).
  CallValues callDefaults;
  /// Plan a run-time call on the GPU too (DevicePlanner), compare its tables
  /// with the host plan's, and run the kernel on the GPU's.
  bool devicePlan = false;
  /// Prefix of error messages.
  std::string toolName = "fattn";
};

/// A run-time call as fattn-launch --ranges and fattn-run --ranges read it:
/// "tokens NUM_Q NUM_K" first, then in any order one "Q_BEGIN Q_END K_BEGIN
/// K_END KIND" line a slice and, optionally, "heads HQ HK", "scale S" and
/// "softcap C". Only the format is checked (a call is validated where it is
/// planned, as a user's is); errors name the file and line.
struct RangesCall {
  int64_t numQ = 0, numK = 0;
  mask::Mask mask;
  CallValues values;
};
std::optional<RangesCall> readRangesCall(const std::string &path,
                                         std::string *problem);

/// Why kernels cannot run on device `ordinal` here ("no CUDA driver (...)",
/// "no CUDA device (...)"), or nullopt when they can. Cheap: no context is
/// created.
std::optional<std::string> whyNoGpu(int ordinal);

/// Loads, runs, and (as asked) checks and times the manifest's kernel.
int runKernel(const KernelRunOptions &options);

/// Prints what the manifest says (kernel, launch shape, problem, pairs);
/// needs no GPU.
int printKernelInfo(const KernelRunOptions &options);

/// The GPU reference kernel against the CPU reference on masks of every
/// kind; needs no compiled kernel.
int runReferenceSelfTest(const KernelRunOptions &options);

} // namespace fattn::runtime

#endif // FATTN_RUNTIME_KERNELRUN_H
