//===- LowerTilesToLoops.cpp - fattn tile ops to scalar loops -------------===//
//
// The CPU decomposition of the online softmax, after IREE's attention
// decomposition: each tile op becomes plain scf.for loops over f32 values.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/ArithRowKeys.h"
#include "FlashDialect/FattnOps.h"
#include "FlashDialect/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>

namespace mlir::fattn {
#define GEN_PASS_DEF_FATTNLOWERTILESTOLOOPS
#include "FlashDialect/Passes.h.inc"
} // namespace mlir::fattn

using namespace mlir;
using namespace mlir::fattn;

namespace {

/// Small builder for the scalar code: loops, f32 loads and stores.
class LoopEmitter {
public:
  LoopEmitter(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  Value f32(double value) {
    return arith::ConstantOp::create(b, loc,
                                     b.getF32FloatAttr(static_cast<float>(value)));
  }
  Value dim(Value memref, int64_t axis) {
    return b.createOrFold<memref::DimOp>(loc, memref, axis);
  }
  /// Loads an element widened to f32.
  Value loadF32(Value memref, ValueRange indices) {
    Value element = memref::LoadOp::create(b, loc, memref, indices);
    if (element.getType().isF32())
      return element;
    return arith::ExtFOp::create(b, loc, b.getF32Type(), element);
  }
  /// Stores an f32 value, narrowed to the memref's element type.
  void storeF32(Value value, Value memref, ValueRange indices) {
    Type elementType = cast<MemRefType>(memref.getType()).getElementType();
    if (!elementType.isF32())
      value = arith::TruncFOp::create(b, loc, elementType, value);
    memref::StoreOp::create(b, loc, value, memref, indices);
  }
  Value loadIndex(Value memref, ValueRange indices) {
    Value element = memref::LoadOp::create(b, loc, memref, indices);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), element);
  }

  /// for (iv = 0; iv < upper; ++iv) body(iv)
  void forEach(Value upper, function_ref<void(Value)> body) {
    forRange(index(0), upper, body);
  }
  void forRange(Value lower, Value upper, function_ref<void(Value)> body) {
    auto loop = scf::ForOp::create(b, loc, lower, upper, index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    body(loop.getInductionVar());
  }
  /// Folds `step(iv, carried)` over [lower, upper) starting from `init`.
  Value reduce(Value lower, Value upper, Value init,
               function_ref<Value(Value, Value)> step) {
    auto loop = scf::ForOp::create(
        b, loc, lower, upper, index(1), ValueRange{init},
        [&](OpBuilder &nested, Location, Value iv, ValueRange carried) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          Value next = step(iv, carried[0]);
          scf::YieldOp::create(b, loc, next);
        });
    return loop.getResult(0);
  }

  OpBuilder &b;
  Location loc;
};

void lowerScores(TileScoresOp op, OpBuilder &b) {
  LoopEmitter e(b, op.getLoc());
  Location loc = op.getLoc();
  Value rows = e.dim(op.getScores(), 0), cols = e.dim(op.getScores(), 1);
  Value headDim = e.dim(op.getQuery(), 1);
  Value scale = e.f32(op.getScale().convertToDouble());
  std::optional<double> softcap;
  if (std::optional<APFloat> cap = op.getSoftcap())
    softcap = cap->convertToDouble();
  e.forEach(rows, [&](Value i) {
    e.forEach(cols, [&](Value j) {
      Value dot = e.reduce(e.index(0), headDim, e.f32(0), [&](Value d, Value a) {
        Value q = e.loadF32(op.getQuery(), {i, d});
        Value k = e.loadF32(op.getKey(), {j, d});
        return arith::AddFOp::create(b, loc, a,
                                     arith::MulFOp::create(b, loc, q, k));
      });
      Value score = arith::MulFOp::create(b, loc, dot, scale);
      if (softcap) {
        Value cap = e.f32(*softcap);
        Value squashed = math::TanhOp::create(
            b, loc, arith::DivFOp::create(b, loc, score, cap));
        score = arith::MulFOp::create(b, loc, squashed, cap);
      }
      score = arith::MulFOp::create(b, loc, score, e.f32(M_LOG2E));
      memref::StoreOp::create(b, loc, score, op.getScores(), ValueRange{i, j});
    });
  });
}

void lowerMask(TileMaskOp op, OpBuilder &b) {
  LoopEmitter e(b, op.getLoc());
  Location loc = op.getLoc();
  Value scores = op.getScores();
  Value negInf = e.f32(-std::numeric_limits<double>::infinity());
  Value falseValue = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
  auto cmp = [&](arith::CmpIPredicate predicate, Value lhs, Value rhs) {
    return arith::CmpIOp::create(b, loc, predicate, lhs, rhs).getResult();
  };
  auto both = [&](Value lhs, Value rhs) {
    return arith::AndIOp::create(b, loc, lhs, rhs).getResult();
  };
  auto either = [&](Value lhs, Value rhs) {
    return arith::OrIOp::create(b, loc, lhs, rhs).getResult();
  };
  using P = arith::CmpIPredicate;
  e.forEach(e.dim(scores, 0), [&](Value i) {
    Value row = arith::AddIOp::create(b, loc, op.getRowOffset(), i);
    e.forEach(e.dim(scores, 1), [&](Value j) {
      Value key = arith::AddIOp::create(b, loc, op.getColOffset(), j);
      Value attended = e.reduce(
          op.getIdsBegin(), op.getIdsEnd(), falseValue, [&](Value t, Value found) {
            Value id = e.loadIndex(op.getSliceIds(), {t});
            auto field = [&](int64_t column) {
              return e.loadIndex(op.getSliceTable(), {id, e.index(column)});
            };
            Value qBegin = field(0), qEnd = field(1);
            Value kBegin = field(2), kEnd = field(3), kind = field(4);
            Value inRows =
                both(cmp(P::sge, row, qBegin), cmp(P::slt, row, qEnd));
            ::fattn::mask::KeyBounds<Value> keys = ::fattn::mask::rowKeys(
                ArithRowKeys(b, loc), kind, row, qBegin, qEnd, kBegin, kEnd);
            Value inKeys =
                both(cmp(P::sge, key, keys.begin), cmp(P::slt, key, keys.end));
            return either(found, both(inRows, inKeys));
          });
      Value score = memref::LoadOp::create(b, loc, scores, ValueRange{i, j});
      Value kept = arith::SelectOp::create(b, loc, attended, score, negInf);
      memref::StoreOp::create(b, loc, kept, scores, ValueRange{i, j});
    });
  });
}

void lowerOnlineSoftmax(TileOnlineSoftmaxOp op, OpBuilder &b) {
  LoopEmitter e(b, op.getLoc());
  Location loc = op.getLoc();
  Value scores = op.getScores();
  Value cols = e.dim(scores, 1), headDim = e.dim(op.getAcc(), 1);
  Value negInf = e.f32(-std::numeric_limits<double>::infinity());
  e.forEach(e.dim(scores, 0), [&](Value i) {
    Value oldMax = memref::LoadOp::create(b, loc, op.getMax(), ValueRange{i});
    Value rowMax = e.reduce(e.index(0), cols, negInf, [&](Value j, Value m) {
      Value s = memref::LoadOp::create(b, loc, scores, ValueRange{i, j});
      return arith::MaximumFOp::create(b, loc, m, s).getResult();
    });
    Value newMax = arith::MaximumFOp::create(b, loc, oldMax, rowMax);
    // A row that has seen only -inf subtracts 0 instead, so that exp2 sees
    // -inf - 0 = -inf rather than -inf - -inf = NaN.
    Value stillEmpty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                             newMax, negInf);
    Value pivot = arith::SelectOp::create(b, loc, stillEmpty, e.f32(0), newMax);
    Value alpha = math::Exp2Op::create(
        b, loc, arith::SubFOp::create(b, loc, oldMax, pivot));
    Value rowSum = e.reduce(e.index(0), cols, e.f32(0), [&](Value j, Value sum) {
      Value s = memref::LoadOp::create(b, loc, scores, ValueRange{i, j});
      Value p = math::Exp2Op::create(b, loc,
                                     arith::SubFOp::create(b, loc, s, pivot));
      memref::StoreOp::create(b, loc, p, scores, ValueRange{i, j});
      return arith::AddFOp::create(b, loc, sum, p).getResult();
    });
    Value oldSum = memref::LoadOp::create(b, loc, op.getSum(), ValueRange{i});
    Value newSum = arith::AddFOp::create(
        b, loc, arith::MulFOp::create(b, loc, oldSum, alpha), rowSum);
    memref::StoreOp::create(b, loc, newSum, op.getSum(), ValueRange{i});
    memref::StoreOp::create(b, loc, newMax, op.getMax(), ValueRange{i});
    e.forEach(headDim, [&](Value d) {
      Value a = memref::LoadOp::create(b, loc, op.getAcc(), ValueRange{i, d});
      memref::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, a, alpha),
                              op.getAcc(), ValueRange{i, d});
    });
  });
}

void lowerAccumulate(TileAccumulateOp op, OpBuilder &b) {
  LoopEmitter e(b, op.getLoc());
  Location loc = op.getLoc();
  Value cols = e.dim(op.getProbs(), 1);
  e.forEach(e.dim(op.getAcc(), 0), [&](Value i) {
    e.forEach(e.dim(op.getAcc(), 1), [&](Value d) {
      Value init = memref::LoadOp::create(b, loc, op.getAcc(), ValueRange{i, d});
      Value total = e.reduce(e.index(0), cols, init, [&](Value j, Value a) {
        Value p = memref::LoadOp::create(b, loc, op.getProbs(), ValueRange{i, j});
        Value v = e.loadF32(op.getValue(), {j, d});
        return arith::AddFOp::create(b, loc, a,
                                     arith::MulFOp::create(b, loc, p, v))
            .getResult();
      });
      memref::StoreOp::create(b, loc, total, op.getAcc(), ValueRange{i, d});
    });
  });
}

void lowerFinalize(TileFinalizeOp op, OpBuilder &b) {
  LoopEmitter e(b, op.getLoc());
  Location loc = op.getLoc();
  Value negInf = e.f32(-std::numeric_limits<double>::infinity());
  Value zero = e.f32(0);
  e.forEach(e.dim(op.getAcc(), 0), [&](Value i) {
    Value sum = memref::LoadOp::create(b, loc, op.getSum(), ValueRange{i});
    Value max = memref::LoadOp::create(b, loc, op.getMax(), ValueRange{i});
    // sum == 0 exactly when the row attended no key.
    Value empty =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, sum, zero);
    Value inverse = arith::SelectOp::create(
        b, loc, empty, zero, arith::DivFOp::create(b, loc, e.f32(1), sum));
    e.forEach(e.dim(op.getAcc(), 1), [&](Value d) {
      Value a = memref::LoadOp::create(b, loc, op.getAcc(), ValueRange{i, d});
      e.storeF32(arith::MulFOp::create(b, loc, a, inverse), op.getOut(), {i, d});
    });
    Value log2Sum = math::Log2Op::create(b, loc, sum);
    Value lse = arith::MulFOp::create(
        b, loc, arith::AddFOp::create(b, loc, max, log2Sum), e.f32(M_LN2));
    memref::StoreOp::create(b, loc,
                            arith::SelectOp::create(b, loc, empty, negInf, lse),
                            op.getLse(), ValueRange{i});
  });
}

//===----------------------------------------------------------------------===//
// The backward's tile ops (key-major: rows are keys, columns queries)
//===----------------------------------------------------------------------===//

void lowerProbabilities(TileProbabilitiesOp op, OpBuilder &b) {
  LoopEmitter e(b, op.getLoc());
  Location loc = op.getLoc();
  Value negInf = e.f32(-std::numeric_limits<double>::infinity());
  e.forEach(e.dim(op.getScores(), 1), [&](Value j) {
    Value lse = memref::LoadOp::create(b, loc, op.getLse(), ValueRange{j});
    // A query that attended nothing has only masked cells: 0, not NaN.
    Value empty =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, lse, negInf);
    Value pivot = arith::SelectOp::create(
        b, loc, empty, e.f32(0),
        arith::MulFOp::create(b, loc, lse, e.f32(M_LOG2E)));
    e.forEach(e.dim(op.getScores(), 0), [&](Value i) {
      Value s = memref::LoadOp::create(b, loc, op.getScores(), ValueRange{i, j});
      Value p = math::Exp2Op::create(b, loc,
                                     arith::SubFOp::create(b, loc, s, pivot));
      p = arith::SelectOp::create(b, loc, empty, e.f32(0), p);
      memref::StoreOp::create(b, loc, p, op.getProbs(), ValueRange{i, j});
    });
  });
}

void lowerDots(TileDotsOp op, OpBuilder &b) {
  LoopEmitter e(b, op.getLoc());
  Location loc = op.getLoc();
  Value headDim = e.dim(op.getA(), 1);
  auto dot = [&](Value i, Value j) {
    return e.reduce(e.index(0), headDim, e.f32(0), [&](Value d, Value sum) {
      Value x = e.loadF32(op.getA(), {i, d}), y = e.loadF32(op.getB(), {j, d});
      return arith::AddFOp::create(b, loc, sum,
                                   arith::MulFOp::create(b, loc, x, y))
          .getResult();
    });
  };
  e.forEach(e.dim(op.getA(), 0), [&](Value i) {
    if (op.getDiagonal()) {
      memref::StoreOp::create(b, loc, dot(i, i), op.getOut(), ValueRange{i});
      return;
    }
    e.forEach(e.dim(op.getB(), 0), [&](Value j) {
      memref::StoreOp::create(b, loc, dot(i, j), op.getOut(),
                              ValueRange{i, j});
    });
  });
}

void lowerScoreGrads(TileScoreGradsOp op, OpBuilder &b) {
  LoopEmitter e(b, op.getLoc());
  Location loc = op.getLoc();
  Value scale = e.f32(op.getScale().convertToDouble());
  std::optional<APFloat> softcap = op.getSoftcap();
  e.forEach(e.dim(op.getScores(), 0), [&](Value i) {
    e.forEach(e.dim(op.getScores(), 1), [&](Value j) {
      auto load = [&](Value memref) {
        return memref::LoadOp::create(b, loc, memref, ValueRange{i, j})
            .getResult();
      };
      Value delta = memref::LoadOp::create(b, loc, op.getDelta(), ValueRange{j});
      Value grad = arith::MulFOp::create(
          b, loc, arith::MulFOp::create(b, loc, scale, load(op.getProbs())),
          arith::SubFOp::create(b, loc, load(op.getDprobs()), delta));
      if (softcap) {
        // tanh(x / c) = capped / c = base-2 score / (log2 e * c).
        Value t = arith::MulFOp::create(
            b, loc, load(op.getScores()),
            e.f32(1.0 / (M_LOG2E * softcap->convertToDouble())));
        Value slope = arith::SubFOp::create(
            b, loc, e.f32(1), arith::MulFOp::create(b, loc, t, t));
        // A masked cell's score is -inf: its slope is not a number, but
        // its probability is 0 and so is its gradient.
        Value masked = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                             load(op.getProbs()), e.f32(0));
        grad = arith::SelectOp::create(
            b, loc, masked, e.f32(0),
            arith::MulFOp::create(b, loc, grad, slope));
      }
      memref::StoreOp::create(b, loc, grad, op.getDscores(), ValueRange{i, j});
    });
  });
}

void lowerAccumulateTransposed(TileAccumulateTransposedOp op, OpBuilder &b) {
  LoopEmitter e(b, op.getLoc());
  Location loc = op.getLoc();
  Value rows = e.dim(op.getWeights(), 0);
  e.forEach(e.dim(op.getAcc(), 0), [&](Value j) {
    e.forEach(e.dim(op.getAcc(), 1), [&](Value d) {
      Value init = memref::LoadOp::create(b, loc, op.getAcc(), ValueRange{j, d});
      Value total = e.reduce(e.index(0), rows, init, [&](Value i, Value a) {
        Value w =
            memref::LoadOp::create(b, loc, op.getWeights(), ValueRange{i, j});
        Value v = e.loadF32(op.getValue(), {i, d});
        return arith::AddFOp::create(b, loc, a,
                                     arith::MulFOp::create(b, loc, w, v))
            .getResult();
      });
      memref::StoreOp::create(b, loc, total, op.getAcc(), ValueRange{j, d});
    });
  });
}

struct FattnLowerTilesToLoopsPass
    : public mlir::fattn::impl::FattnLowerTilesToLoopsBase<FattnLowerTilesToLoopsPass> {
  void runOnOperation() override {
    // The plan is a module-level rewrite (it declares the mask library's
    // functions): refused here rather than left in the output.
    WalkResult planned = getOperation().walk([&](TileScheduleOp schedule) {
      schedule.emitOpError("is planned on the CPU by "
                           "fattn-lower-tile-schedules, which must run first "
                           "(fattn-to-llvm does)");
      return WalkResult::interrupt();
    });
    if (planned.wasInterrupted())
      return signalPassFailure();
    SmallVector<Operation *> tileOps;
    getOperation().walk([&](Operation *op) {
      if (isa<TileScoresOp, TileMaskOp, TileOnlineSoftmaxOp, TileAccumulateOp,
              TileFinalizeOp, TileProbabilitiesOp, TileDotsOp,
              TileScoreGradsOp, TileAccumulateTransposedOp>(op))
        tileOps.push_back(op);
    });
    for (Operation *op : tileOps) {
      OpBuilder b(op);
      llvm::TypeSwitch<Operation *>(op)
          .Case([&](TileScoresOp tile) { lowerScores(tile, b); })
          .Case([&](TileMaskOp tile) { lowerMask(tile, b); })
          .Case([&](TileOnlineSoftmaxOp tile) { lowerOnlineSoftmax(tile, b); })
          .Case([&](TileAccumulateOp tile) { lowerAccumulate(tile, b); })
          .Case([&](TileFinalizeOp tile) { lowerFinalize(tile, b); })
          .Case([&](TileProbabilitiesOp tile) { lowerProbabilities(tile, b); })
          .Case([&](TileDotsOp tile) { lowerDots(tile, b); })
          .Case([&](TileScoreGradsOp tile) { lowerScoreGrads(tile, b); })
          .Case([&](TileAccumulateTransposedOp tile) {
            lowerAccumulateTransposed(tile, b);
          });
      op->erase();
    }
  }
};

} // namespace
