//===- Passes.td - fattn passes -----------------------------*- tablegen -*-===//

#ifndef FATTN_PASSES_TD
#define FATTN_PASSES_TD

include "mlir/Pass/PassBase.td"

def FattnNormalizeMask : Pass<"fattn-normalize-mask", "func::FuncOp"> {
  let summary = "Rewrite every fattn.attention mask into canonical form";
  let description = [{
    Replaces each mask by the mask library's normal form of the same attended
    set: slices tightened to what they attend and given the simplest kind,
    slices attending nothing dropped, neighbours that form one slice merged,
    and the rest ordered by (q begin, k begin). Fewer, larger slices mean
    fewer partial tiles and shorter per-element mask checks later.
  }];
  let dependentDialects = [];
}

def FattnTileAttention : Pass<"fattn-tile-attention", "ModuleOp"> {
  let summary = "Tile bufferized fattn.attention into online-softmax loops";
  let description = [{
    Rewrites each fattn.attention on memrefs into a parallel loop over (query
    head, query tile) and, inside it, two loops over key tiles: one over the
    tiles the mask attends fully, with no mask arithmetic, and one over the
    partial tiles, each masked by only the slices that touch it. Tiles the
    mask skips are never visited. The tile lists come from the mask library
    (`classifyTiles`) and are emitted as constant globals tagged with their
    role (`fattn.tile_table`), so that later lowerings can find them. The
    online-softmax
    state (running max, running sum, f32 accumulator) lives in buffers per
    query tile, and each key tile is one fattn.tile_scores /
    [fattn.tile_mask] / fattn.tile_online_softmax / fattn.tile_accumulate
    sequence; fattn.tile_finalize writes out and lse.
  }];
  let options = [
    Option<"blockQ", "block-q", "int64_t", /*default=*/"64",
           "Query rows per tile">,
    Option<"blockK", "block-k", "int64_t", /*default=*/"64",
           "Key rows per tile">,
    Option<"wholeKeyTiles", "whole-key-tiles", "bool", /*default=*/"false",
           "Count a key tile that runs past the key length as partial, for "
           "kernels that always compute whole tiles">,
    Option<"alignQueryTiles", "align-query-tiles", "bool", /*default=*/"false",
           "Start a query tile at every slice boundary too, so that tiles of "
           "varlen and block masks never straddle two documents">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def FattnMapTilesToGpu : Pass<"fattn-map-tiles-to-gpu", "ModuleOp"> {
  let summary = "Map tiled attention onto tensor-core GPU kernels";
  let description = [{
    Replaces each tiled attention (the scf.forall over (head, query tile)
    made by fattn-tile-attention) by a gpu.launch_func of a kernel added to
    the `@fattn_kernels` gpu.module: one CTA per (query tile, head), warps
    owning 16-row mma tiles, Q K^T and P V on tensor cores (mma.sync
    m16n8k16 with ldmatrix operands, f32 accumulation), K and V staged in
    shared memory by cp.async in `stages` buffers, the online softmax in
    registers, masking only in the partial tiles from the tile tables. The
    tables move into the gpu.module as constant globals. Operands must be
    bf16 or f16 with head dim 64 or 128, and tiled with whole-key-tiles
    unless the key length is a multiple of block-k.

    A mask given at run time (fattn.tile_schedule) gives a kernel for any
    mask and token count: it reads the schedule's records
    (fattn.kernel_schedule, computed by the runtime before each launch)
    and the token counts and launch slots from its parameters.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90a\"",
           "Target GPU: sm_80, sm_86, sm_87, sm_89, sm_90, sm_90a, sm_100, "
           "sm_100a, sm_103, sm_103a, sm_120, sm_120a, sm_121 or sm_121a">,
    Option<"features", "features", "std::string", /*default=*/"\"\"",
           "PTX version as +ptxNN (+ptx70 to +ptx90); empty: the chip's own, "
           "at least 8.0">,
    Option<"warps", "warps", "int64_t", /*default=*/"4",
           "Warps per CTA; block-q must be a multiple of 16 x warps">,
    Option<"stages", "stages", "int64_t", /*default=*/"2",
           "K/V copy stages, 2 to 8: while key tile i is computed, K "
           "tiles up to i + stages - 1 and V tiles up to i + stages - 2 "
           "are in flight (stages K buffers, stages - 1 V buffers)">,
    Option<"maxItemsPerTile", "max-items-per-tile", "int64_t",
           /*default=*/"1",
           "Masks given at run time: the most work items (slices) one "
           "query tile may have, the steps of the kernel's search over "
           "them; a plan with more fails before the launch">,
    Option<"carryKeyRows", "carry-key-rows", "bool", /*default=*/"true",
           "Masks given at run time: the K/V pipeline locates one K tile "
           "ahead and carries the tiles' first rows through the key loop "
           "(about 5-6% faster on the one-item kernels, bench/NOTES.md)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def FattnLowerTileSchedules : Pass<"fattn-lower-tile-schedules",
                                   "ModuleOp"> {
  let summary = "Plan run-time masks by calls into the mask library (the CPU "
                "path)";
  let description = [{
    Replaces each fattn.tile_schedule by two calls into the mask library's
    C interface (FlashDialect/CpuSchedule.h): one that plans the ranges and
    returns the tables' sizes, then, after the tables are allocated, one
    that fills them; the tables are freed at the end of the enclosing
    block. The planner is lib/Mask's buildWorkSchedule, the same the GPU
    runtime and the static form use. The ranges must be valid (the caller's
    check, as CpuExecutable::runRanges makes before it calls the program):
    invalid ranges plan no query tile, and out and lse are then unspecified
    (a tensor-level program copies them from buffers nothing wrote).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def FattnLowerTilesToLoops : Pass<"fattn-lower-tiles-to-loops",
                                  "func::FuncOp"> {
  let summary = "Lower fattn tile operations to scalar loops (the CPU path)";
  let description = [{
    Expands each fattn.tile_* operation into scf.for loops over its rows and
    columns with f32 arithmetic, math.exp2/log2 for the softmax, and
    math.tanh for the softcap. The output uses only upstream dialects and
    lowers to LLVM with the standard conversions.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def FattnHoistTileBuffers : Pass<"fattn-hoist-tile-buffers", "func::FuncOp"> {
  let summary = "Give a sequential tile loop one tile's stack (the CPU path)";
  let description = [{
    fattn-tile-attention scopes each tile's buffers (scores, accumulator,
    row maximum and sum) to one iteration with a memref.alloca_scope. Once
    scf-forall-to-for has made the loop sequential, upstream canonicalization
    inlines that scope into the scf.for body, and LLVM allocas in a loop body
    grow the stack every iteration: a long sequence then overflows it. This
    pass moves the scope's static allocas to the function's entry and inlines
    the scope, which is legal because every iteration initializes its
    buffers before reading them. Scopes still inside a parallel loop are left
    alone.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

#endif // FATTN_PASSES_TD
