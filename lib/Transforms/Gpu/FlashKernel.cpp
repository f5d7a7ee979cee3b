//===- FlashKernel.cpp - The kernel the tile-op lowerings fill in ---------===//

#include "FlashKernel.h"

#include "FlashDialect/ArithRowKeys.h"
#include "FlashDialect/Gpu/InlinePtx.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::fattn;
using namespace mlir::fattn::codegen;

namespace {
constexpr StringLiteral kSharedMemorySymbol = "fattn_shared_memory";
} // namespace

FlashKernel::FlashKernel(OpBuilder &b, Location loc,
                         const FlashKernelSpec &spec)
    : b(b), loc(loc), kernelSpec(spec),
      builders(createTargetBuilders(b, loc, spec)),
      tableLayout(buildKernelTables(spec)) {}

Value FlashKernel::c32(int64_t value) {
  return arith::ConstantIntOp::create(b, loc, b.getI32Type(), value);
}

Value FlashKernel::cf32(double value) {
  return arith::ConstantOp::create(b, loc,
                                   b.getF32FloatAttr(static_cast<float>(value)));
}

gpu::GPUFuncOp FlashKernel::begin(gpu::GPUModuleOp module) {
  MLIRContext *ctx = b.getContext();
  auto globalPtr = LLVM::LLVMPointerType::get(ctx, 1);
  SmallVector<Type> arguments(kernelSpec.parameters.size(), globalPtr);
  b.setInsertionPointToEnd(module.getBody());
  func = gpu::GPUFuncOp::create(b, loc, kernelSpec.name,
                                        FunctionType::get(ctx, arguments, {}));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                b.getUnitAttr());
  func.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr(
      {static_cast<int32_t>(kernelSpec.threads()), 1, 1}));
  declareSharedMemory(module);

  b.setInsertionPointToStart(&func.getBody().front());
  emitLaunchGuard();
  Value sharedBase = LLVM::PtrToIntOp::create(
      b, loc, b.getI32Type(),
      LLVM::AddressOfOp::create(b, loc, LLVM::LLVMPointerType::get(ctx, 3),
                                kSharedMemorySymbol));
  auto offset = [&](int64_t bytes) {
    return arith::AddIOp::create(b, loc, sharedBase, c32(bytes)).getResult();
  };
  querySmem = sharedBase;
  keySmem = offset(kernelSpec.keyBuffersOffset());
  valueSmem = offset(kernelSpec.valueBuffersOffset());
  rowSumSmem = offset(kernelSpec.rowSumsOffset());

  // CTAs start in grid order, x fastest: blockIdx.x is the head and
  // blockIdx.y walks the query tiles from the most visited key tiles to the
  // fewest (longest-processing-time first), so that short tiles of every
  // head fill the tail of the grid.
  Value launchSlot = arith::IndexCastOp::create(
      b, loc, b.getI32Type(),
      gpu::BlockIdOp::create(b, loc, gpu::Dimension::y));
  bindThread();
  emitTables(module);
  queryTileIndex = loadTable(tableLayout.queryTileOrder, launchSlot);
  // Query tiles may be shorter than blockQ (cut at slice boundaries): rows
  // past the next tile's first row are computed alongside but not stored.
  firstRow = loadTable(tableLayout.qTileBegins, queryTileIndex);
  Value nextQueryTile = arith::AddIOp::create(b, loc, queryTileIndex, c32(1));
  firstVisit = loadTable(tableLayout.itemVisitOffsets,
                         loadTable(tableLayout.itemOffsets, queryTileIndex));
  visits = arith::SubIOp::create(
      b, loc,
      loadTable(tableLayout.itemVisitOffsets,
                loadTable(tableLayout.itemOffsets, nextQueryTile)),
      firstVisit);
  return func;
}

void FlashKernel::end() { gpu::ReturnOp::create(b, loc); }

void FlashKernel::declareSharedMemory(gpu::GPUModuleOp module) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  if (!module.lookupSymbol(kSharedMemorySymbol))
    LLVM::GlobalOp::create(b, loc, LLVM::LLVMArrayType::get(b.getI8Type(), 0),
                           /*isConstant=*/false, LLVM::Linkage::External,
                           kSharedMemorySymbol, Attribute(), /*alignment=*/128,
                           /*addrSpace=*/3);
}

void FlashKernel::emitLaunchGuard() {
  // A launch wider than the problem, or with less dynamic shared memory than
  // the tiles take (a hand-edited manifest), would read past the tables or
  // the shared buffers: such CTAs leave at once, and a short allocation
  // traps, which the runtime reports as a failed launch.
  emitPtx(b, loc,
          {"{ .reg .pred past; .reg .u32 bytes, cta;\n"
           "mov.u32 cta, %ctaid.x;\n"
           "setp.ge.u32 past, cta, " +
               std::to_string(kernelSpec.headsQ) +
               ";\n"
               "@past exit;\n"
               "mov.u32 cta, %ctaid.y;\n"
               "setp.ge.u32 past, cta, " +
               std::to_string(kernelSpec.numQTiles()) +
               ";\n"
               "@past exit;\n"
               "mov.u32 bytes, %dynamic_smem_size;\n"
               "setp.lt.u32 past, bytes, " +
               std::to_string(kernelSpec.sharedBytes()) +
               ";\n"
               "@past trap; }",
           {},
           {},
           PtxEffects::Volatile});
}

void FlashKernel::emitTables(gpu::GPUModuleOp module) {
  std::string name = kernelSpec.name + "_tables";
  Type i32 = b.getI32Type();
  int64_t count = tableLayout.values.size();
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    auto init = DenseElementsAttr::get(RankedTensorType::get({count}, i32),
                                       ArrayRef<int32_t>(tableLayout.values));
    LLVM::GlobalOp::create(b, loc, LLVM::LLVMArrayType::get(i32, count),
                           /*isConstant=*/true, LLVM::Linkage::Internal, name,
                           init, /*alignment=*/4, /*addrSpace=*/1);
  }
  tablesBase = LLVM::AddressOfOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext(), 1), name);
}

Value FlashKernel::loadTable(int64_t table, Value index) {
  auto globalPtr = LLVM::LLVMPointerType::get(b.getContext(), 1);
  Type i32 = b.getI32Type();
  Value address = LLVM::GEPOp::create(b, loc, globalPtr, i32, tablesBase,
                                      ArrayRef<LLVM::GEPArg>{index});
  if (table)
    address = LLVM::GEPOp::create(
        b, loc, globalPtr, i32, address,
        ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(table)});
  return LLVM::LoadOp::create(b, loc, i32, address);
}

VisitPlace FlashKernel::locateVisit(Value position) {
  using P = arith::CmpIPredicate;
  // Everything is rederived from the CTA index (a volatile read, so the
  // loads stay in the key loop rather than holding registers through it).
  Value queryTile =
      loadTable(tableLayout.queryTileOrder, builders->blockIndex(1));
  Value itemsBegin = loadTable(tableLayout.itemOffsets, queryTile);
  Value visit = arith::AddIOp::create(
      b, loc, loadTable(tableLayout.itemVisitOffsets, itemsBegin), position);
  // The last item of the tile whose first visit is at or before `visit`:
  // a binary search unrolled to the most items a tile has (no steps at all
  // where every tile has one item, as for causal or varlen masks). The
  // tile's items end before itemsBegin + visits (each has a visit) and
  // before the last item, a bound from values at hand.
  Value itemsEnd = arith::MinSIOp::create(
      b, loc, arith::AddIOp::create(b, loc, itemsBegin, visits),
      c32(std::max<int64_t>(tableLayout.numItems, 1)));
  Value item = itemsBegin;
  for (int64_t step = llvm::PowerOf2Ceil(tableLayout.maxItemsPerTile) / 2;
       step > 0; step /= 2) {
    Value candidate = arith::AddIOp::create(b, loc, item, c32(step));
    Value inTile = arith::CmpIOp::create(b, loc, P::slt, candidate, itemsEnd);
    Value safe = arith::SelectOp::create(b, loc, inTile, candidate, item);
    Value atOrBefore = arith::CmpIOp::create(
        b, loc, P::sle, loadTable(tableLayout.itemVisitOffsets, safe), visit);
    item = arith::SelectOp::create(
        b, loc, arith::AndIOp::create(b, loc, inTile, atOrBefore), candidate,
        item);
  }
  Value fields = arith::ShLIOp::create(b, loc, item, c32(2));
  auto field = [&](int64_t index) {
    return loadTable(tableLayout.itemKTiles,
                     arith::AddIOp::create(b, loc, fields, c32(index)));
  };
  ::fattn::mask::ItemVisit<Value, Value> place = ::fattn::mask::itemVisit(
      ArithRowKeys(b, loc),
      arith::SubIOp::create(b, loc, visit,
                            loadTable(tableLayout.itemVisitOffsets, item))
          .getResult(),
      field(0), field(1), field(2));
  return {item, place.kTile, place.full};
}

void FlashKernel::bindThread() {
  Value tid = builders->readThreadIndex();
  headIndex = builders->blockIndex(0);
  builders->bindThread(tid, querySmem);
  kvHeadIndex = arith::DivUIOp::create(
      b, loc, headIndex, c32(kernelSpec.headsQ / kernelSpec.headsK));
}

Value FlashKernel::rereadQueryTile() {
  queryTileIndex =
      loadTable(tableLayout.queryTileOrder, builders->blockIndex(1));
  return queryTileIndex;
}

Value FlashKernel::argumentFor(Value memref) const {
  for (auto [index, param] : llvm::enumerate(kernelSpec.parameters))
    if (param.memref == memref)
      return const_cast<gpu::GPUFuncOp &>(func).getArgument(index);
  return nullptr;
}
