//===- TileAttention.cpp - fattn.attention to online-softmax tile loops ---===//
//
// The schedule of the CPU and GPU paths alike. Which tiles exist and which
// need masking is decided by the mask library alone (buildWorkSchedule:
// per query tile, one work item per slice with its runs of key tiles); this
// pass only turns its answer into constant tables and loops.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/FattnOps.h"
#include "FlashDialect/Mask/Schedule.h"
#include "FlashDialect/Passes.h"

#include "TileBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include <limits>

namespace mlir::fattn {
#define GEN_PASS_DEF_FATTNTILEATTENTION
#include "FlashDialect/Passes.h.inc"
} // namespace mlir::fattn

using namespace mlir;
using namespace mlir::fattn;
namespace mask = ::fattn::mask;
using namespace mlir::fattn::tiling;

namespace {

/// The tables the loops read, wherever they come from.
struct ScheduleTables {
  Value queryTileBegins, itemOffsets, itemSlices, itemKTiles, slices;
  OpFoldResult numQTiles;
};

class AttentionTiler {
public:
  AttentionTiler(AttentionOp op, TableEmitter &tables, int64_t blockQ,
                 int64_t blockK, mask::KeyEdge keyEdge,
                 mask::QueryTiles queryTiles)
      : op(op), tables(tables), blockQ(blockQ), blockK(blockK),
        keyEdge(keyEdge), queryTiles(queryTiles) {}

  LogicalResult run();

private:
  /// Shapes and tile sizes the loops can be built for.
  LogicalResult readShapes();
  /// The mask attribute's schedule, as constant tables.
  FailureOr<ScheduleTables> planStatically(OpBuilder &b);
  /// The range operands' schedule, planned when the program runs.
  ScheduleTables planAtRunTime(OpBuilder &b);
  /// rowOffset and rows of the forall's query tile.
  void bindQueryRows(OpBuilder &b, Value queryTileIndex, Value queryTileBegins);
  /// The running max, sum and accumulator, and the score tile.
  void allocateRunningState(OpBuilder &b);
  /// Tile sizes the tables and one tile's buffers can hold.
  LogicalResult checkTileSizes();
  /// Rows of the tile starting at `offset`: `block`, or fewer at the end.
  /// Static when every tile is whole, so that tile types stay static.
  std::pair<OpFoldResult, int64_t> tileExtent(OpBuilder &b, Value offset,
                                              int64_t block, int64_t total,
                                              Value totalValue);
  void emitKeyTileStep(OpBuilder &b, Value keyTile, Value idsBegin,
                       Value idsEnd);
  AttentionOp op;
  TableEmitter &tables;
  int64_t blockQ, blockK;
  mask::KeyEdge keyEdge;
  mask::QueryTiles queryTiles;
  Location loc = op.getLoc();

  // Per query-tile state, set while emitting the loop body.
  /// Token counts: static, or ShapedType::kDynamic with the value in
  /// numQValue / numKValue (null when static).
  int64_t numQ = 0, numK = 0, headDim = 0, headsQ = 0, group = 1;
  Value numQValue, numKValue;
  Value kvHead, rowOffset, queryTile, accTile, maxTile, sumTile, scoresBuffer;
  Value sliceTable, itemSlices;
  OpFoldResult rows;
  int64_t staticRows = 0;
};

LogicalResult AttentionTiler::checkTileSizes() {
  constexpr int64_t kMaxBlock = ::fattn::limits::kMaxTileSize;
  if (blockQ <= 0 || blockK <= 0 || blockQ > kMaxBlock || blockK > kMaxBlock)
    return op.emitOpError("tile sizes must be in [1, ")
           << kMaxBlock << "], got block-q=" << blockQ << " block-k=" << blockK;
  bool staticTokens = !ShapedType::isDynamic(numQ) && !ShapedType::isDynamic(numK);
  if (std::optional<std::string> problem =
          staticTokens ? mask::checkTileMapShape(numQ, numK, {blockQ, blockK})
                       : std::nullopt)
    return op.emitOpError("cannot tile: ") << *problem;
  // Scores, accumulator, running max and sum of one tile, in f32.
  int64_t bytes = 4 * blockQ * (blockK + headDim + 2);
  if (bytes > ::fattn::limits::kMaxCpuTileBytes)
    return op.emitOpError("one tile's buffers take ")
           << bytes << " bytes at block-q=" << blockQ << " block-k=" << blockK
           << " and head dim " << headDim << ", more than the "
           << ::fattn::limits::kMaxCpuTileBytes
           << " a tile may keep on a thread's stack";
  return success();
}

std::pair<OpFoldResult, int64_t>
AttentionTiler::tileExtent(OpBuilder &b, Value offset, int64_t block,
                           int64_t total, Value totalValue) {
  return tiling::tileExtent(b, loc, offset, block, total, totalValue);
}

void AttentionTiler::emitKeyTileStep(OpBuilder &b, Value keyTile,
                                     Value idsBegin, Value idsEnd) {
  Value colOffset = arith::MulIOp::create(
      b, loc, keyTile, arith::ConstantIndexOp::create(b, loc, blockK));
  auto [cols, staticCols] = tileExtent(b, colOffset, blockK, numK, numKValue);
  OpFoldResult zero = b.getIndexAttr(0);
  Value key = headRows(b, loc, op.getKey(), colOffset, cols, staticCols,
                       kvHead, headDim);
  Value value = headRows(b, loc, op.getValue(), colOffset, cols, staticCols,
                         kvHead, headDim);
  Value scores = createSubview(b, loc, scoresBuffer, {zero, zero},
                               {rows, cols}, {staticRows, staticCols});

  FloatAttr softcap;
  if (double cap = op.getSoftcapValue(); cap > 0)
    softcap = b.getF32FloatAttr(cap);
  TileScoresOp::create(b, loc, queryTile, key, scores,
                       b.getF32FloatAttr(op.getEffectiveScale()), softcap);
  if (idsBegin)
    TileMaskOp::create(b, loc, scores, rowOffset, colOffset, sliceTable,
                       itemSlices, idsBegin, idsEnd);
  TileOnlineSoftmaxOp::create(b, loc, scores, maxTile, sumTile, accTile);
  TileAccumulateOp::create(b, loc, scores, value, accTile);
}

LogicalResult AttentionTiler::readShapes() {
  if (op.hasPureTensorSemantics())
    return op.emitOpError("must be bufferized before fattn-tile-attention");
  auto queryType = cast<MemRefType>(op.getQuery().getType());
  auto keyType = cast<MemRefType>(op.getKey().getType());
  // The verifier keeps heads and the head dim static; token counts are
  // static only with a mask attribute, whose schedule is planned here.
  for (Value operand : op->getOperands())
    if (!op.hasRuntimeMask() &&
        !cast<MemRefType>(operand.getType()).hasStaticShape())
      return op.emitOpError("a mask attribute needs static token counts "
                            "(its tiles are planned when compiling), got ")
             << operand.getType();
  numQ = queryType.getShape()[0];
  numK = keyType.getShape()[0];
  headDim = queryType.getShape()[2];
  headsQ = queryType.getShape()[1];
  group = headsQ / keyType.getShape()[1];
  return checkTileSizes();
}

/// The token count of dimension 0 of `memref`, where it is dynamic; null
/// where the type states it.
static Value dynamicTokenCount(OpBuilder &b, Location loc, Value memref) {
  if (!cast<MemRefType>(memref.getType()).isDynamicDim(0))
    return nullptr;
  return memref::DimOp::create(b, loc, memref, 0);
}

FailureOr<ScheduleTables> AttentionTiler::planStatically(OpBuilder &b) {
  mask::Mask attended = op.getMaskAttr().getMask();
  std::optional<mask::WorkSchedule> schedule =
      mask::buildWorkSchedule(attended, numQ, numK, {blockQ, blockK}, keyEdge,
                              queryTiles);
  if (!schedule)
    return op.emitOpError("tile tables at block-q=")
           << blockQ << " block-k=" << blockK << " would hold more than "
           << mask::kMaxTileMapEntries
           << " query tiles or work items, or more than 2^31 - 1 visited "
              "tiles; use larger tiles";
  ScheduleTables result;
  result.queryTileBegins =
      tables.emit(b, loc, "q_tile_begins", schedule->qTileBegins);
  result.itemOffsets =
      tables.emit(b, loc, "item_offsets", schedule->itemOffsets);
  std::vector<int32_t> slicesOfItems, kTilesOfItems;
  for (const mask::WorkItem &item : schedule->items) {
    slicesOfItems.push_back(item.slice);
    kTilesOfItems.insert(kTilesOfItems.end(), {item.kTileBegin, item.fullBegin,
                                               item.fullEnd, item.kTileEnd});
  }
  result.itemSlices = tables.emit(b, loc, "item_slices", slicesOfItems);
  result.itemKTiles =
      tables.emit(b, loc, "item_k_tiles", kTilesOfItems, /*columns=*/4);
  tables.emit(b, loc, "item_visit_offsets", schedule->visitOffsets);
  result.slices = tables.emit(b, loc, "slices", mask::sliceRecords(attended),
                              /*columns=*/mask::kSliceFields);
  result.numQTiles = b.getIndexAttr(schedule->numQTiles);
  return result;
}

ScheduleTables AttentionTiler::planAtRunTime(OpBuilder &b) {
  auto dynamic = [&](int64_t columns) {
    SmallVector<int64_t> shape{ShapedType::kDynamic};
    if (columns)
      shape.push_back(columns);
    return MemRefType::get(shape, b.getI32Type());
  };
  auto count = [&](Value value, int64_t extent) -> Value {
    return value ? value : arith::ConstantIndexOp::create(b, loc, extent);
  };
  auto schedule = TileScheduleOp::create(
      b, loc, dynamic(0), dynamic(0), dynamic(0), dynamic(4),
      dynamic(mask::kSliceFields),
      b.getIndexType(), op.getQRanges(), op.getKRanges(), op.getKinds(),
      count(numQValue, numQ), count(numKValue, numK), blockQ, blockK,
      keyEdge == mask::KeyEdge::Whole,
      queryTiles == mask::QueryTiles::SliceAligned, /*key_major=*/false);
  return {schedule.getQTileBegins(), schedule.getItemOffsets(),
          schedule.getItemSlices(), schedule.getItemKTiles(),
          schedule.getSlices(), schedule.getNumQTiles()};
}

LogicalResult AttentionTiler::run() {
  if (failed(readShapes()))
    return failure();
  OpBuilder b(op);
  numQValue = dynamicTokenCount(b, loc, op.getQuery());
  numKValue = dynamicTokenCount(b, loc, op.getKey());
  FailureOr<ScheduleTables> schedule =
      op.hasRuntimeMask() ? FailureOr<ScheduleTables>(planAtRunTime(b))
                          : planStatically(b);
  if (failed(schedule))
    return failure();
  sliceTable = schedule->slices;
  itemSlices = schedule->itemSlices;

  // Every (query head, query tile) pair is independent.
  auto forall = scf::ForallOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{b.getIndexAttr(headsQ), schedule->numQTiles},
      ValueRange{}, std::nullopt);
  forall->setAttr(kKeyEdgeAttrName,
                  b.getStringAttr(keyEdge == mask::KeyEdge::Whole ? "whole"
                                                                  : "clipped"));
  if (!op.hasRuntimeMask())
    forall->setAttr(kTileTablesAttrName, tables.tablesByRole(b.getContext()));
  Value head = forall.getInductionVars()[0];
  Value queryTileIndex = forall.getInductionVars()[1];
  b.setInsertionPoint(forall.getBody()->getTerminator());

  // Tile buffers are scoped to one iteration, so a CPU stack or GPU
  // registers hold exactly one tile's state at a time.
  auto scope = memref::AllocaScopeOp::create(b, loc, TypeRange{});
  scope->setAttr(kTileBuffersAttrName, b.getUnitAttr());
  Block *scopeBody = b.createBlock(&scope.getBodyRegion());
  b.setInsertionPointToStart(scopeBody);
  memref::AllocaScopeReturnOp::create(b, loc);
  b.setInsertionPointToStart(scopeBody);

  kvHead = arith::DivUIOp::create(b, loc, head,
                                  arith::ConstantIndexOp::create(b, loc, group));
  bindQueryRows(b, queryTileIndex, schedule->queryTileBegins);
  queryTile = headRows(b, loc, op.getQuery(), rowOffset, rows, staticRows,
                       head, headDim);
  allocateRunningState(b);

  // Per work item, its full key tiles unmasked, then its partial ones masked
  // by the item's slice alone (item_slices[item .. item + 1)).
  emitWorkItemLoop(
      b, loc, queryTileIndex, schedule->itemOffsets, schedule->itemKTiles,
      [&](OpBuilder &nb, Value keyTile, Value item) {
        Value end = item ? arith::AddIOp::create(
                               nb, loc, item,
                               arith::ConstantIndexOp::create(nb, loc, 1))
                               .getResult()
                         : Value();
        emitKeyTileStep(nb, keyTile, item, end);
      });

  Value outTile = headRows(b, loc, op.getOut(), rowOffset, rows, staticRows,
                           head, headDim);
  Value lseTile = headRows(b, loc, op.getLse(), rowOffset, rows, staticRows,
                           head, /*headDim=*/0);
  TileFinalizeOp::create(b, loc, accTile, maxTile, sumTile, outTile, lseTile);

  op.erase();
  return success();
}

void AttentionTiler::bindQueryRows(OpBuilder &b, Value queryTileIndex,
                                   Value queryTileBegins) {
  if (queryTiles == mask::QueryTiles::Uniform) {
    rowOffset = arith::MulIOp::create(
        b, loc, queryTileIndex, arith::ConstantIndexOp::create(b, loc, blockQ));
    std::tie(rows, staticRows) =
        tileExtent(b, rowOffset, blockQ, numQ, numQValue);
    return;
  }
  rowOffset = loadIndex(b, loc, queryTileBegins, queryTileIndex);
  Value next = arith::AddIOp::create(
      b, loc, queryTileIndex, arith::ConstantIndexOp::create(b, loc, 1));
  rows = arith::SubIOp::create(
             b, loc, loadIndex(b, loc, queryTileBegins, next), rowOffset)
             .getResult();
  staticRows = ShapedType::kDynamic;
}

void AttentionTiler::allocateRunningState(OpBuilder &b) {
  Type f32 = b.getF32Type();
  Value acc =
      memref::AllocaOp::create(b, loc, MemRefType::get({blockQ, headDim}, f32));
  Value max = memref::AllocaOp::create(b, loc, MemRefType::get({blockQ}, f32));
  Value sum = memref::AllocaOp::create(b, loc, MemRefType::get({blockQ}, f32));
  scoresBuffer =
      memref::AllocaOp::create(b, loc, MemRefType::get({blockQ, blockK}, f32));
  Value negInf = arith::ConstantOp::create(
      b, loc, b.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
  Value zeroF32 = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  linalg::FillOp::create(b, loc, ValueRange{negInf}, ValueRange{max});
  linalg::FillOp::create(b, loc, ValueRange{zeroF32}, ValueRange{sum});
  linalg::FillOp::create(b, loc, ValueRange{zeroF32}, ValueRange{acc});
  OpFoldResult zero = b.getIndexAttr(0);
  OpFoldResult dim = b.getIndexAttr(headDim);
  accTile = createSubview(b, loc, acc, {zero, zero}, {rows, dim},
                          {staticRows, headDim});
  maxTile = createSubview(b, loc, max, {zero}, {rows}, {staticRows});
  sumTile = createSubview(b, loc, sum, {zero}, {rows}, {staticRows});
}

struct FattnTileAttentionPass
    : public mlir::fattn::impl::FattnTileAttentionBase<FattnTileAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<AttentionOp> ops;
    module.walk([&](AttentionOp op) { ops.push_back(op); });
    for (auto [index, op] : llvm::enumerate(ops)) {
      std::string prefix = "__fattn_tiles";
      if (auto func = op->getParentOfType<FunctionOpInterface>())
        prefix += "_" + func.getName().str();
      prefix += "_" + std::to_string(index);
      TableEmitter tables(module, symbols, prefix);
      auto keyEdge =
          wholeKeyTiles ? mask::KeyEdge::Whole : mask::KeyEdge::Clipped;
      auto queryTiles = alignQueryTiles ? mask::QueryTiles::SliceAligned
                                        : mask::QueryTiles::Uniform;
      if (failed(AttentionTiler(op, tables, blockQ, blockK, keyEdge, queryTiles)
                     .run()))
        return signalPassFailure();
    }
    SmallVector<AttentionGradOp> grads;
    module.walk([&](AttentionGradOp op) { grads.push_back(op); });
    for (auto [index, op] : llvm::enumerate(grads)) {
      std::string prefix = "__fattn_grad_tiles";
      if (auto func = op->getParentOfType<FunctionOpInterface>())
        prefix += "_" + func.getName().str();
      prefix += "_" + std::to_string(index);
      TableEmitter tables(module, symbols, prefix);
      if (failed(tiling::tileAttentionGrad(op, tables, blockQ, blockK)))
        return signalPassFailure();
    }
  }
};

} // namespace
