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
struct AttentionOpInterface
    : public DstBufferizableOpInterfaceExternalModel<AttentionOpInterface,
                                                     AttentionOp> {
  // out and lse are overwritten whole, never read: their old contents need
  // no copy, so `tensor.empty` destinations cost nothing.
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    return !cast<AttentionOp>(op).isDpsInit(&operand);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto attention = cast<AttentionOp>(op);
    SmallVector<Value> buffers;
    for (Value operand : op->getOperands()) {
      FailureOr<Value> buffer = getBuffer(rewriter, operand, options, state);
      if (failed(buffer))
        return failure();
      buffers.push_back(*buffer);
    }
    rewriter.setInsertionPoint(op);
    // The range operands, when the mask comes at run time.
    buffers.resize(8);
    AttentionOp::create(rewriter, op->getLoc(), TypeRange{}, buffers[0],
                        buffers[1], buffers[2], buffers[3], buffers[4],
                        buffers[5], buffers[6], buffers[7],
                        attention.getMaskAttr(), attention.getScaleAttr(),
                        attention.getSoftcapAttr());
    replaceOpWithBufferizedValues(rewriter, op, {buffers[3], buffers[4]});
    return success();
  }
};

struct AttentionGradOpInterface
    : public DstBufferizableOpInterfaceExternalModel<AttentionGradOpInterface,
                                                     AttentionGradOp> {
  // dq, dk and dv are overwritten whole (zeroed, then accumulated), never
  // read for their old contents.
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    return !cast<AttentionGradOp>(op).isDpsInit(&operand);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto grad = cast<AttentionGradOp>(op);
    SmallVector<Value> buffers;
    for (Value operand : op->getOperands()) {
      FailureOr<Value> buffer = getBuffer(rewriter, operand, options, state);
      if (failed(buffer))
        return failure();
      buffers.push_back(*buffer);
    }
    rewriter.setInsertionPoint(op);
    // The range operands, when the mask comes at run time.
    buffers.resize(12);
    AttentionGradOp::create(
        rewriter, op->getLoc(), TypeRange{}, buffers[0], buffers[1],
        buffers[2], buffers[3], buffers[4], buffers[5], buffers[6], buffers[7],
        buffers[8], buffers[9], buffers[10], buffers[11], grad.getMaskAttr(),
        grad.getScaleAttr(), grad.getSoftcapAttr(), grad.getDeterministic());
    replaceOpWithBufferizedValues(rewriter, op,
                                  {buffers[6], buffers[7], buffers[8]});
    return success();
  }
};
} // namespace

void mlir::fattn::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, FattnDialect *) {
    AttentionOp::attachInterface<AttentionOpInterface>(*context);
    AttentionGradOp::attachInterface<AttentionGradOpInterface>(*context);
  });
}
