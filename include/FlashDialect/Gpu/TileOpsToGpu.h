//===- TileOpsToGpu.h - The tiled form, lowered op by op to a kernel -*- C++ -*-===//
//
// The GPU lowering of fattn-tile-attention's loop nest. The scf.forall over
// (query head, query tile) becomes the grid; its f32 buffers become the
// register tiles and shared-memory slots the target builders lay out; the
// key-tile loops (full tiles, then partial ones) become one loop over the
// tile's visits, where the target's pipeline decides which K/V copies are in
// flight; and each tile op has one lowering: tile_scores (Q K^T on tensor
// cores, softcap), tile_mask (the slice rule on partial visits only),
// tile_online_softmax, tile_accumulate (P V) and tile_finalize (out, lse).
// An op in the nest with no GPU lowering is an error naming it.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_GPU_TILEOPSTOGPU_H
#define FATTN_GPU_TILEOPSTOGPU_H

#include "FlashDialect/GpuKernel.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::fattn::codegen {

/// The buffer a tile view was cut from (through its memref.subviews).
Value tileBufferOf(Value view);

/// Emits the kernel for `forall` (as matched into `spec`) into `module`.
FailureOr<gpu::GPUFuncOp>
lowerTiledAttention(scf::ForallOp forall, const FlashKernelSpec &spec,
                    gpu::GPUModuleOp module);

} // namespace mlir::fattn::codegen

#endif // FATTN_GPU_TILEOPSTOGPU_H
