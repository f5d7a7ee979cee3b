//===- TileBuilders.h - What the tiling passes build with --------*- C++ -*-===//
//
// Internal to fattn-tile-attention (TileAttention.cpp for fattn.attention,
// TileAttentionGrad.cpp for fattn.attention_grad): constant tables in
// module globals, unit-stride subviews, index loads.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_TRANSFORMS_TILEBUILDERS_H
#define FATTN_TRANSFORMS_TILEBUILDERS_H

#include "FlashDialect/FattnOps.h"
#include "FlashDialect/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include <string>
#include <vector>

namespace mlir::fattn::tiling {

/// Constant int32 tables in module-level globals, read in the loops.
class TableEmitter {
public:
  TableEmitter(ModuleOp module, SymbolTable &symbols, std::string prefix)
      : module(module), symbols(symbols), prefix(std::move(prefix)) {}

  /// A `memref<N x i32>` (or `memref<R x C x i32>` when `columns` > 0)
  /// global holding `values`, and its memref.get_global at `b`.
  Value emit(OpBuilder &b, Location loc, StringRef name,
             std::vector<int32_t> values, int64_t columns = 0) {
    // Zero-sized globals are legal but awkward for every backend; a padding
    // element is never read because the loops that index it are empty.
    if (values.empty())
      values.assign(columns > 0 ? columns : 1, 0);
    SmallVector<int64_t> shape;
    if (columns > 0)
      shape = {static_cast<int64_t>(values.size()) / columns, columns};
    else
      shape = {static_cast<int64_t>(values.size())};
    auto i32 = b.getI32Type();
    auto type = MemRefType::get(shape, i32);
    auto init = DenseElementsAttr::get(RankedTensorType::get(shape, i32),
                                       ArrayRef<int32_t>(values));
    OpBuilder moduleBuilder = OpBuilder::atBlockBegin(module.getBody());
    auto global = memref::GlobalOp::create(
        moduleBuilder, loc, (prefix + "_" + name).str(),
        moduleBuilder.getStringAttr("private"), type, init,
        /*constant=*/true, /*alignment=*/IntegerAttr());
    global->setAttr(kTileTableAttrName, moduleBuilder.getStringAttr(name));
    symbols.insert(global); // renames on collision
    emitted.push_back(moduleBuilder.getNamedAttr(
        name, FlatSymbolRefAttr::get(global.getSymNameAttr())));
    return memref::GetGlobalOp::create(b, loc, type, global.getSymName());
  }

  /// Role -> global of every table emitted so far.
  DictionaryAttr tablesByRole(MLIRContext *context) const {
    return DictionaryAttr::get(context, emitted);
  }

private:
  ModuleOp module;
  SymbolTable &symbols;
  std::string prefix;
  SmallVector<NamedAttribute> emitted;
};

/// Rank-reducing unit-stride subview.
inline Value createSubview(OpBuilder &b, Location loc, Value source,
                    ArrayRef<OpFoldResult> offsets,
                    ArrayRef<OpFoldResult> sizes,
                    ArrayRef<int64_t> resultShape) {
  auto sourceType = cast<MemRefType>(source.getType());
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  MemRefType type = memref::SubViewOp::inferRankReducedResultType(
      resultShape, sourceType, offsets, sizes, strides);
  return memref::SubViewOp::create(b, loc, type, source, offsets, sizes,
                                   strides);
}

/// Rows [offset, offset + rows) of head `head` of a (tokens, heads, D)
/// buffer as a (rows, D) view (`staticRows` as tileExtent gives it); of a
/// (tokens, heads) buffer, with `headDim` 0, as a (rows) view.
inline Value headRows(OpBuilder &b, Location loc, Value buffer, Value offset,
                      OpFoldResult rows, int64_t staticRows, Value head,
                      int64_t headDim) {
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  if (headDim == 0)
    return createSubview(b, loc, buffer, {offset, head}, {rows, one},
                         {staticRows});
  return createSubview(b, loc, buffer, {offset, head, zero},
                       {rows, one, b.getIndexAttr(headDim)},
                       {staticRows, headDim});
}

inline Value loadIndex(OpBuilder &b, Location loc, Value table, ValueRange indices) {
  Value element = memref::LoadOp::create(b, loc, table, indices);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), element);
}

/// Rows of the tile starting at `offset`: `block`, or fewer at the end, and
/// the extent as a type states it: static when every tile is whole (total
/// static and a multiple of block), else ShapedType::kDynamic. `totalValue`
/// is the total where it is dynamic (null when static).
inline std::pair<OpFoldResult, int64_t>
tileExtent(OpBuilder &b, Location loc, Value offset, int64_t block,
           int64_t total, Value totalValue = nullptr) {
  if (!ShapedType::isDynamic(total) && total % block == 0)
    return {b.getIndexAttr(block), block};
  if (!totalValue)
    totalValue = arith::ConstantIndexOp::create(b, loc, total);
  Value remaining = arith::SubIOp::create(b, loc, totalValue, offset);
  Value extent = arith::MinSIOp::create(
      b, loc, arith::ConstantIndexOp::create(b, loc, block), remaining);
  return {extent, ShapedType::kDynamic};
}

/// The loop over row tile `rowTile`'s work items (a mask::WorkSchedule's
/// `itemOffsets`, CSR over row tiles, and `itemTiles`, items x 4: tile
/// begin, full begin, full end, tile end), each with an unmasked loop over
/// its full tiles, then one over its partial tiles in mask::itemVisit's
/// order. `visit(b, tile, item)` emits one visit: `item` is null for a full
/// tile, else the item whose slice masks it. The forward's rows are query
/// tiles and its tiles key tiles; the backward's the other way round.
void emitWorkItemLoop(OpBuilder &b, Location loc, Value rowTile,
                      Value itemOffsets, Value itemTiles,
                      function_ref<void(OpBuilder &, Value, Value)> visit);

/// fattn.attention_grad as the backward's loops over the key-major schedule
/// (docs/backward.md), its tables emitted with `tables`.
LogicalResult tileAttentionGrad(AttentionGradOp op, TableEmitter &tables,
                                int64_t blockQ, int64_t blockK);

} // namespace mlir::fattn::tiling

#endif // FATTN_TRANSFORMS_TILEBUILDERS_H
