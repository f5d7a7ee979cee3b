//===- LowerTileSchedules.cpp - fattn.tile_schedule to mask-library calls -===//
//
// The CPU path's planning of a run-time mask: lib/Mask computes the tables
// (FlashDialect/CpuSchedule.h), the generated code allocates them between
// the two calls and frees them at the end of the block.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/CpuSchedule.h"
#include "FlashDialect/FattnOps.h"
#include "FlashDialect/Mask/Schedule.h"
#include "FlashDialect/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::fattn {
#define GEN_PASS_DEF_FATTNLOWERTILESCHEDULES
#include "FlashDialect/Passes.h.inc"
} // namespace mlir::fattn

using namespace mlir;
using namespace mlir::fattn;

namespace {

/// The private declaration of `name`, added once.
func::FuncOp declare(ModuleOp module, StringRef name, TypeRange inputs) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  auto func = func::FuncOp::create(b, module.getLoc(), name,
                                   b.getFunctionType(inputs, {}));
  func.setPrivate();
  func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                b.getUnitAttr());
  return func;
}

/// `ranges` as the functions take it: every size and stride dynamic, so
/// that one declaration serves every attention of the module (the C side
/// reads the descriptor's sizes and strides).
Value anyLayout(OpBuilder &b, Location loc, Value ranges) {
  auto type = cast<MemRefType>(ranges.getType());
  int64_t dynamic = ShapedType::kDynamic;
  SmallVector<int64_t> sizes(type.getRank(), dynamic);
  auto layout = StridedLayoutAttr::get(b.getContext(), dynamic, sizes);
  auto general = MemRefType::get(sizes, type.getElementType(), layout);
  if (general == type)
    return ranges;
  return memref::CastOp::create(b, loc, general, ranges);
}

/// Dynamic memref<?xi32> or memref<?xCOLUMNSxi32>, as the op's results are.
MemRefType table(OpBuilder &b, int64_t columns) {
  SmallVector<int64_t> shape{ShapedType::kDynamic};
  if (columns)
    shape.push_back(columns);
  return MemRefType::get(shape, b.getI32Type());
}

LogicalResult lower(ModuleOp module, TileScheduleOp op) {
  for (Value result : op->getResults().drop_back())
    if (!cast<MemRefType>(result.getType()).getLayout().isIdentity())
      return op.emitOpError("tables must have identity layouts");
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type i64 = b.getI64Type();
  int64_t flags =
      (op.getWholeKeyTiles() ? int64_t(kCpuScheduleWholeKeyTiles) : 0) |
      (op.getAlignQueryTiles() ? int64_t(kCpuScheduleAlignQueryTiles) : 0) |
      (op.getKeyMajor() ? int64_t(kCpuScheduleKeyMajor) : 0);
  auto constant = [&](int64_t value) -> Value {
    return arith::ConstantIntOp::create(b, loc, i64, value);
  };
  auto toI64 = [&](Value index) -> Value {
    return arith::IndexCastOp::create(b, loc, i64, index);
  };
  SmallVector<Value> inputs = {anyLayout(b, loc, op.getQRanges()),
                               anyLayout(b, loc, op.getKRanges()),
                               anyLayout(b, loc, op.getKinds()),
                               toI64(op.getNumQ()),
                               toI64(op.getNumK()),  constant(op.getBlockQ()),
                               constant(op.getBlockK()), constant(flags)};
  // Each function takes the inputs, then what it writes.
  auto call = [&](StringRef name, ValueRange outputs) {
    SmallVector<Value> arguments(inputs);
    arguments.append(outputs.begin(), outputs.end());
    func::CallOp::create(
        b, loc, declare(module, name, ValueRange(arguments).getTypes()),
        arguments);
  };
  auto sizesType = MemRefType::get({kCpuScheduleSizeCount}, i64);
  Value sizes = memref::AllocaOp::create(b, loc, sizesType);
  call(kCpuScheduleSizesFunction, sizes);
  auto size = [&](int64_t entry) -> Value {
    Value index = arith::ConstantIndexOp::create(b, loc, entry);
    Value value = memref::LoadOp::create(b, loc, sizes, ValueRange{index});
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), value);
  };
  Value tiles = size(kCpuScheduleQueryTiles);
  Value items = size(kCpuScheduleItems);
  Value slices = size(kCpuScheduleSlices);
  Value boundaries = arith::AddIOp::create(
      b, loc, tiles, arith::ConstantIndexOp::create(b, loc, 1));
  std::pair<int64_t, Value> shapes[] = {
      {0, boundaries}, {0, boundaries}, {0, items}, {4, items},
      {::fattn::mask::kSliceFields, slices}};
  SmallVector<Value> tables;
  for (auto [columns, rows] : shapes)
    tables.push_back(
        memref::AllocOp::create(b, loc, table(b, columns), ValueRange{rows}));
  call(kCpuScheduleFillFunction, tables);
  // The tables live until the end of the block (the op's contract).
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(op->getBlock()->getTerminator());
    for (Value allocated : tables)
      memref::DeallocOp::create(b, loc, allocated);
  }
  for (auto [result, allocated] :
       llvm::zip(op->getResults().drop_back(), tables)) {
    Value cast = allocated;
    if (allocated.getType() != result.getType())
      cast = memref::CastOp::create(b, loc, result.getType(), allocated);
    result.replaceAllUsesWith(cast);
  }
  op.getNumQTiles().replaceAllUsesWith(tiles);
  op.erase();
  return success();
}

struct FattnLowerTileSchedulesPass
    : public mlir::fattn::impl::FattnLowerTileSchedulesBase<
          FattnLowerTileSchedulesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<TileScheduleOp> schedules;
    module.walk([&](TileScheduleOp op) { schedules.push_back(op); });
    for (TileScheduleOp op : schedules)
      if (failed(lower(module, op)))
        return signalPassFailure();
  }
};

} // namespace
