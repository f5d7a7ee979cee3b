//===- Passes.h - fattn passes and pipelines --------------------*- C++ -*-===//

#ifndef FATTN_PASSES_H
#define FATTN_PASSES_H

#include "FlashDialect/FattnDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
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

/// Options of the `fattn-to-llvm` pipeline.
struct FattnToLLVMPipelineOptions
    : public PassPipelineOptions<FattnToLLVMPipelineOptions> {
  Option<int64_t> blockQ{*this, "block-q", llvm::cl::desc("Query tile rows"),
                         llvm::cl::init(64)};
  Option<int64_t> blockK{*this, "block-k", llvm::cl::desc("Key tile rows"),
                         llvm::cl::init(64)};
};

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
