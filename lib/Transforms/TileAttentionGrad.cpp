//===- TileAttentionGrad.cpp - fattn.attention_grad to key-major tile loops ===//
//
// The backward after FlashAttention-2: delta = rowsum(dO * O) first, then
// per (key/value head, key tile) the query tiles whose rows attend its keys,
// from the key-major schedule (mask::buildKeyMajorSchedule of the
// transposed mask, docs/backward.md), with dK and dV accumulated for the
// key tile and dQ accumulated in place. Key tiles of one head run in order
// (an scf.for), so that the dQ sums are well defined and deterministic;
// heads are independent (an scf.forall). A mask attribute is planned here
// into constant tables, range operands by a key-major fattn.tile_schedule
// when the program runs. f32 gradients for now: the CPU's case.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Limits.h"
#include "FlashDialect/Mask/Schedule.h"

#include "TileBuilders.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mask = ::fattn::mask;

namespace mlir::fattn::tiling {
namespace {

/// The key-major tables the loops read.
struct KeyMajorTables {
  Value itemOffsets, itemSlices, itemQTiles, slices;
  OpFoldResult numKTiles;
};

class GradTiler {
public:
  GradTiler(AttentionGradOp op, TableEmitter &tables, int64_t blockQ,
            int64_t blockK)
      : op(op), tables(tables), blockQ(blockQ), blockK(blockK) {}

  LogicalResult run();

private:
  LogicalResult readShapes();
  /// The mask attribute's key-major schedule, as constant tables.
  FailureOr<KeyMajorTables> plan(OpBuilder &b);
  /// The range operands', planned when the program runs.
  KeyMajorTables planAtRunTime(OpBuilder &b);
  /// `count` (static, or the value where dynamic) as an index value.
  Value countValue(OpBuilder &b, int64_t count, Value dynamic);
  /// delta[r, h] = <dO[r, h], O[r, h]>, in a buffer of (Sq, Hq) f32.
  Value emitDelta(OpBuilder &b);
  void emitKeyTile(OpBuilder &b, Value keyTileIndex);
  /// One query tile against the key tile, for each query head of the
  /// key/value head's group.
  void emitVisit(OpBuilder &b, Value queryTileIndex, Value item);
  Value zeroed(OpBuilder &b, ArrayRef<int64_t> shape);

  AttentionGradOp op;
  TableEmitter &tables;
  int64_t blockQ, blockK;
  Location loc = op.getLoc();
  /// Token counts: static, or ShapedType::kDynamic with the value in
  /// numQValue / numKValue.
  int64_t numQ = 0, numK = 0, headDim = 0, headsQ = 0, group = 1;
  Value numQValue, numKValue;
  KeyMajorTables schedule;
  Value delta, kvHead, keyOffset, keyTile, valueTile, dkTile, dvTile;
  Value scores, probs, dprobs, dscores;
  OpFoldResult keyRows;
  int64_t staticKeyRows = 0;
};

LogicalResult GradTiler::readShapes() {
  if (op.hasPureTensorSemantics())
    return op.emitOpError("must be bufferized before fattn-tile-attention");
  for (Value operand : op->getOperands())
    if (!op.hasRuntimeMask() &&
        !cast<MemRefType>(operand.getType()).hasStaticShape())
      return op.emitOpError("a mask attribute needs static token counts, got ")
             << operand.getType();
  if (!cast<MemRefType>(op.getDq().getType()).getElementType().isF32())
    return op.emitOpError("gradients are accumulated in place, in f32: bf16 "
                          "and f16 gradients need the GPU lowering, not "
                          "written yet");
  auto queryType = cast<MemRefType>(op.getQuery().getType());
  auto keyType = cast<MemRefType>(op.getKey().getType());
  numQ = queryType.getShape()[0];
  numK = keyType.getShape()[0];
  headsQ = queryType.getShape()[1];
  headDim = queryType.getShape()[2];
  group = headsQ / keyType.getShape()[1];
  constexpr int64_t kMaxBlock = ::fattn::limits::kMaxTileSize;
  if (blockQ <= 0 || blockK <= 0 || blockQ > kMaxBlock || blockK > kMaxBlock)
    return op.emitOpError("tile sizes must be in [1, ")
           << kMaxBlock << "], got block-q=" << blockQ << " block-k=" << blockK;
  // Four score-shaped tiles and the dK and dV accumulators, in f32.
  int64_t bytes = 4 * (4 * blockK * blockQ + 2 * blockK * headDim);
  if (bytes > ::fattn::limits::kMaxCpuTileBytes)
    return op.emitOpError("one key tile's buffers take ")
           << bytes << " bytes at block-q=" << blockQ << " block-k=" << blockK
           << ", more than the " << ::fattn::limits::kMaxCpuTileBytes
           << " a tile may keep on a thread's stack";
  return success();
}

FailureOr<KeyMajorTables> GradTiler::plan(OpBuilder &b) {
  mask::TransposedMask transposed =
      mask::transposeMask(op.getMaskAttr().getMask());
  std::optional<mask::WorkSchedule> keyMajor =
      mask::buildKeyMajorSchedule(transposed, numQ, numK, {blockQ, blockK});
  if (!keyMajor)
    return op.emitOpError("key-major tables at block-q=")
           << blockQ << " block-k=" << blockK << " would hold more than "
           << mask::kMaxTileMapEntries << " tiles or items; use larger tiles";
  // Rows of the key-major schedule are key tiles, its "key tiles" query
  // tiles; the slices are the transposed ones.
  std::vector<int32_t> slicesOfItems, qTilesOfItems;
  for (const mask::WorkItem &item : keyMajor->items) {
    slicesOfItems.push_back(item.slice);
    qTilesOfItems.insert(qTilesOfItems.end(), {item.kTileBegin, item.fullBegin,
                                               item.fullEnd, item.kTileEnd});
  }
  KeyMajorTables result;
  result.itemOffsets =
      tables.emit(b, loc, "key_item_offsets", keyMajor->itemOffsets);
  result.itemSlices = tables.emit(b, loc, "key_item_slices", slicesOfItems);
  result.itemQTiles =
      tables.emit(b, loc, "key_item_q_tiles", qTilesOfItems, /*columns=*/4);
  result.slices = tables.emit(b, loc, "key_major_slices",
                              mask::sliceRecords(transposed.slices),
                              /*columns=*/mask::kSliceFields);
  result.numKTiles = b.getIndexAttr(keyMajor->numQTiles);
  return result;
}

Value GradTiler::countValue(OpBuilder &b, int64_t count, Value dynamic) {
  return dynamic ? dynamic : arith::ConstantIndexOp::create(b, loc, count);
}

KeyMajorTables GradTiler::planAtRunTime(OpBuilder &b) {
  auto dynamic = [&](int64_t columns) {
    SmallVector<int64_t> shape{ShapedType::kDynamic};
    if (columns)
      shape.push_back(columns);
    return MemRefType::get(shape, b.getI32Type());
  };
  auto plan = TileScheduleOp::create(
      b, loc, dynamic(0), dynamic(0), dynamic(0), dynamic(4),
      dynamic(mask::kSliceFields), b.getIndexType(), op.getQRanges(),
      op.getKRanges(), op.getKinds(), countValue(b, numQ, numQValue),
      countValue(b, numK, numKValue), blockQ, blockK,
      /*whole_key_tiles=*/false, /*align_query_tiles=*/false,
      /*key_major=*/true);
  return {plan.getItemOffsets(), plan.getItemSlices(), plan.getItemKTiles(),
          plan.getSlices(), plan.getNumQTiles()};
}

Value GradTiler::zeroed(OpBuilder &b, ArrayRef<int64_t> shape) {
  Value buffer =
      memref::AllocaOp::create(b, loc, MemRefType::get(shape, b.getF32Type()));
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{buffer});
  return buffer;
}

Value GradTiler::emitDelta(OpBuilder &b) {
  Value buffer = memref::AllocOp::create(
      b, loc, MemRefType::get({numQ, headsQ}, b.getF32Type()),
      numQValue ? ValueRange{numQValue} : ValueRange{});
  OpFoldResult queryTiles =
      numQValue ? OpFoldResult(arith::CeilDivUIOp::create(
                                   b, loc, numQValue,
                                   arith::ConstantIndexOp::create(b, loc,
                                                                  blockQ))
                                   .getResult())
                : b.getIndexAttr((numQ + blockQ - 1) / blockQ);
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(headsQ), queryTiles},
      ValueRange{}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getBody()->getTerminator());
  Value head = forall.getInductionVars()[0];
  Value rowOffset = arith::MulIOp::create(
      b, loc, forall.getInductionVars()[1],
      arith::ConstantIndexOp::create(b, loc, blockQ));
  auto [rows, staticRows] =
      tileExtent(b, loc, rowOffset, blockQ, numQ, numQValue);
  auto rowsOf = [&](Value tensor, int64_t dim) {
    return headRows(b, loc, tensor, rowOffset, rows, staticRows, head, dim);
  };
  Value deltaTile = rowsOf(buffer, /*dim=*/0);
  TileDotsOp::create(b, loc, rowsOf(op.getDout(), headDim),
                     rowsOf(op.getOut(), headDim), deltaTile,
                     /*diagonal=*/true);
  return buffer;
}

LogicalResult GradTiler::run() {
  if (failed(readShapes()))
    return failure();
  OpBuilder b(op);
  for (auto [count, value, operand] :
       {std::tuple{&numQ, &numQValue, op.getQuery()},
        std::tuple{&numK, &numKValue, op.getKey()}})
    if (ShapedType::isDynamic(*count))
      *value = memref::DimOp::create(b, loc, operand, 0);
  FailureOr<KeyMajorTables> planned =
      op.hasRuntimeMask() ? FailureOr<KeyMajorTables>(planAtRunTime(b))
                          : plan(b);
  if (failed(planned))
    return failure();
  schedule = *planned;
  delta = emitDelta(b);
  // Zeroed first: dQ accumulates in place, and dK and dV stay zero where a
  // plan has no key tiles (no tokens, or a refused run-time plan; callers
  // validate range operands before they run, as the forward's do).
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  for (Value gradient : {op.getDq(), op.getDk(), op.getDv()})
    linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{gradient});

  // Heads are independent; a head's key tiles add into the same dQ rows and
  // run in order.
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(headsQ / group)},
      ValueRange{}, std::nullopt);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(forall.getBody()->getTerminator());
    kvHead = forall.getInductionVars()[0];
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
    Value keyTiles =
        getValueOrCreateConstantIndexOp(b, loc, schedule.numKTiles);
    scf::ForOp::create(b, loc, c0, keyTiles, c1, ValueRange{},
                       [&](OpBuilder &nb, Location, Value keyTileIndex,
                           ValueRange) {
                         emitKeyTile(nb, keyTileIndex);
                         scf::YieldOp::create(nb, loc);
                       });
  }
  memref::DeallocOp::create(b, loc, delta);
  op.erase();
  return success();
}

void GradTiler::emitKeyTile(OpBuilder &b, Value keyTileIndex) {
  OpBuilder::InsertionGuard guard(b);
  // One key tile's buffers at a time on the stack.
  auto scope = memref::AllocaScopeOp::create(b, loc, TypeRange{});
  scope->setAttr(kTileBuffersAttrName, b.getUnitAttr());
  Block *body = b.createBlock(&scope.getBodyRegion());
  b.setInsertionPointToStart(body);
  memref::AllocaScopeReturnOp::create(b, loc);
  b.setInsertionPointToStart(body);

  keyOffset = arith::MulIOp::create(
      b, loc, keyTileIndex, arith::ConstantIndexOp::create(b, loc, blockK));
  std::tie(keyRows, staticKeyRows) =
      tileExtent(b, loc, keyOffset, blockK, numK, numKValue);
  OpFoldResult zero = b.getIndexAttr(0), dim = b.getIndexAttr(headDim);
  auto keyRowsOf = [&](Value tensor) {
    return headRows(b, loc, tensor, keyOffset, keyRows, staticKeyRows, kvHead,
                    headDim);
  };
  keyTile = keyRowsOf(op.getKey());
  valueTile = keyRowsOf(op.getValue());
  auto accumulator = [&](ArrayRef<int64_t> shape) {
    return createSubview(b, loc, zeroed(b, shape), {zero, zero},
                         {keyRows, dim}, {staticKeyRows, headDim});
  };
  dkTile = accumulator({blockK, headDim});
  dvTile = accumulator({blockK, headDim});
  Type f32 = b.getF32Type();
  auto scoreBuffer = [&] {
    return memref::AllocaOp::create(b, loc,
                                    MemRefType::get({blockK, blockQ}, f32))
        .getResult();
  };
  scores = scoreBuffer();
  probs = scoreBuffer();
  dprobs = scoreBuffer();
  dscores = scoreBuffer();

  // Full query tiles unmasked, then partial ones masked by the item's
  // (transposed) slice.
  emitWorkItemLoop(b, loc, keyTileIndex, schedule.itemOffsets,
                   schedule.itemQTiles,
                   [&](OpBuilder &nb, Value queryTile, Value item) {
                     emitVisit(nb, queryTile, item);
                   });
  linalg::CopyOp::create(b, loc, dkTile, keyRowsOf(op.getDk()));
  linalg::CopyOp::create(b, loc, dvTile, keyRowsOf(op.getDv()));
}

void GradTiler::emitVisit(OpBuilder &b, Value queryTileIndex, Value item) {
  Value colOffset = arith::MulIOp::create(
      b, loc, queryTileIndex, arith::ConstantIndexOp::create(b, loc, blockQ));
  auto [cols, staticCols] =
      tileExtent(b, loc, colOffset, blockQ, numQ, numQValue);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value firstHead = arith::MulIOp::create(
      b, loc, kvHead, arith::ConstantIndexOp::create(b, loc, group));
  Value endHead = arith::AddIOp::create(
      b, loc, firstHead, arith::ConstantIndexOp::create(b, loc, group));
  auto headLoop = scf::ForOp::create(b, loc, firstHead, endHead, c1);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(headLoop.getBody()->getTerminator());
  Value head = headLoop.getInductionVar();
  OpFoldResult zero = b.getIndexAttr(0);
  auto queryRowsOf = [&](Value tensor) {
    return headRows(b, loc, tensor, colOffset, cols, staticCols, head,
                    headDim);
  };
  auto perQuery = [&](Value buffer) {
    return headRows(b, loc, buffer, colOffset, cols, staticCols, head, 0);
  };
  auto tile = [&](Value buffer) {
    return createSubview(b, loc, buffer, {zero, zero}, {keyRows, cols},
                         {staticKeyRows, staticCols});
  };
  Value query = queryRowsOf(op.getQuery()), dout = queryRowsOf(op.getDout());
  Value lse = perQuery(op.getLse()), deltaTile = perQuery(delta);
  Value s = tile(scores), p = tile(probs), dp = tile(dprobs),
        ds = tile(dscores);

  FloatAttr scale = b.getF32FloatAttr(op.getEffectiveScale());
  FloatAttr softcap;
  if (double cap = op.getSoftcapValue(); cap > 0)
    softcap = b.getF32FloatAttr(cap);
  TileScoresOp::create(b, loc, keyTile, query, s, scale, softcap);
  if (item)
    TileMaskOp::create(b, loc, s, keyOffset, colOffset, schedule.slices,
                       schedule.itemSlices, item,
                       arith::AddIOp::create(b, loc, item, c1));
  TileProbabilitiesOp::create(b, loc, s, lse, p);
  TileAccumulateOp::create(b, loc, p, dout, dvTile);
  TileDotsOp::create(b, loc, valueTile, dout, dp, /*diagonal=*/false);
  TileScoreGradsOp::create(b, loc, s, p, dp, deltaTile, ds, scale, softcap);
  TileAccumulateOp::create(b, loc, ds, query, dkTile);
  TileAccumulateTransposedOp::create(b, loc, ds, keyTile,
                                     queryRowsOf(op.getDq()));
}

} // namespace

LogicalResult tileAttentionGrad(AttentionGradOp op, TableEmitter &tables,
                                int64_t blockQ, int64_t blockK) {
  return GradTiler(op, tables, blockQ, blockK).run();
}

} // namespace mlir::fattn::tiling
