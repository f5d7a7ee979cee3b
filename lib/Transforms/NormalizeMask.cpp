//===- NormalizeMask.cpp - Canonical masks for fattn.attention ------------===//

#include "FlashDialect/FattnOps.h"
#include "FlashDialect/Passes.h"

namespace mlir::fattn {
#define GEN_PASS_DEF_FATTNNORMALIZEMASK
#include "FlashDialect/Passes.h.inc"
} // namespace mlir::fattn

using namespace mlir;
using namespace mlir::fattn;

namespace {
struct FattnNormalizeMaskPass
    : public mlir::fattn::impl::FattnNormalizeMaskBase<FattnNormalizeMaskPass> {
  void runOnOperation() override {
    getOperation().walk([](AttentionOp op) {
      // A run-time mask is the caller's to give; there is nothing to fold.
      if (!op.getMaskAttr())
        return;
      // The verifier guarantees a valid mask, which normalize() requires.
      ::fattn::mask::Mask normal =
          ::fattn::mask::normalize(op.getMaskAttr().getMask());
      op.setMaskAttr(MaskAttr::get(op.getContext(), normal));
    });
  }
};
} // namespace
