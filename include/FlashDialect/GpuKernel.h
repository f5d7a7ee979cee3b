//===- GpuKernel.h - Tensor-core flash-attention kernels --------*- C++ -*-===//
//
// Emits the GPU kernel for one tiled attention: one CTA per (query tile,
// query head), warps own consecutive 16-row blocks of the query tile, Q*K^T
// and P*V on tensor cores (mma.sync m16n8k16 with ldmatrix operands), K and V
// tiles staged in shared memory by cp.async in `stages` buffers, and the online
// softmax in registers. The tile lists come unchanged from the tiled form
// (fattn-tile-attention), so which tiles are visited and which are masked is
// still decided by the mask library alone.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_GPUKERNEL_H
#define FATTN_GPUKERNEL_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/Support/LLVM.h"

#include <array>
#include <optional>
#include <string>

namespace mlir::fattn {

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
  /// The target's dynamic shared memory per CTA (GpuTarget).
  int64_t maxSharedBytes = 0;
  double scale = 0;
  std::optional<double> softcap;
  /// Tile tables, as written by fattn-tile-attention (CSR over query tiles).
  DenseElementsAttr qTileBegins, fullOffsets, fullKTiles, partialOffsets, partialKTiles,
      partialSliceOffsets, partialSlices, slices;

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

/// Adds the kernel (a `gpu.func` taking q, k, v, out, lse as global pointers)
/// and its constant tables to `module`.
gpu::GPUFuncOp emitFlashKernel(OpBuilder &builder, gpu::GPUModuleOp module,
                               const FlashKernelSpec &spec);

} // namespace mlir::fattn

#endif // FATTN_GPUKERNEL_H
