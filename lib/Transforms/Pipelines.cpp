//===- Pipelines.cpp - Registered fattn pipelines -------------------------===//

#include "FlashDialect/Passes.h"

#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"

#include <mutex>

using namespace mlir;

static void registerUpstreamPassesOnce() {
  static std::once_flag once;
  std::call_once(once, [] { registerAllPasses(); });
}

/// The steps both targets share: canonical mask, bufferized functions of the
/// form (q, k, v, out, lse), tiled attention. Written as text so that each
/// pipeline reads exactly like the `fattn-opt` command line that reproduces
/// one of its steps.
/// `freeTemporaries`: buffers bufferization allocates and does not hoist
/// (results of dynamic size, copied to the out-params) are freed; the CPU
/// path runs its code, the GPU path's host code is only a description.
static std::string tiledAttentionPipeline(int64_t blockQ, int64_t blockK,
                                          bool wholeKeyTiles,
                                          bool alignQueryTiles,
                                          bool freeTemporaries = false) {
  return std::string("func.func(fattn-normalize-mask),"
                     "one-shot-bufferize{bufferize-function-boundaries "
                     "function-boundary-type-conversion=identity-layout-map},"
                     "drop-equivalent-buffer-results,"
                     "buffer-results-to-out-params{hoist-static-allocs "
                     "modify-public-functions},") +
         (freeTemporaries ? "func.func(ownership-based-buffer-deallocation),"
                            "canonicalize,buffer-deallocation-simplification,"
                            "bufferization-lower-deallocations,"
                          : "") +
         "fattn-tile-attention{block-q=" +
         std::to_string(blockQ) + " block-k=" + std::to_string(blockK) +
         " whole-key-tiles=" + (wholeKeyTiles ? "1" : "0") +
         " align-query-tiles=" + (alignQueryTiles ? "1" : "0") + "}";
}

static void parseBuiltinPipeline(OpPassManager &pm, StringRef name,
                                 const std::string &pipeline) {
  registerUpstreamPassesOnce();
  mlir::fattn::registerFattnPasses();
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error(llvm::Twine(name) +
                             ": malformed built-in pipeline");
}

void mlir::fattn::buildFattnToLLVMPipeline(
    OpPassManager &pm, const FattnToLLVMPipelineOptions &options) {
  parseBuiltinPipeline(
      pm, "fattn-to-llvm",
      tiledAttentionPipeline(options.blockQ, options.blockK,
                             /*wholeKeyTiles=*/false, options.alignQueryTiles,
                             /*freeTemporaries=*/true) +
          ",fattn-lower-tile-schedules,"
          "func.func(fattn-lower-tiles-to-loops,convert-linalg-to-loops),"
          "scf-forall-to-for,func.func(fattn-hoist-tile-buffers),canonicalize,cse,"
          "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
          "convert-math-to-llvm,convert-math-to-libm,"
          "finalize-memref-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,"
          "convert-func-to-llvm,convert-cf-to-llvm,reconcile-unrealized-casts");
}

void mlir::fattn::buildFattnToPTXPipeline(
    OpPassManager &pm, const FattnToPTXPipelineOptions &options) {
  parseBuiltinPipeline(pm, "fattn-to-ptx",
                       tiledAttentionPipeline(options.blockQ, options.blockK,
                                              kGpuWholeKeyTiles,
                                              kGpuAlignQueryTiles));
  // Built, not spliced into the text: a chip or features string can then
  // never be read as further options.
  FattnMapTilesToGpuOptions gpu;
  gpu.chip = options.chip;
  gpu.features = options.features;
  gpu.warps = options.warps;
  gpu.stages = options.stages;
  gpu.maxItemsPerTile = options.maxItemsPerTile;
  gpu.carryKeyRows = options.carryKeyRows;
  pm.addPass(createFattnMapTilesToGpu(gpu));
  parseBuiltinPipeline(
      pm, "fattn-to-ptx",
      "gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm,canonicalize,cse,"
      "reconcile-unrealized-casts),"
      "gpu-module-to-binary{format=isa}");
}

void mlir::fattn::registerFattnPassesAndPipelines() {
  mlir::fattn::registerFattnPasses();
  PassPipelineRegistration<FattnToLLVMPipelineOptions>(
      "fattn-to-llvm",
      "Lower tensor-level fattn programs to the LLVM dialect for the CPU",
      buildFattnToLLVMPipeline);
  PassPipelineRegistration<FattnToPTXPipelineOptions>(
      "fattn-to-ptx",
      "Compile tensor-level fattn programs to tensor-core PTX kernels",
      buildFattnToPTXPipeline);
}
