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

void mlir::fattn::buildFattnToLLVMPipeline(
    OpPassManager &pm, const FattnToLLVMPipelineOptions &options) {
  // Written as text so that it reads exactly like the `fattn-opt` command
  // line a user would type to reproduce one step.
  std::string pipeline =
      "func.func(fattn-normalize-mask),"
      "one-shot-bufferize{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map},"
      "drop-equivalent-buffer-results,"
      "buffer-results-to-out-params{hoist-static-allocs modify-public-functions},"
      "fattn-tile-attention{block-q=" +
      std::to_string(options.blockQ) +
      " block-k=" + std::to_string(options.blockK) + " align-query-tiles=" +
      (options.alignQueryTiles ? "1" : "0") +
      "},"
      "func.func(fattn-lower-tiles-to-loops,convert-linalg-to-loops),"
      "scf-forall-to-for,canonicalize,cse,"
      "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
      "convert-math-to-llvm,convert-math-to-libm,"
      "finalize-memref-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,"
      "convert-func-to-llvm,convert-cf-to-llvm,reconcile-unrealized-casts";
  registerUpstreamPassesOnce();
  registerFattnPasses();
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("fattn-to-llvm: malformed built-in pipeline");
}

void mlir::fattn::buildFattnToPTXPipeline(
    OpPassManager &pm, const FattnToPTXPipelineOptions &options) {
  std::string pipeline =
      "func.func(fattn-normalize-mask),"
      "one-shot-bufferize{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map},"
      "drop-equivalent-buffer-results,"
      "buffer-results-to-out-params{hoist-static-allocs modify-public-functions},"
      "fattn-tile-attention{block-q=" +
      std::to_string(options.blockQ) +
      " block-k=" + std::to_string(options.blockK) +
      " whole-key-tiles=1 align-query-tiles=1},"
      "fattn-map-tiles-to-gpu{chip=" +
      options.chip.getValue() + " features=" + options.features.getValue() +
      " warps=" + std::to_string(options.warps) +
      "},"
      "gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm,canonicalize,cse,"
      "reconcile-unrealized-casts),"
      "gpu-module-to-binary{format=isa}";
  registerUpstreamPassesOnce();
  registerFattnPasses();
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("fattn-to-ptx: malformed built-in pipeline");
}

void mlir::fattn::registerFattnPassesAndPipelines() {
  registerFattnPasses();
  PassPipelineRegistration<FattnToLLVMPipelineOptions>(
      "fattn-to-llvm",
      "Lower tensor-level fattn programs to the LLVM dialect for the CPU",
      buildFattnToLLVMPipeline);
  PassPipelineRegistration<FattnToPTXPipelineOptions>(
      "fattn-to-ptx",
      "Compile tensor-level fattn programs to tensor-core PTX kernels",
      buildFattnToPTXPipeline);
}
