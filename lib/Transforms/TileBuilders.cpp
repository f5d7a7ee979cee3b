//===- TileBuilders.cpp - What the tiling passes build with ---------------===//

#include "TileBuilders.h"

#include "FlashDialect/ArithRowKeys.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::fattn::tiling {

void emitWorkItemLoop(OpBuilder &b, Location loc, Value rowTile,
                      Value itemOffsets, Value itemTiles,
                      function_ref<void(OpBuilder &, Value, Value)> visit) {
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value itemsBegin = loadIndex(b, loc, itemOffsets, rowTile);
  Value next = arith::AddIOp::create(b, loc, rowTile, c1);
  Value itemsEnd = loadIndex(b, loc, itemOffsets, next);
  auto itemLoop = scf::ForOp::create(b, loc, itemsBegin, itemsEnd, c1);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(itemLoop.getBody()->getTerminator());
  Value item = itemLoop.getInductionVar();
  auto column = [&](int64_t index) {
    return loadIndex(b, loc, itemTiles,
                     {item, arith::ConstantIndexOp::create(b, loc, index)});
  };
  Value tileBegin = column(0), fullBegin = column(1), fullEnd = column(2),
        tileEnd = column(3);

  // Fully attended tiles: no mask arithmetic at all.
  scf::ForOp::create(b, loc, fullBegin, fullEnd, c1, ValueRange{},
                     [&](OpBuilder &nb, Location, Value tile, ValueRange) {
                       visit(nb, tile, /*item=*/{});
                       scf::YieldOp::create(nb, loc);
                     });
  // Partial tiles, the item's visits after its full ones (below and above
  // the full run: mask::itemVisit).
  Value fullVisits = arith::SubIOp::create(b, loc, fullEnd, fullBegin);
  Value visits = arith::SubIOp::create(b, loc, tileEnd, tileBegin);
  scf::ForOp::create(
      b, loc, fullVisits, visits, c1, ValueRange{},
      [&](OpBuilder &nb, Location, Value position, ValueRange) {
        Value tile = ::fattn::mask::itemVisit(ArithRowKeys(nb, loc), position,
                                              tileBegin, fullBegin, fullEnd)
                         .kTile;
        visit(nb, tile, item);
        scf::YieldOp::create(nb, loc);
      });
}

} // namespace mlir::fattn::tiling
