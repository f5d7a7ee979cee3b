//===- GradientRunner.h - Compile fattn.attention_grad programs for the CPU -*- C++ -*-===//
//
// The backward's counterpart of CpuRunner.h: finds the fattn.attention_grad
// of a tensor-level program, lowers it with fattn-to-llvm, JIT-compiles it
// and calls it on host buffers. fattn-run and the execution tests share it.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_GRADIENTRUNNER_H
#define FATTN_GRADIENTRUNNER_H

#include "FlashDialect/CpuRunner.h"

namespace mlir::fattn {

/// What a gradient program computes, read off its fattn.attention_grad. The
/// calling convention is `@f(dout, q, k, v, out, lse) -> (dq, dk, dv)` on
/// tensors, the op's operands in that order, with a ranges mask's q_ranges,
/// k_ranges and kinds as the last three arguments; lowering appends dq, dk
/// and dv as out-params after them.
struct GradientProgram : ProgramAttention {
  bool deterministic = false;
};

/// Finds the one function with one fattn.attention_grad and checks the
/// calling convention; emits a diagnostic naming the problem otherwise.
FailureOr<GradientProgram> analyzeGradientProgram(ModuleOp module);

/// The host buffers of one backward call, contiguous "thd" (lse: tokens x
/// heads) of the call's token counts.
struct GradientBuffers {
  const float *dout, *q, *k, *v, *out, *lse;
  float *dq, *dk, *dv;
};

/// A JIT-compiled gradient program (f32 only, as the tiling requires).
class GradientExecutable : public JitProgram {
public:
  /// Lowers `module` (modified in place) with fattn-to-llvm and JIT-compiles
  /// it.
  static FailureOr<std::unique_ptr<GradientExecutable>>
  compile(ModuleOp module, const GradientProgram &program,
          const FattnToLLVMPipelineOptions &options);

  /// A program whose mask is an attribute, at its static token counts;
  /// refuses (the problem) one whose mask is ranges operands.
  [[nodiscard]] std::optional<std::string>
  run(const GradientBuffers &buffers) const;
  /// A program whose mask is ranges operands: `count` slices as
  /// MagiAttention's (begin, end) pairs and kind codes over numQ x numK
  /// tokens (the program's static counts, where it has them, must match).
  /// The ranges are validated first: the problem, naming the slice, or
  /// nullopt once run.
  std::optional<std::string>
  runRanges(const GradientBuffers &buffers, const int32_t *qRanges,
            const int32_t *kRanges, const int32_t *kinds, int64_t count,
            int64_t numQ, int64_t numK) const;

private:
  GradientExecutable() = default;
  void call(const GradientBuffers &buffers, int64_t numQ, int64_t numK,
            void *qRanges, void *kRanges, void *kinds) const;
  GradientProgram program;
};

/// A tensor-level gradient program for `mask` in the convention above
/// (f32, the mask as an attribute).
std::string formatGradientProgram(
    const ::fattn::mask::Mask &mask,
    const ::fattn::runtime::AttentionShape &shape,
    const ::fattn::runtime::AttentionParams &params, StringRef name = "grad");

/// The same with the mask as ranges operands and dynamic token counts: one
/// program for every mask and length of these heads, head dim, scale and
/// softcap, planned key-major when it runs.
std::string formatRuntimeMaskGradientProgram(
    const ::fattn::runtime::AttentionShape &shape,
    const ::fattn::runtime::AttentionParams &params, StringRef name = "grad");

} // namespace mlir::fattn

#endif // FATTN_GRADIENTRUNNER_H
