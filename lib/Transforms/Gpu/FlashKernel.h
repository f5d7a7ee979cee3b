//===- FlashKernel.h - The kernel the tile-op lowerings fill in -*- C++ -*-===//
//
// One gpu.func per tiled attention: one global pointer (or, for scalars, one
// i32 or f32) per FlashKernelSpec::parameters entry, in that order, the launch
// guard, the dynamic shared-memory layout, the schedule's tables (constant,
// or the parameters of a run-time schedule), and the CTA's place in the
// grid (query head, query tile in launch order). The
// lowerings of the tile ops (TileOpsToGpu.cpp) emit the rest through it and
// through the target's builders.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_GPU_FLASHKERNEL_H
#define FATTN_GPU_FLASHKERNEL_H

#include "FlashDialect/Gpu/KernelTables.h"

#include "FlashDialect/Gpu/TargetBuilders.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace mlir::fattn::codegen {

/// The CTA's launch slot record (mask::KernelScheduleTables), as loaded.
/// The schedule's tables a kernel reads (mask::kernelScheduleTables).
enum class ScheduleTable { Slots, Items, ItemSlices, Slices };

struct SlotRecord {
  Value firstRow, rowEnd, itemsBegin, itemsEnd;
};

/// Where visit `position` of the CTA's query tile falls in the schedule.
struct VisitPlace {
  SlotRecord slot; // the CTA's slot record, as the search loaded it
  Value item;  // index into the work-item tables
  Value kTile; // the key tile it visits
  Value full;  // i1: a full tile of its item (no mask)
};

class FlashKernel {
public:
  FlashKernel(OpBuilder &b, Location loc, const FlashKernelSpec &spec);

  /// Creates the function in `module` and emits everything up to the
  /// tile ops; the builder is left inside the function body.
  gpu::GPUFuncOp begin(gpu::GPUModuleOp module);
  /// Returns from the kernel.
  void end();

  OpBuilder &builder() { return b; }
  Location location() const { return loc; }
  const FlashKernelSpec &spec() const { return kernelSpec; }
  TargetBuilders &target() { return *builders; }

  /// The kernel argument a tile op's buffer was cut from, or null.
  Value argumentFor(Value memref) const;

  /// Element `index + field` of `table`: from the constant tables of a
  /// static schedule, or from the table's kernel parameter.
  Value loadTable(ScheduleTable table, Value index, int64_t field = 0);
  /// Record `index` of `fields` (a multiple of 4) values of `table`, in
  /// 16-byte vector loads.
  SmallVector<Value> loadRecord(ScheduleTable table, Value index,
                                int64_t fields);
  /// Token counts, as i32: constants, or the kernel's scalar parameters.
  Value numQ();
  Value numK();
  /// Head counts, as i32: constants, or a run-time kernel's parameters.
  Value headsQ();
  Value headsK();
  /// A run-time kernel's scale and softcap (f32 parameters, call_param);
  /// null for a kernel whose tile ops fix them.
  Value scaleParameter();
  Value softcapParameter();
  /// The CTA's slot record, loaded again from %ctaid.y (a volatile read in
  /// the IR, so that LLVM keeps the loads where they are used rather than
  /// in registers through the key loop; ptxas may still hoist them).
  SlotRecord rereadSlot();

  /// Rederives the thread's lane terms, head and key/value head (cheaper
  /// than holding them through the key loop); the key loop calls it at the
  /// top of every iteration and the epilogue before it stores.
  void bindThread();
  Value head() const { return headIndex; }
  Value kvHead() const { return kvHeadIndex; }
  /// First row of the CTA's query tile; its visits.
  Value rowOffset() const { return firstRow; }
  Value numVisits() const { return visits; }
  /// Finds the work item holding the visit (a binary search over the
  /// tile's items: none for a tile of one item) and derives its key tile
  /// and class in closed form (mask::itemVisit). Only for positions below
  /// numVisits().
  VisitPlace locateVisit(Value position);

  // The dynamic shared memory, laid out by FlashKernelSpec.
  Value querySmem, keySmem, valueSmem, rowSumSmem;

  // i32 and f32 constants and arithmetic.
  Value c32(int64_t value);
  Value cf32(double value);

private:
  void declareSharedMemory(gpu::GPUModuleOp module);
  void emitLaunchGuard();
  void exitIfNoRows(Value slotFields);
  void emitTables(gpu::GPUModuleOp module);
  /// The table's base pointer and the offset of its first element there.
  std::pair<Value, int64_t> tableBase(ScheduleTable table);
  /// Whether table loads are marked invariant (read-only for the launch).
  bool tablesInvariant() const;
  /// The scalar or buffer parameter named `name` (the spec's naming).
  Value parameter(StringRef name);

  OpBuilder &b;
  Location loc;
  const FlashKernelSpec &kernelSpec;
  std::unique_ptr<TargetBuilders> builders;
  KernelTables tableLayout;
  gpu::GPUFuncOp func;
  Value tablesBase;
  Value headIndex, kvHeadIndex, firstRow, visits;
};

} // namespace mlir::fattn::codegen

#endif // FATTN_GPU_FLASHKERNEL_H
