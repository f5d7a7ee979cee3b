//===- HoistTileBuffers.cpp - One tile's stack for a sequential loop ------===//
//
// See the pass description in Passes.td: the scope fattn-tile-attention puts
// around a tile's buffers does not survive canonicalization once the tile
// loop is an scf.for, so the buffers move to the function's entry instead.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::fattn {
#define GEN_PASS_DEF_FATTNHOISTTILEBUFFERS
#include "FlashDialect/Passes.h.inc"
} // namespace mlir::fattn

using namespace mlir;

namespace {

/// Whether iterations around `op` may run at once, which would make one
/// shared set of buffers a race.
bool insideParallelLoop(Operation *op) {
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp())
    if (isa<scf::ForallOp, scf::ParallelOp>(parent))
      return true;
  return false;
}

struct FattnHoistTileBuffersPass
    : public mlir::fattn::impl::FattnHoistTileBuffersBase<
          FattnHoistTileBuffersPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<memref::AllocaScopeOp> scopes;
    func.walk([&](memref::AllocaScopeOp scope) {
      if (scope->hasAttr(mlir::fattn::kTileBuffersAttrName) &&
          !insideParallelLoop(scope))
        scopes.push_back(scope);
    });
    IRRewriter rewriter(&getContext());
    Block &entry = func.getBody().front();
    for (memref::AllocaScopeOp scope : scopes) {
      Block &body = scope.getBodyRegion().front();
      for (memref::AllocaOp alloca :
           llvm::make_early_inc_range(body.getOps<memref::AllocaOp>()))
        if (alloca.getType().hasStaticShape() && alloca->getNumOperands() == 0)
          alloca->moveBefore(&entry, entry.begin());
      // The scope yields nothing: its body takes its place.
      rewriter.eraseOp(body.getTerminator());
      rewriter.inlineBlockBefore(&body, scope);
      rewriter.eraseOp(scope);
    }
  }
};

} // namespace
