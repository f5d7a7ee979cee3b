//===- FlashKernel.cpp - The kernel the tile-op lowerings fill in ---------===//

#include "FlashKernel.h"

#include "FlashDialect/ArithRowKeys.h"
#include "FlashDialect/Gpu/InlinePtx.h"
#include "FlashDialect/Mask/Schedule.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::fattn;
using namespace mlir::fattn::codegen;
namespace Plan = ::fattn::runtime::plan_param;
namespace Call = ::fattn::runtime::call_param;

namespace {
constexpr StringLiteral kSharedMemorySymbol = "fattn_shared_memory";
} // namespace

FlashKernel::FlashKernel(OpBuilder &b, Location loc,
                         const FlashKernelSpec &spec)
    : b(b), loc(loc), kernelSpec(spec),
      builders(createTargetBuilders(b, loc, spec)),
      tableLayout(spec.runtimeSchedule ? KernelTables()
                                        : buildKernelTables(spec)) {
  if (spec.runtimeSchedule)
    tableLayout.maxItemsPerTile = spec.runtimeSchedule->maxItemsPerTile;
}

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
  SmallVector<Type> arguments;
  for (const KernelParam &param : kernelSpec.parameters)
    arguments.push_back(param.isScalar() ? param.abiType() : Type(globalPtr));
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
  using Slot = ::fattn::mask::KernelScheduleTables;
  Value slotFields =
      arith::MulIOp::create(b, loc, launchSlot, c32(Slot::kSlotFields));
  // Query tiles may be shorter than blockQ (cut at slice boundaries): rows
  // past the tile's row end are computed alongside but not stored.
  firstRow = loadTable(ScheduleTable::Slots, slotFields, Slot::FirstRow);
  visits = loadTable(ScheduleTable::Slots, slotFields, Slot::Visits);
  if (kernelSpec.runtimeSchedule)
    exitIfNoRows(slotFields);
  return func;
}

void FlashKernel::exitIfNoRows(Value slotFields) {
  // A plan made on the GPU is launched over a bound of slots, and over the
  // slot tables of item classes it did not choose: those slots hold no
  // rows, and their CTAs leave before they load Q (the whole CTA alike:
  // the slot is the CTA's).
  using Slot = ::fattn::mask::KernelScheduleTables;
  Value rowEnd = loadTable(ScheduleTable::Slots, slotFields, Slot::RowEnd);
  emitPtx(b, loc,
          {"{ .reg .pred empty;\nsetp.le.s32 empty, $0, $1;\n@empty exit; }",
           {},
           {rowEnd, firstRow},
           PtxEffects::Volatile});
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
  // traps, which the runtime reports as a failed launch. A run-time
  // kernel's slot and head counts are parameters.
  bool runtime = kernelSpec.runtimeSchedule.has_value();
  SmallVector<Value, 4> operands;
  if (runtime)
    operands = {parameter(Plan::kNumSlots), parameter(Call::kHeadsQ)};
  std::string slots = runtime ? "$0" : std::to_string(kernelSpec.numQTiles());
  std::string heads = runtime ? "$1" : std::to_string(kernelSpec.headsQ);
  emitPtx(b, loc,
          {"{ .reg .pred past; .reg .u32 bytes, cta;\n"
           "mov.u32 cta, %ctaid.x;\n"
           "setp.ge.u32 past, cta, " +
               heads +
               ";\n"
               "@past exit;\n"
               "mov.u32 cta, %ctaid.y;\n"
               "setp.ge.u32 past, cta, " +
               slots +
               ";\n"
               "@past exit;\n"
               "mov.u32 bytes, %dynamic_smem_size;\n"
               "setp.lt.u32 past, bytes, " +
               std::to_string(kernelSpec.sharedBytes()) +
               ";\n"
               "@past trap; }",
           {},
           operands,
           PtxEffects::Volatile});
}

void FlashKernel::emitTables(gpu::GPUModuleOp module) {
  if (kernelSpec.runtimeSchedule)
    return;
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
                           init, /*alignment=*/16, /*addrSpace=*/1);
  }
  tablesBase = LLVM::AddressOfOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext(), 1), name);
}

std::pair<Value, int64_t> FlashKernel::tableBase(ScheduleTable table) {
  if (kernelSpec.runtimeSchedule) {
    const char *names[] = {Plan::kSlots, Plan::kItems, Plan::kItemSlices,
                           Plan::kSlices};
    return {parameter(names[static_cast<int>(table)]), 0};
  }
  int64_t offsets[] = {tableLayout.slots, tableLayout.items,
                       tableLayout.itemSlices, tableLayout.slices};
  return {tablesBase, offsets[static_cast<int>(table)]};
}

Value FlashKernel::loadTable(ScheduleTable table, Value index, int64_t field) {
  auto globalPtr = LLVM::LLVMPointerType::get(b.getContext(), 1);
  Type i32 = b.getI32Type();
  auto [base, offset] = tableBase(table);
  Value address = LLVM::GEPOp::create(b, loc, globalPtr, i32, base,
                                      ArrayRef<LLVM::GEPArg>{index});
  if (offset + field)
    address = LLVM::GEPOp::create(
        b, loc, globalPtr, i32, address,
        ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(offset + field)});
  return LLVM::LoadOp::create(b, loc, i32, address, /*alignment=*/0,
                              /*isVolatile=*/false, /*isNonTemporal=*/false,
                              tablesInvariant());
}

bool FlashKernel::tablesInvariant() const {
  // A run-time schedule's tables do not change while the kernel runs:
  // invariant loads become ld.global.nc, the read-only path a static
  // schedule's constant tables take, so that the first records' misses
  // (on every CTA's critical path) cost what a static kernel's do.
  return kernelSpec.runtimeSchedule.has_value();
}

Value FlashKernel::parameter(StringRef name) {
  for (auto [index, param] : llvm::enumerate(kernelSpec.parameters))
    if (param.name == name)
      return func.getArgument(index);
  llvm_unreachable("the spec names every parameter the kernel reads");
}

Value FlashKernel::numQ() {
  return ShapedType::isDynamic(kernelSpec.numQ) ? parameter(Plan::kNumQ)
                                                : c32(kernelSpec.numQ);
}

Value FlashKernel::numK() {
  return ShapedType::isDynamic(kernelSpec.numK) ? parameter(Plan::kNumK)
                                                : c32(kernelSpec.numK);
}

Value FlashKernel::headsQ() {
  return kernelSpec.runtimeSchedule ? parameter(Call::kHeadsQ)
                                    : c32(kernelSpec.headsQ);
}

Value FlashKernel::headsK() {
  return kernelSpec.runtimeSchedule ? parameter(Call::kHeadsK)
                                    : c32(kernelSpec.headsK);
}

Value FlashKernel::scaleParameter() {
  return kernelSpec.runtimeSchedule ? parameter(Call::kScale) : Value();
}

Value FlashKernel::softcapParameter() {
  for (auto [index, param] : llvm::enumerate(kernelSpec.parameters))
    if (param.name == Call::kSoftcap)
      return func.getArgument(index);
  return Value();
}

VisitPlace FlashKernel::locateVisit(Value position) {
  using P = arith::CmpIPredicate;
  using Item = ::fattn::mask::KernelScheduleTables;
  SlotRecord slot = rereadSlot();
  // The last item of the tile whose first visit is at or before `position`:
  // a binary search unrolled to the most items a tile has (no steps at all
  // where every tile has one item, as for causal or varlen masks).
  Value item = slot.itemsBegin;
  for (int64_t step = llvm::PowerOf2Ceil(tableLayout.maxItemsPerTile) / 2;
       step > 0; step /= 2) {
    Value candidate = arith::AddIOp::create(b, loc, item, c32(step));
    Value inTile =
        arith::CmpIOp::create(b, loc, P::slt, candidate, slot.itemsEnd);
    Value safe = arith::SelectOp::create(b, loc, inTile, candidate, item);
    Value firstVisit = loadTable(
        ScheduleTable::Items,
        arith::MulIOp::create(b, loc, safe, c32(Item::kItemFields)));
    Value atOrBefore =
        arith::CmpIOp::create(b, loc, P::sle, firstVisit, position);
    item = arith::SelectOp::create(
        b, loc, arith::AndIOp::create(b, loc, inTile, atOrBefore), candidate,
        item);
  }
  SmallVector<Value> record =
      loadRecord(ScheduleTable::Items, item, Item::kItemFields);
  ::fattn::mask::ItemVisit<Value, Value> place = ::fattn::mask::itemVisit(
      ArithRowKeys(b, loc),
      arith::SubIOp::create(b, loc, position, record[Item::VisitBegin])
          .getResult(),
      record[Item::KTileBegin], record[Item::FullBegin],
      record[Item::FullEnd]);
  return {slot, item, place.kTile, place.full};
}

void FlashKernel::bindThread() {
  Value tid = builders->readThreadIndex();
  headIndex = builders->blockIndex(0);
  builders->bindThread(tid, querySmem);
  // A run-time kernel's group size is the runtime's quotient of two
  // parameters (checked to divide); ptxas keeps it out of the key loop.
  Value group = kernelSpec.runtimeSchedule
                    ? arith::DivUIOp::create(b, loc, headsQ(), headsK())
                          .getResult()
                    : c32(kernelSpec.headsQ / kernelSpec.headsK);
  kvHeadIndex = arith::DivUIOp::create(b, loc, headIndex, group);
}

SmallVector<Value> FlashKernel::loadRecord(ScheduleTable table, Value index,
                                           int64_t fields) {
  auto globalPtr = LLVM::LLVMPointerType::get(b.getContext(), 1);
  Type i32 = b.getI32Type();
  auto quad = VectorType::get({4}, i32);
  auto [base, offset] = tableBase(table);
  Value first = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, index, c32(fields)), c32(offset));
  SmallVector<Value> values;
  for (int64_t part = 0; part * 4 < fields; ++part) {
    Value address = LLVM::GEPOp::create(
        b, loc, globalPtr, i32, base,
        ArrayRef<LLVM::GEPArg>{
            arith::AddIOp::create(b, loc, first, c32(4 * part)).getResult()});
    Value vector = LLVM::LoadOp::create(
        b, loc, quad, address, /*alignment=*/16, /*isVolatile=*/false,
        /*isNonTemporal=*/false, tablesInvariant());
    for (int64_t lane = 0; lane < 4; ++lane)
      values.push_back(LLVM::ExtractElementOp::create(
          b, loc, vector, LLVM::ConstantOp::create(b, loc, b.getI32Type(),
                                                   lane)));
  }
  return values;
}

SlotRecord FlashKernel::rereadSlot() {
  using Slot = ::fattn::mask::KernelScheduleTables;
  // Field by field: the loads of fields a caller leaves unused fold away,
  // where a vector load would take four registers at the busiest point of
  // the key loop (the copies' addresses).
  Value first = arith::MulIOp::create(b, loc, builders->blockIndex(1),
                                      c32(Slot::kSlotFields));
  auto field = [&](int64_t index) {
    return loadTable(ScheduleTable::Slots, first, index);
  };
  return {field(Slot::FirstRow), field(Slot::RowEnd), field(Slot::ItemsBegin),
          field(Slot::ItemsEnd)};
}

Value FlashKernel::argumentFor(Value memref) const {
  for (auto [index, param] : llvm::enumerate(kernelSpec.parameters))
    if (param.memref == memref)
      return const_cast<gpu::GPUFuncOp &>(func).getArgument(index);
  return nullptr;
}
