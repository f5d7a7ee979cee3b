//===- Passes.h - fattn passes and pipelines --------------------*- C++ -*-===//

#ifndef FATTN_PASSES_H
#define FATTN_PASSES_H

#include "FlashDialect/FattnDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace fattn {

#define GEN_PASS_DECL
#include "FlashDialect/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "FlashDialect/Passes.h.inc"

/// Discardable attribute naming the role of a tile table global emitted by
/// fattn-tile-attention ("full_offsets", "partial_k_tiles", "slices", ...).
inline constexpr llvm::StringLiteral kTileTableAttrName = "fattn.tile_table";

/// Options of the `fattn-to-llvm` pipeline.
struct FattnToLLVMPipelineOptions
    : public PassPipelineOptions<FattnToLLVMPipelineOptions> {
  Option<int64_t> blockQ{*this, "block-q", llvm::cl::desc("Query tile rows"),
                         llvm::cl::init(64)};
  Option<int64_t> blockK{*this, "block-k", llvm::cl::desc("Key tile rows"),
                         llvm::cl::init(64)};
  Option<bool> alignQueryTiles{
      *this, "align-query-tiles",
      llvm::cl::desc("Start query tiles at slice boundaries too"),
      llvm::cl::init(false)};
};

/// Options of the `fattn-to-ptx` pipeline.
struct FattnToPTXPipelineOptions
    : public PassPipelineOptions<FattnToPTXPipelineOptions> {
  Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("Target GPU, sm_80 or newer (see fattn-map-tiles-to-gpu)"),
      llvm::cl::init("sm_90a")};
  Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX version as +ptxNN; empty: the chip's own"),
      llvm::cl::init("")};
  Option<int64_t> blockQ{*this, "block-q", llvm::cl::desc("Query tile rows"),
                         llvm::cl::init(128)};
  Option<int64_t> blockK{*this, "block-k", llvm::cl::desc("Key tile rows"),
                         llvm::cl::init(64)};
  Option<int64_t> warps{*this, "warps", llvm::cl::desc("Warps per CTA"),
                        llvm::cl::init(4)};
  Option<int64_t> stages{
      *this, "stages",
      llvm::cl::desc("K/V copy stages, 2 to 8 (K runs stages - 1 tiles "
                     "ahead, V stages - 2)"),
      llvm::cl::init(2)};
  Option<int64_t> maxItemsPerTile{
      *this, "max-items-per-tile",
      llvm::cl::desc("Run-time masks: the most work items one query tile "
                     "may have (see fattn-map-tiles-to-gpu)"),
      llvm::cl::init(1)};
  Option<bool> carryKeyRows{
      *this, "carry-key-rows",
      llvm::cl::desc("Run-time masks: carry the K/V tiles' first rows "
                     "through the key loop (see fattn-map-tiles-to-gpu)"),
      llvm::cl::init(true)};
};

/// How fattn-to-ptx tiles: the kernels always compute whole key tiles, and
/// query tiles follow slice boundaries. Tools that report the GPU's tiles
/// read these rather than repeat the choice.
inline constexpr bool kGpuWholeKeyTiles = true;
inline constexpr bool kGpuAlignQueryTiles = true;

/// Tensor-level fattn programs to PTX: the CPU pipeline's front half (mask
/// normalization, bufferization, tiling with whole key tiles), then
/// fattn-map-tiles-to-gpu and the NVVM lowering, ending in a gpu.binary
/// holding PTX (gpu-module-to-binary{format=isa}).
void buildFattnToPTXPipeline(OpPassManager &pm,
                             const FattnToPTXPipelineOptions &options);

/// Attribute fattn-tile-attention puts on its scf.forall: a dictionary from
/// table role to the memref.global holding that table.
inline constexpr llvm::StringLiteral kTileTablesAttrName = "fattn.tile_tables";

/// Attribute fattn-tile-attention puts on its scf.forall: "whole" or
/// "clipped", how key tiles past the key length were classified.
inline constexpr llvm::StringLiteral kKeyEdgeAttrName = "fattn.key_edge";

/// Unit attribute marking the memref.alloca_scope that holds one tile's
/// buffers (fattn-tile-attention); fattn-hoist-tile-buffers looks for it.
inline constexpr llvm::StringLiteral kTileBuffersAttrName = "fattn.tile_buffers";

/// Tensor-level fattn programs to the LLVM dialect for the CPU: normalize the
/// mask, bufferize (functions become `(q, k, v, out, lse) -> ()` on memrefs),
/// tile, lower tiles to loops, convert to LLVM.
void buildFattnToLLVMPipeline(OpPassManager &pm,
                              const FattnToLLVMPipelineOptions &options);

/// Registers every fattn pass and pipeline with the global registry.
void registerFattnPassesAndPipelines();

} // namespace fattn
} // namespace mlir

#endif // FATTN_PASSES_H
