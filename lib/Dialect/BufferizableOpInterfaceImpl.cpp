//===- BufferizableOpInterfaceImpl.cpp - One-shot bufferization -----------===//

#include "FlashDialect/FattnDialect.h"
#include "FlashDialect/FattnOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace mlir::fattn;

namespace {
/// fattn.attention and fattn.attention_grad: their destinations (out and
/// lse; dq, dk and dv) are overwritten whole, never read, so `tensor.empty`
/// destinations need no copy. `Rebuild` creates the op on buffers.
template <typename Op, typename Rebuild>
struct DestinationOpInterface
    : public DstBufferizableOpInterfaceExternalModel<
          DestinationOpInterface<Op, Rebuild>, Op> {
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    return !cast<Op>(op).isDpsInit(&operand);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    SmallVector<Value> buffers;
    for (Value operand : op->getOperands()) {
      FailureOr<Value> buffer = getBuffer(rewriter, operand, options, state);
      if (failed(buffer))
        return failure();
      buffers.push_back(*buffer);
    }
    rewriter.setInsertionPoint(op);
    SmallVector<Value> written;
    for (OpOperand &init : cast<Op>(op).getDpsInitsMutable())
      written.push_back(buffers[init.getOperandNumber()]);
    Rebuild()(rewriter, cast<Op>(op), buffers);
    replaceOpWithBufferizedValues(rewriter, op, written);
    return success();
  }
};

/// The ops on buffers; the range operands, when the mask comes at run
/// time, are the last three.
struct RebuildAttention {
  void operator()(RewriterBase &rewriter, AttentionOp op,
                  SmallVector<Value> buffers) const {
    buffers.resize(8);
    AttentionOp::create(rewriter, op->getLoc(), TypeRange{}, buffers[0],
                        buffers[1], buffers[2], buffers[3], buffers[4],
                        buffers[5], buffers[6], buffers[7], op.getMaskAttr(),
                        op.getScaleAttr(), op.getSoftcapAttr());
  }
};

struct RebuildAttentionGrad {
  void operator()(RewriterBase &rewriter, AttentionGradOp op,
                  SmallVector<Value> buffers) const {
    buffers.resize(12);
    AttentionGradOp::create(
        rewriter, op->getLoc(), TypeRange{}, buffers[0], buffers[1],
        buffers[2], buffers[3], buffers[4], buffers[5], buffers[6], buffers[7],
        buffers[8], buffers[9], buffers[10], buffers[11], op.getMaskAttr(),
        op.getScaleAttr(), op.getSoftcapAttr(), op.getDeterministic());
  }
};
} // namespace

void mlir::fattn::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, FattnDialect *) {
    AttentionOp::attachInterface<
        DestinationOpInterface<AttentionOp, RebuildAttention>>(*context);
    AttentionGradOp::attachInterface<
        DestinationOpInterface<AttentionGradOp, RebuildAttentionGrad>>(
        *context);
  });
}
