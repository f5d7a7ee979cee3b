//===- GpuKernel.h - What a tensor-core attention kernel is built from -*- C++ -*-===//
//
// The kernel spec fattn-map-tiles-to-gpu reads off one tiled attention: the
// shapes, the tile sizes and launch options, the target chip (which decides
// the limits and the builders, Gpu/TargetBuilders.h), the tile tables, and
// the kernel's parameters. One CTA computes one (query head, query tile);
// which tiles are visited and which are masked comes unchanged from the
// tiled form (fattn-tile-attention), i.e. from the mask library alone.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_GPUKERNEL_H
#define FATTN_GPUKERNEL_H

#include "FlashDialect/GpuTarget.h"
#include "FlashDialect/Runtime/Manifest.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"

#include <array>
#include <optional>
#include <string>

namespace mlir::fattn {

/// What a kernel parameter is for: the manifest's and the runtime's
/// vocabulary (Runtime/Manifest.h). Schedule buffers hold a run-time plan's
/// records (i32), which the runtime computes from the mask; scalars are i32
/// values such as token counts.
using KernelParamRole = ::fattn::runtime::ParamRole;

/// One kernel parameter: a global pointer to a contiguous buffer, described
/// by the memref it was made from (element type and shape), or a scalar: an
/// i32 made from an index value, or an f32 value. The kernel takes them in
/// the order of FlashKernelSpec::parameters.
struct KernelParam {
  std::string name; // "q", "k", "v", "out", "lse", "slots", "num_q", ...
  KernelParamRole role = KernelParamRole::Input;
  Value memref;     // the host-side buffer or scalar value the launch passes
  /// For each dynamic extent of abiType(), in order, the scalar parameter
  /// that gives it ("num_q", "heads_q").
  SmallVector<std::string> dynamicExtents;
  /// The buffer's type as the kernel takes it where that differs from the
  /// memref's: a run-time kernel's head counts are scalars, so its q, k, v,
  /// out and lse have dynamic head extents whatever the program fixed.
  MemRefType kernelType;

  bool isScalar() const { return role == KernelParamRole::Scalar; }
  /// i32 or f32 for a scalar, else the buffer's type as the kernel takes it.
  Type abiType() const;
};

/// A schedule planned when the kernel runs (fattn.tile_schedule): the kernel
/// reads mask::kernelScheduleTables' records from its parameters, and the
/// token counts and launch slots from scalar parameters.
struct RuntimeScheduleSpec {
  /// Steps of the search over a tile's items; the plan fails past it.
  int64_t maxItemsPerTile = 1;
  /// The K/V pipeline carries the tiles' first rows through the key loop
  /// (Sm80Builders.cpp's CpAsyncPipeline): its table loads then never
  /// delay the copies after the loop's barrier (about 5-6% faster on the H100,
  /// bench/NOTES.md issue 9 step 5).
  bool carryKeyRows = true;
};

/// Everything the kernel needs to know, read off the tiled form.
struct FlashKernelSpec {
  std::string name;
  Type elementType; // bf16 or f16
  int64_t numQ = 0, numK = 0, headsQ = 0, headsK = 0, headDim = 0;
  int64_t blockQ = 0, blockK = 0;
  int64_t warps = 4;
  /// K buffers; K tiles i + 1 .. i + stages - 1 and V tiles i .. i + stages
  /// - 2 are in flight while tile i is computed, in stages - 1 V buffers.
  int64_t stages = 2;
  /// The chip: its limits and which target builders emit the kernel.
  GpuTarget target;
  /// In kernel-argument order.
  SmallVector<KernelParam> parameters;
  /// The work schedule (Mask/Schedule.h) as fattn-tile-attention wrote it:
  /// q_tile_begins, item_offsets (CSR over query tiles), item_slices,
  /// item_k_tiles (items x 4: kTileBegin, fullBegin, fullEnd, kTileEnd),
  /// item_visit_offsets (items + 1) and the slices (N x 5).
  DenseElementsAttr qTileBegins, itemOffsets, itemSlices, itemKTiles,
      itemVisitOffsets, slices;

  /// Set for a run-time mask, whose tables above are null and whose numQ and
  /// numK may be ShapedType::kDynamic.
  std::optional<RuntimeScheduleSpec> runtimeSchedule;

  /// Static schedules only.
  int64_t numQTiles() const { return qTileBegins.getNumElements() - 1; }
  int64_t threads() const { return warps * 32; }
  /// Dynamic shared memory, in this order: the Q tile, `stages` K buffers,
  /// stages - 1 V buffers, the running row sums.
  int64_t keyTileBytes() const { return blockK * headDim * 2; }
  int64_t keyBuffersOffset() const { return blockQ * headDim * 2; }
  int64_t valueBuffersOffset() const {
    return keyBuffersOffset() + stages * keyTileBytes();
  }
  int64_t rowSumsOffset() const {
    return valueBuffersOffset() + (stages - 1) * keyTileBytes();
  }
  int64_t sharedBytes() const { return rowSumsOffset() + rowSumBytes(); }
  /// Each thread's running sums (one per row it holds) live in shared memory:
  /// at 32 rows a warp every register goes to the accumulators and scores,
  /// and a sum is touched once per key tile. (Moving the maxima too made
  /// ptxas spill more, not less.)
  int64_t rowSumBytes() const { return threads() * (blockQ / warps / 8) * 4; }
};

/// Why a spec cannot be compiled for the GPU, or nullopt.
std::optional<std::string> checkFlashKernelSpec(const FlashKernelSpec &spec);
/// The launch options on their own, which the pass checks before it looks
/// for anything to map.
std::optional<std::string> checkWarpsAndStages(int64_t warps, int64_t stages);

/// The launch's description of the kernel's parameters, for the manifest
/// writer (GpuCompiler): an array of {name, role = "input" | "output" |
/// "schedule" | "scalar", type = the memref or i32 / f32, extents = the
/// names of the dynamic extents' scalars}, in argument order.
constexpr llvm::StringLiteral kKernelParamsAttrName = "fattn.kernel_params";
ArrayAttr describeKernelParams(MLIRContext *context,
                               ArrayRef<KernelParam> parameters);

} // namespace mlir::fattn

#endif // FATTN_GPUKERNEL_H
