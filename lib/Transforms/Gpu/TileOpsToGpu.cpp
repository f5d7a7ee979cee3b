//===- TileOpsToGpu.cpp - The tiled form, lowered op by op to a kernel ----===//
//
// A walk over the loop nest of fattn-tile-attention that gives each op its
// GPU meaning, in the order the nest states them. The tile ops work in place
// on f32 buffers; on the GPU those buffers are registers (the accumulator,
// the running maxima, the score tile) or shared-memory slots (the running
// sums), so the walk keeps the mapping from each buffer to where the kernel
// holds it (KernelBuffers) rather than converting ops one at a time with
// the dialect-conversion driver, which has no place for state that lives in
// registers across a loop.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Gpu/TileOpsToGpu.h"

#include "FlashKernel.h"

#include "FlashDialect/ArithRowKeys.h"
#include "FlashDialect/FattnOps.h"
#include "FlashDialect/Mask/Schedule.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::fattn;
using namespace mlir::fattn::codegen;

namespace {

using P = arith::CmpIPredicate;

/// Ops of the nest that only compute addresses and loop bounds the kernel
/// derives itself (from its tables and the grid).
bool isAddressing(Operation *op) {
  return isa<arith::ArithDialect>(op->getDialect()) ||
         isa<memref::SubViewOp, memref::AllocaOp, memref::LoadOp,
             memref::GetGlobalOp, memref::DimOp, scf::YieldOp,
             memref::AllocaScopeReturnOp>(op);
}

/// The running state's buffers, as tile_online_softmax names them.
struct RunningBuffers {
  Value max, sum, acc;
};

/// Where the kernel holds each buffer of the tiled form.
struct KernelBuffers {
  RunningBuffers running;
  DenseMap<Value, RegisterTile> tiles;               // accumulator, scores
  DenseMap<Value, SmallVector<Value>> rowRegisters;  // running maxima
  /// Scores stay in raw units; base-2 units are raw * this (scale * log2 e,
  /// or 1 where the softcap already produced base-2 scores), applied in the
  /// exponent (one FFMA a score). The maxima are in the same raw units. A
  /// run-time kernel's scale is a parameter (scaledToBase2 = false).
  double rawToBase2 = 1;
  bool scaledToBase2 = false;
  /// The running sums' initial value, until it is stored.
  Value rowSumInit;
};

class TileOpsToGpu {
public:
  explicit TileOpsToGpu(FlashKernel &kernel)
      : kernel(kernel), target(kernel.target()), b(kernel.builder()),
        loc(kernel.location()), spec(kernel.spec()) {}

  LogicalResult lowerNest(scf::ForallOp forall);

private:
  LogicalResult lowerBlock(Block &block);
  LogicalResult lowerFill(linalg::FillOp fill);
  LogicalResult lowerItemLoop(scf::ForOp itemLoop);
  LogicalResult lowerKeyLoops(scf::ForOp itemLoop, ArrayRef<scf::ForOp> loops);
  LogicalResult lowerVisit(scf::ForOp loop, Value position);
  void lowerScores(TileScoresOp op, Value position);
  void lowerMask(TileMaskOp op, Value position);
  void maskOneSlice(Value sliceId, ArrayRef<Value> rows, Value colBase,
                    RegisterTile &scores);
  void lowerSoftmax(TileOnlineSoftmaxOp op);
  void lowerAccumulate(TileAccumulateOp op, Value position);
  LogicalResult lowerFinalize(TileFinalizeOp op);
  void storeRowSumInit();
  Value storeRow(Value out, const RegisterTile &acc, Value row,
                 int64_t rowSlot, Value inverse);
  void storeLse(Value lse, Value rowIndex, Value lseValue);

  Value c32(int64_t value) { return kernel.c32(value); }
  Value cf32(double value) { return kernel.cf32(value); }
  /// KernelBuffers::rawToBase2 as a value.
  Value rawToBase2();
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value fma(Value x, Value y, Value z) {
    // One rounding: plain fmul/fadd become mul.rn/add.rn, which ptxas never
    // fuses.
    return LLVM::FMAOp::create(b, loc, x, y, z);
  }
  Value negInf() { return cf32(-std::numeric_limits<double>::infinity()); }
  /// Row sum slot r of thread t at rowSumSmem + (r * threads + t) * 4, so a
  /// warp's accesses hit 32 consecutive words.
  Value sumAddress(int64_t rowSlot) {
    return add(kernel.rowSumSmem,
               arith::ShLIOp::create(
                   b, loc,
                   add(target.threadIndex(), c32(rowSlot * spec.threads())),
                   c32(2)));
  }

  FlashKernel &kernel;
  TargetBuilders &target;
  OpBuilder &b;
  Location loc;
  const FlashKernelSpec &spec;
  KernelBuffers buffers;
  std::unique_ptr<KeyTilePipeline> pipeline;
};

LogicalResult TileOpsToGpu::lowerNest(scf::ForallOp forall) {
  TileOnlineSoftmaxOp softmax;
  forall.walk([&](TileOnlineSoftmaxOp op) {
    if (!softmax)
      softmax = op;
  });
  if (!softmax)
    return forall.emitError("expected a fattn.tile_online_softmax in the "
                            "tiled loop nest");
  buffers.running = {tileBufferOf(softmax.getMax()), tileBufferOf(softmax.getSum()),
                     tileBufferOf(softmax.getAcc())};
  Block *body = forall.getBody();
  // fattn-tile-attention gives each CTA's buffers one stack scope.
  if (auto scope = dyn_cast<memref::AllocaScopeOp>(body->front()))
    body = &scope.getBodyRegion().front();
  return lowerBlock(*body);
}

LogicalResult TileOpsToGpu::lowerBlock(Block &block) {
  for (Operation &op : block) {
    if (isAddressing(&op))
      continue;
    LogicalResult lowered =
        llvm::TypeSwitch<Operation *, LogicalResult>(&op)
            .Case([&](linalg::FillOp fill) { return lowerFill(fill); })
            .Case([&](scf::ForOp itemLoop) { return lowerItemLoop(itemLoop); })
            .Case([&](TileFinalizeOp finalize) {
              return lowerFinalize(finalize);
            })
            .Default([&](Operation *other) {
              return other->emitError("no GPU lowering for '")
                     << other->getName()
                     << "' outside the key-tile loops of the tiled nest";
            });
    if (failed(lowered))
      return failure();
  }
  return success();
}

LogicalResult TileOpsToGpu::lowerFill(linalg::FillOp fill) {
  Value buffer = tileBufferOf(fill.getOutputs().front());
  FloatAttr init;
  if (!matchPattern(fill.getInputs().front(), m_Constant(&init)))
    return fill.emitError("GPU kernels start their running state from "
                          "constants");
  Value value = cf32(init.getValueAsDouble());
  const RunningBuffers &running = buffers.running;
  if (buffer == running.acc) {
    auto type = cast<MemRefType>(buffer.getType());
    buffers.tiles[buffer] = target.registerTile(type.getDimSize(1), value);
  } else if (buffer == running.max) {
    buffers.rowRegisters[buffer] =
        SmallVector<Value>(target.rowSlots(), value);
  } else if (buffer == running.sum) {
    // Stored once the first copies are issued (storeRowSumInit), so that
    // the loads start as early as they can.
    buffers.rowSumInit = value;
  } else {
    return fill.emitError("no GPU lowering for a fill of a buffer other "
                          "than the running max, sum or accumulator");
  }
  return success();
}

/// The loop over the tile's work items holds the key-tile loops and the
/// reads of the items' fields, which the kernel derives itself.
LogicalResult TileOpsToGpu::lowerItemLoop(scf::ForOp itemLoop) {
  if (pipeline)
    return itemLoop.emitError("expected one work-item loop in the tiled "
                              "nest; the kernel walks one loop of visits");
  SmallVector<scf::ForOp> keyLoops;
  for (Operation &op : *itemLoop.getBody()) {
    if (auto loop = dyn_cast<scf::ForOp>(op))
      keyLoops.push_back(loop);
    else if (!isAddressing(&op))
      return op.emitError("no GPU lowering for '")
             << op.getName() << "' in the work-item loop";
  }
  return lowerKeyLoops(itemLoop, keyLoops);
}

/// The loop over work items, with its loop over full tiles and its loop over
/// partial tiles, becomes one loop over the query tile's visits (each item's
/// full tiles first: mask::itemVisit), with the body of the partial loop,
/// whose extra tile_mask applies to partial visits only. The target's
/// pipeline decides what is in flight across it.
LogicalResult TileOpsToGpu::lowerKeyLoops(scf::ForOp itemLoop,
                                          ArrayRef<scf::ForOp> loops) {
  auto tileOps = [](scf::ForOp loop, bool withMask) {
    SmallVector<StringRef> names;
    for (Operation &op : *loop.getBody())
      if (isa<FattnDialect>(op.getDialect()) &&
          (withMask || !isa<TileMaskOp>(op)))
        names.push_back(op.getName().getStringRef());
    return names;
  };
  auto hasMask = [](scf::ForOp loop) {
    return !loop.getBody()->getOps<TileMaskOp>().empty();
  };
  if (loops.size() != 2 || hasMask(loops[0]) || !hasMask(loops[1]) ||
      tileOps(loops[0], true) != tileOps(loops[1], false))
    return itemLoop.emitError(
        "expected the work-item loop of fattn-tile-attention, holding two "
        "key-tile loops: one over full tiles and one over partial tiles, the "
        "same tile ops but tile_mask");
  scf::ForOp partialLoop = loops[1];
  Block *body = partialLoop.getBody();
  if (body->getOps<TileScoresOp>().empty() ||
      body->getOps<TileAccumulateOp>().empty())
    return partialLoop.emitError("a key-tile loop needs a tile_scores and a "
                                 "tile_accumulate");
  const RunningBuffers &running = buffers.running;
  if (!buffers.tiles.count(running.acc) ||
      !buffers.rowRegisters.count(running.max) || !buffers.rowSumInit)
    return partialLoop.emitError("the running max, sum and accumulator must "
                                 "be filled before the key-tile loops");

  // The Q tile is loop-invariant: it is staged once, in the copy group of
  // the first K tile.
  TileScoresOp firstScores = *partialLoop.getBody()->getOps<TileScoresOp>().begin();
  Value query = kernel.argumentFor(tileBufferOf(firstScores.getQuery()));
  Value key = kernel.argumentFor(tileBufferOf(firstScores.getKey()));
  TileAccumulateOp firstAccumulate =
      *partialLoop.getBody()->getOps<TileAccumulateOp>().begin();
  Value value = kernel.argumentFor(tileBufferOf(firstAccumulate.getValue()));
  if (!query || !key || !value)
    return partialLoop.emitError("tile operands must be cut from the "
                                 "kernel's parameters");
  // A run-time kernel's head counts are parameters.
  int64_t staticHeadsQ =
      spec.runtimeSchedule ? ShapedType::kDynamic : spec.headsQ;
  int64_t staticHeadsK =
      spec.runtimeSchedule ? ShapedType::kDynamic : spec.headsK;
  auto visitFirstRow = [&](Value visit) -> Value {
    return arith::MulIOp::create(b, loc, kernel.locateVisit(visit).kTile,
                                 c32(spec.blockK));
  };
  auto tileRows = [&, key, value, staticHeadsK](Value firstRow, bool isValue) {
    return GlobalRows{isValue ? value : key, firstRow,       spec.blockK,
                      kernel.kvHead(),       kernel.headsK(), staticHeadsK,
                      kernel.numK(),         spec.numK};
  };
  auto visitExists = [&](Value visit) -> Value {
    return arith::CmpIOp::create(b, loc, P::slt, visit, kernel.numVisits());
  };
  pipeline = target.createKeyTilePipeline(kernel.keySmem, kernel.valueSmem,
                                          visitFirstRow, tileRows, visitExists);
  target.copyRowsAsync(kernel.querySmem,
                       {query, kernel.rowOffset(), spec.blockQ, kernel.head(),
                        kernel.headsQ(), staticHeadsQ, kernel.numQ(),
                        spec.numQ});
  pipeline->prologue();
  storeRowSumInit();

  RegisterTile &acc = buffers.tiles[buffers.running.acc];
  SmallVector<Value> &maxima = buffers.rowRegisters[buffers.running.max];
  // Carried: the accumulator, the maxima, then the pipeline's values.
  auto carriedState = [&]() {
    SmallVector<Value> values(acc.values);
    values.append(maxima);
    values.append(pipeline->carriedValues());
    return values;
  };
  int64_t accCount = acc.values.size();
  int64_t stateCount = accCount + int64_t(maxima.size());
  auto loop = scf::ForOp::create(b, loc, c32(0), kernel.numVisits(), c32(1),
                                 carriedState());
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    ValueRange carried = loop.getRegionIterArgs();
    acc.values.assign(carried.begin(), carried.begin() + accCount);
    maxima.assign(carried.begin() + accCount, carried.begin() + stateCount);
    pipeline->bindCarried(carried.drop_front(stateCount));
    if (failed(lowerVisit(partialLoop, loop.getInductionVar())))
      return failure();
    scf::YieldOp::create(b, loc, carriedState());
  }
  acc.values.assign(loop.getResults().begin(),
                    loop.getResults().begin() + accCount);
  maxima.assign(loop.getResults().begin() + accCount,
                loop.getResults().begin() + stateCount);
  pipeline->drain();
  return success();
}

LogicalResult TileOpsToGpu::lowerVisit(scf::ForOp loop, Value position) {
  kernel.bindThread();
  pipeline->bindVisit(position);
  pipeline->beginVisit(position);
  for (Operation &op : *loop.getBody()) {
    if (isAddressing(&op))
      continue;
    LogicalResult lowered =
        llvm::TypeSwitch<Operation *, LogicalResult>(&op)
            .Case([&](TileScoresOp scores) {
              lowerScores(scores, position);
              return success();
            })
            .Case([&](TileMaskOp mask) {
              lowerMask(mask, position);
              return success();
            })
            .Case([&](TileOnlineSoftmaxOp softmax) {
              lowerSoftmax(softmax);
              return success();
            })
            .Case([&](TileAccumulateOp accumulate) {
              lowerAccumulate(accumulate, position);
              return success();
            })
            .Default([&](Operation *other) {
              return other->emitError("no GPU lowering for '")
                     << other->getName() << "' in a key-tile loop";
            });
    if (failed(lowered))
      return failure();
  }
  return success();
}

void TileOpsToGpu::lowerScores(TileScoresOp op, Value position) {
  RegisterTile scores = target.registerTile(spec.blockK, cf32(0));
  target.multiplyQueryKey(pipeline->keyTile(), scores);
  // A run-time kernel's scale and softcap are its parameters.
  Value scaleParam = kernel.scaleParameter();
  double scale = op.getScale().convertToDouble();
  buffers.rawToBase2 = scale * M_LOG2E;
  buffers.scaledToBase2 = false;
  if (std::optional<APFloat> softcap = op.getSoftcap()) {
    // Soft-capped scores go to base 2 here; plain ones stay raw and meet
    // rawToBase2 inside the exponent.
    double cap = softcap->convertToDouble();
    Value capParam = kernel.softcapParameter();
    Value inner = scaleParam
                      ? arith::DivFOp::create(b, loc, scaleParam, capParam)
                            .getResult()
                      : cf32(scale / cap);
    Value outer = scaleParam
                      ? arith::MulFOp::create(b, loc, capParam, cf32(M_LOG2E))
                            .getResult()
                      : cf32(cap * M_LOG2E);
    for (Value &s : scores.values) {
      Value capped = target.tanh(arith::MulFOp::create(b, loc, s, inner));
      s = arith::MulFOp::create(b, loc, capped, outer);
    }
    buffers.rawToBase2 = 1;
    buffers.scaledToBase2 = true;
  }
  buffers.tiles[tileBufferOf(op.getScores())] = std::move(scores);
}

Value TileOpsToGpu::rawToBase2() {
  Value scaleParam = kernel.scaleParameter();
  if (!scaleParam || buffers.scaledToBase2)
    return cf32(buffers.rawToBase2);
  return arith::MulFOp::create(b, loc, scaleParam, cf32(M_LOG2E));
}

/// Keys [lo, lo + width) that a slice lets `row` attend, by the mask
/// library's formula (mask::rowKeys); the per-slice terms fold into one
/// computation per slice after CSE.
struct SliceFields {
  Value qBegin, qEnd, kBegin, kEnd, kind;
};

void TileOpsToGpu::lowerMask(TileMaskOp op, Value position) {
  // The kernel's visits mix full and partial tiles; the op applies to the
  // partial ones, which the item's slice alone masks (its slice ids are
  // item_slices[item .. item + 1)).
  RegisterTile &scores = buffers.tiles[tileBufferOf(op.getScores())];
  // Located again rather than held through the Q K^T product, where every
  // register is taken.
  VisitPlace visit = kernel.locateVisit(position);
  auto ifOp = scf::IfOp::create(b, loc, TypeRange(ValueRange(scores.values)),
                                visit.full, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  scf::YieldOp::create(b, loc, scores.values);
  b.setInsertionPointToStart(&ifOp.getElseRegion().front());
  // row_offset: the tile's first row, from the slot record the search read.
  Value tileRow = visit.slot.firstRow;
  SmallVector<Value> rows;
  for (int64_t r = 0; r < scores.rowSlots; ++r)
    rows.push_back(add(tileRow, target.slotRow(r)));
  // col_offset of the visit's tile ops.
  Value colBase =
      add(mul(visit.kTile, c32(spec.blockK)), target.slotColumnBase());
  RegisterTile masked = scores;
  maskOneSlice(kernel.loadTable(ScheduleTable::ItemSlices, visit.item), rows, colBase,
               masked);
  scf::YieldOp::create(b, loc, masked.values);
  b.setInsertionPointAfter(ifOp);
  scores.values.assign(ifOp.getResults().begin(), ifOp.getResults().end());
}

/// The slice rule on one row: its attended keys as [lo, lo + width).
struct RowInterval {
  Value low, width;
};

SliceFields loadSliceFields(FlashKernel &kernel, Value id) {
  OpBuilder &b = kernel.builder();
  Location loc = kernel.location();
  Value fields = arith::MulIOp::create(b, loc, id, kernel.c32(5));
  auto field = [&](int64_t index) {
    return kernel.loadTable(ScheduleTable::Slices, fields, index);
  };
  return {field(0), field(1), field(2), field(3), field(4)};
}

RowInterval rowInterval(FlashKernel &kernel, const SliceFields &t, Value row) {
  OpBuilder &b = kernel.builder();
  Location loc = kernel.location();
  Value inRows = arith::AndIOp::create(
      b, loc, arith::CmpIOp::create(b, loc, P::sge, row, t.qBegin),
      arith::CmpIOp::create(b, loc, P::slt, row, t.qEnd));
  ::fattn::mask::KeyBounds<Value> keys = ::fattn::mask::rowKeys(
      ArithRowKeys(b, loc), t.kind, row, t.qBegin, t.qEnd, t.kBegin, t.kEnd);
  Value width = arith::MaxSIOp::create(
      b, loc, arith::SubIOp::create(b, loc, keys.end, keys.begin),
      kernel.c32(0));
  return {keys.begin,
          arith::SelectOp::create(b, loc, inRows, width, kernel.c32(0))};
}

/// col in [lo, lo + width) as one unsigned compare.
Value attends(FlashKernel &kernel, const RowInterval &interval, Value col) {
  OpBuilder &b = kernel.builder();
  Location loc = kernel.location();
  return arith::CmpIOp::create(
      b, loc, P::ult, arith::SubIOp::create(b, loc, col, interval.low),
      interval.width);
}

void TileOpsToGpu::maskOneSlice(Value sliceId, ArrayRef<Value> rows,
                                Value colBase, RegisterTile &scores) {
  SliceFields fields = loadSliceFields(kernel, sliceId);
  for (int64_t r = 0; r < scores.rowSlots; ++r) {
    RowInterval interval = rowInterval(kernel, fields, rows[r]);
    for (int64_t c = 0; c < scores.colSlots; ++c) {
      Value col = add(colBase, c32(target.slotColumnOffset(c)));
      Value &s = scores.at(r, c);
      s = select(attends(kernel, interval, col), s, negInf());
    }
  }
}

void TileOpsToGpu::lowerSoftmax(TileOnlineSoftmaxOp op) {
  RegisterTile &scores = buffers.tiles[tileBufferOf(op.getScores())];
  RegisterTile &acc = buffers.tiles[tileBufferOf(op.getAcc())];
  SmallVector<Value> &maxima = buffers.rowRegisters[tileBufferOf(op.getMax())];
  Value toBase2 = rawToBase2();
  auto fmax = [&](Value x, Value y) -> Value {
    return arith::MaximumFOp::create(b, loc, x, y);
  };
  for (int64_t r = 0; r < scores.rowSlots; ++r) {
    Value localMax = negInf();
    for (int64_t c = 0; c < scores.colSlots; ++c)
      localMax = fmax(localMax, scores.at(r, c));
    localMax = target.reduceOverRow(localMax, fmax);
    Value newMax = fmax(maxima[r], localMax);
    // A row that has seen only -inf subtracts 0, not -inf.
    Value stillEmpty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                             newMax, negInf());
    Value pivot = select(stillEmpty, cf32(0),
                         arith::MulFOp::create(b, loc, newMax, toBase2));
    Value negPivot = arith::NegFOp::create(b, loc, pivot);
    Value alpha = target.exp2(fma(maxima[r], toBase2, negPivot));
    Value localSum = cf32(0);
    for (int64_t c = 0; c < scores.colSlots; ++c) {
      Value &s = scores.at(r, c);
      s = target.exp2(fma(s, toBase2, negPivot));
      localSum = arith::AddFOp::create(b, loc, localSum, s);
    }
    target.storeSharedF32(
        sumAddress(r), fma(target.loadSharedF32(sumAddress(r)), alpha, localSum));
    maxima[r] = newMax;
    for (int64_t c = 0; c < acc.colSlots; ++c)
      acc.at(r, c) = arith::MulFOp::create(b, loc, acc.at(r, c), alpha);
  }
}

void TileOpsToGpu::lowerAccumulate(TileAccumulateOp op, Value position) {
  pipeline->awaitValue(position);
  target.multiplyProbabilitiesValue(buffers.tiles[tileBufferOf(op.getProbs())],
                                    pipeline->valueTile(),
                                    buffers.tiles[tileBufferOf(op.getAcc())]);
}

void TileOpsToGpu::storeRowSumInit() {
  if (!buffers.rowSumInit)
    return;
  for (int64_t r = 0; r < target.rowSlots(); ++r)
    target.storeSharedF32(sumAddress(r), buffers.rowSumInit);
  buffers.rowSumInit = nullptr;
}

LogicalResult TileOpsToGpu::lowerFinalize(TileFinalizeOp op) {
  // Thread values are rederived first: the last ones were the key loop's.
  kernel.bindThread();
  storeRowSumInit();
  // The tile's end is loaded only now so that it holds no register through
  // the key loop.
  SlotRecord slot = kernel.rereadSlot();
  Value tileRow = slot.firstRow, rowEnd = slot.rowEnd;
  Value out = kernel.argumentFor(tileBufferOf(op.getOut()));
  Value lse = kernel.argumentFor(tileBufferOf(op.getLse()));
  if (!out || !lse)
    return op.emitError("tile_finalize must write the kernel's parameters");
  if (!buffers.tiles.count(tileBufferOf(op.getAcc())) ||
      !buffers.rowRegisters.count(tileBufferOf(op.getMax())))
    return op.emitError("tile_finalize reads a running state no key loop "
                        "computed");
  const RegisterTile &acc = buffers.tiles[tileBufferOf(op.getAcc())];
  const SmallVector<Value> &maxima = buffers.rowRegisters[tileBufferOf(op.getMax())];
  Value ln2 = cf32(M_LN2);
  for (int64_t r = 0; r < acc.rowSlots; ++r) {
    Value sum = target.reduceOverRow(
        target.loadSharedF32(sumAddress(r)), [&](Value x, Value y) -> Value {
          return arith::AddFOp::create(b, loc, x, y);
        });
    Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, sum,
                                        cf32(0));
    Value inverse = select(empty, cf32(0),
                           arith::DivFOp::create(b, loc, cf32(1), sum));
    Value row = add(tileRow, target.slotRow(r));
    Value inside = arith::CmpIOp::create(b, loc, P::slt, row, rowEnd);
    auto ifOp = scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    Value rowIndex = storeRow(out, acc, row, r, inverse);
    Value lseValue = select(
        empty, negInf(),
        arith::MulFOp::create(
            b, loc, fma(maxima[r], rawToBase2(), target.log2(sum)),
            ln2));
    storeLse(lse, rowIndex, lseValue);
  }  return success();
}

/// This thread's column pairs of row `row` of out; returns the row's
/// (token, head) index.
Value TileOpsToGpu::storeRow(Value out, const RegisterTile &acc, Value row,
                             int64_t rowSlot, Value inverse) {
  Type i64 = b.getI64Type();
  auto globalPtr = LLVM::LLVMPointerType::get(b.getContext(), 1);
  auto toI64 = [&](Value x) -> Value {
    return arith::ExtSIOp::create(b, loc, i64, x);
  };
  Value rowIndex =
      add(mul(toI64(row), toI64(kernel.headsQ())), toI64(kernel.head()));
  Value rowElement = mul(rowIndex, toI64(c32(spec.headDim)));
  for (int64_t c = 0; c < acc.colSlots; c += 2) {
    Value low = arith::MulFOp::create(b, loc, acc.at(rowSlot, c), inverse);
    Value high = arith::MulFOp::create(b, loc, acc.at(rowSlot, c + 1), inverse);
    Value element =
        add(rowElement, toI64(add(c32(target.slotColumnOffset(c)),
                                  target.slotColumnBase())));
    Value address = LLVM::GEPOp::create(
        b, loc, globalPtr, b.getI8Type(), out,
        ArrayRef<LLVM::GEPArg>{mul(element, toI64(c32(2)))});
    LLVM::StoreOp::create(b, loc, target.packPair(low, high), address,
                          /*alignment=*/4);
  }
  return rowIndex;
}

/// The row's lse, from one of the lanes holding the row.
void TileOpsToGpu::storeLse(Value lse, Value rowIndex, Value lseValue) {
  auto globalPtr = LLVM::LLVMPointerType::get(b.getContext(), 1);
  auto leader = scf::IfOp::create(b, loc, target.isRowLeader(),
                                  /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&leader.getThenRegion().front());
  Value lseAddress = LLVM::GEPOp::create(b, loc, globalPtr, b.getF32Type(), lse,
                                         ArrayRef<LLVM::GEPArg>{rowIndex});
  LLVM::StoreOp::create(b, loc, lseValue, lseAddress, /*alignment=*/4);
}

} // namespace

Value mlir::fattn::codegen::tileBufferOf(Value view) {
  while (auto subview = view.getDefiningOp<memref::SubViewOp>())
    view = subview.getSource();
  return view;
}

FailureOr<gpu::GPUFuncOp>
mlir::fattn::codegen::lowerTiledAttention(scf::ForallOp forall,
                                      const FlashKernelSpec &spec,
                                      gpu::GPUModuleOp module) {
  OpBuilder b(forall.getContext());
  FlashKernel kernel(b, module.getLoc(), spec);
  gpu::GPUFuncOp func = kernel.begin(module);
  TileOpsToGpu lowering(kernel);
  if (failed(lowering.lowerNest(forall))) {
    func.erase();
    return failure();
  }
  kernel.end();
  return func;
}
