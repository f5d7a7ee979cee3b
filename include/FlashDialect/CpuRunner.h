//===- CpuRunner.h - Compile fattn programs for the CPU and run them -*- C++ -*-=//
//
// The CPU end of the compiler: finds the attention in a tensor-level program,
// lowers the program with the fattn-to-llvm pipeline, JIT-compiles it and
// calls it on host buffers. fattn-run and the execution tests share it.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_CPURUNNER_H
#define FATTN_CPURUNNER_H

#include "FlashDialect/FattnOps.h"
#include "FlashDialect/Mask/Mask.h"
#include "FlashDialect/Passes.h"
#include "FlashDialect/Runtime/Reference.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
class DialectRegistry;
class ExecutionEngine;
namespace fattn {

/// Dialects, interfaces and translations a context needs to parse and lower
/// fattn programs.
void registerFattnCompilerDialects(DialectRegistry &registry);

/// What a program's attention op (fattn.attention or fattn.attention_grad)
/// computes, read off it before lowering.
struct ProgramAttention {
  std::string functionName;
  /// Empty when the mask comes as ranges operands (hasRuntimeMask), which
  /// are the function's last three arguments.
  ::fattn::mask::Mask mask;
  bool hasRuntimeMask = false;
  /// numQ and numK are runtime::kDynamicExtent where the types leave them
  /// dynamic (ranges masks only).
  ::fattn::runtime::AttentionShape shape;
  ::fattn::runtime::AttentionParams params;
  ::fattn::runtime::ElementType elementType =
      ::fattn::runtime::ElementType::F32;
};

/// A forward program. The calling convention is `@f(q, k, v) -> (out, lse)`
/// or `@f(q, k, v, out, lse) [-> (out, lse)]` on tensors. Lowering turns
/// results into out-params appended after the arguments (upstream
/// buffer-results-to-out-params), so the memref function is
/// `@f(q, k, v, out, lse)`, or `@f(q, k, v, out_init, lse_init, out, lse)`
/// when a destination-passing function also returns its results.
struct AttentionProgram : ProgramAttention {
  /// The lowered function takes out_init and lse_init before out and lse.
  bool hasDestinationArguments = false;
  /// out and lse are arguments 3 and 4 (else results, which the lowering
  /// makes the last arguments).
  bool outputsAreArguments = false;
};

/// The ProgramAttention of an op whose q and k are `queryType` and
/// `keyType`, with its mask attribute (or none), scale and softcap; the
/// element type must be f32, f16 or bf16 (else an error on `op`).
FailureOr<ProgramAttention>
readProgramAttention(Operation *op, StringRef functionName,
                     RankedTensorType queryType, RankedTensorType keyType,
                     bool hasRuntimeMask, const ::fattn::mask::Mask &mask,
                     double scale, double softcap);
/// The same for a tensor-level fattn.attention or fattn.attention_grad.
template <typename AttentionLikeOp>
FailureOr<ProgramAttention> readProgramAttention(AttentionLikeOp op,
                                                 StringRef functionName) {
  return readProgramAttention(
      op.getOperation(), functionName,
      cast<RankedTensorType>(op.getQuery().getType()),
      cast<RankedTensorType>(op.getKey().getType()), op.hasRuntimeMask(),
      op.getMaskAttr() ? op.getMaskAttr().getMask() : ::fattn::mask::Mask(),
      op.getEffectiveScale(), op.getSoftcapValue());
}

/// The runtime's element type of an f32, f16 or bf16 MLIR type.
FailureOr<::fattn::runtime::ElementType> runtimeElementType(Type type);

/// Finds the one function with one fattn.attention and checks the calling
/// convention; emits a diagnostic naming the problem otherwise.
FailureOr<AttentionProgram> analyzeAttentionProgram(ModuleOp module);

/// The JIT-compiled C wrapper of one lowered program's function (memref
/// descriptors by pointer): what CpuExecutable and GradientExecutable call.
class JitProgram {
public:
  ~JitProgram();

protected:
  /// Lowers `module` (modified in place) with fattn-to-llvm and JIT-compiles
  /// it, with the mask library's schedule entry points registered; sets
  /// `entry` to @functionName's wrapper.
  LogicalResult load(ModuleOp module, StringRef functionName,
                     const FattnToLLVMPipelineOptions &options);
  std::unique_ptr<ExecutionEngine> engine;
  void *entry = nullptr;
};

/// One call's ranges operands, validated and described for a JIT-compiled
/// function: the program must take ranges (hasRuntimeMask), the counts must
/// agree with its static ones, and the slices pass mask::maskFromRanges.
/// The arrays are copies (a zero-row memref still gets an address; null
/// kinds become all full), so the descriptors stay valid while this lives.
class RangesOperands {
public:
  /// The problem (naming the slice), or nullopt with the operands set.
  std::optional<std::string> prepare(const ProgramAttention &program,
                                     const int32_t *qRanges,
                                     const int32_t *kRanges,
                                     const int32_t *kinds, int64_t count,
                                     int64_t numQ, int64_t numK);
  StridedMemRefType<int32_t, 2> qRanges, kRanges;
  StridedMemRefType<int32_t, 1> kinds;

private:
  std::vector<int32_t> qData, kData, kindData;
};

/// A JIT-compiled program.
class CpuExecutable : public JitProgram {
public:
  /// Lowers `module` (modified in place) with fattn-to-llvm and JIT-compiles
  /// it. Only f32 programs run on the CPU.
  static FailureOr<std::unique_ptr<CpuExecutable>>
  compile(ModuleOp module, const AttentionProgram &program,
          const FattnToLLVMPipelineOptions &options);

  /// Runs on contiguous "thd" buffers of the program's shape; refuses
  /// (the problem) a program whose mask is ranges operands (runRanges).
  [[nodiscard]] std::optional<std::string> run(const float *q, const float *k,
                                               const float *v, float *out,
                                               float *lse) const;

  /// A program whose mask is ranges operands: `count` slices as
  /// MagiAttention's (begin, end) pairs and kind codes over numQ x numK
  /// tokens (the program's static token counts, where it has them, must
  /// match), on contiguous buffers of those counts. The ranges are
  /// validated first: the problem, naming the slice, or nullopt once run.
  std::optional<std::string>
  runRanges(const float *q, const float *k, const float *v, float *out,
            float *lse, const int32_t *qRanges, const int32_t *kRanges,
            const int32_t *kinds, int64_t count, int64_t numQ,
            int64_t numK) const;

private:
  CpuExecutable() = default;
  AttentionProgram program;
  /// Destinations for the DPS-with-results convention; never read.
  mutable std::vector<float> scratchOut, scratchLse;
};

/// The memref descriptor of a contiguous row-major buffer, as a JIT-compiled
/// function's C interface takes it (by pointer).
template <int Rank, typename T>
StridedMemRefType<T, Rank> describeContiguous(T *data,
                                              std::array<int64_t, Rank> sizes) {
  StridedMemRefType<T, Rank> descriptor;
  descriptor.basePtr = data;
  descriptor.data = data;
  descriptor.offset = 0;
  int64_t stride = 1;
  for (int dim = Rank - 1; dim >= 0; --dim) {
    descriptor.sizes[dim] = sizes[dim];
    descriptor.strides[dim] = stride;
    stride *= sizes[dim];
  }
  return descriptor;
}

/// ` {scale = ..., softcap = ...}` where either is set, else nothing: the
/// attributes of a formatted program's op.
std::string formatScoreAttributes(const ::fattn::runtime::AttentionParams &params);

/// tensor<TOKENSxHEADSxDxTYPE> of a formatted program (TOKENS "?" when
/// runtime::kDynamicExtent; no D when headDim is 0, as for lse).
std::string formatThdTensorType(int64_t tokens, int64_t heads,
                                int64_t headDim,
                                ::fattn::runtime::ElementType elementType);

/// A tensor-level program for `mask` in the `@name(q, k, v) -> (out, lse)`
/// convention: how tests and tools generate programs without hand-writing
/// IR.
std::string formatAttentionProgram(
    const ::fattn::mask::Mask &mask,
    const ::fattn::runtime::AttentionShape &shape,
    const ::fattn::runtime::AttentionParams &params,
    StringRef name = "attention",
    ::fattn::runtime::ElementType elementType =
        ::fattn::runtime::ElementType::F32);

/// The same with the mask as ranges operands and dynamic token counts,
/// `@name(q, k, v, q_ranges, k_ranges, kinds) -> (out, lse)`: one program
/// (and kernel) for every mask and length of these heads, head dim, scale
/// and softcap. shape.numQ and numK are not read.
std::string formatRuntimeMaskProgram(
    const ::fattn::runtime::AttentionShape &shape,
    const ::fattn::runtime::AttentionParams &params,
    StringRef name = "attention",
    ::fattn::runtime::ElementType elementType =
        ::fattn::runtime::ElementType::BF16);

} // namespace fattn
} // namespace mlir

#endif // FATTN_CPURUNNER_H
