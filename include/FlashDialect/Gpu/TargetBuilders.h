//===- TargetBuilders.h - Warp-level building blocks, per target -*- C++ -*-===//
//
// What the GPU lowerings of the tile ops ask of a chip: register tiles laid
// out as its MMA holds them, GEMMs on shared-memory tiles, asynchronous
// copies and the pipeline that stages K and V tiles, barriers, cross-lane
// reductions and the special functions. The lowerings (TileOpsToGpu.cpp)
// are written against this interface only; a target implements it in its
// own files (Sm80Builders.cpp: mma.sync, ldmatrix, cp.async) and is picked
// by the family of the kernel spec's chip (GpuTarget::family) in
// createTargetBuilders.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_GPU_TARGETBUILDERS_H
#define FATTN_GPU_TARGETBUILDERS_H

#include "FlashDialect/GpuKernel.h"

#include "mlir/IR/Builders.h"
#include "mlir/Support/LLVM.h"

#include <functional>
#include <memory>

namespace mlir::fattn::codegen {

class TargetBuilders;

/// This thread's values of a warp-distributed f32 tile (scores, the
/// probabilities, the output accumulator), in the target's storage order:
/// at(r, c) is the value of this thread's row slot r and column slot c,
/// whose tile coordinates TargetBuilders::slotRow and slotColumnBase +
/// slotColumnOffset give.
struct RegisterTile {
  SmallVector<Value> values;
  int64_t rowSlots = 0, colSlots = 0;
  const TargetBuilders *target = nullptr;

  Value &at(int64_t rowSlot, int64_t colSlot);
  Value at(int64_t rowSlot, int64_t colSlot) const;
};

/// A run of tile rows in global memory: rows [firstRow, firstRow + rows) of
/// head `head` of a (limit, heads, headDim) buffer; rows at or past `limit`
/// read as zeros.
struct GlobalRows {
  Value buffer;
  Value firstRow;
  int64_t rows = 0;
  Value head;
  /// The buffer's head count (i32) and its value where the kernel knows it,
  /// or ShapedType::kDynamic (a run-time kernel's parameter).
  Value heads;
  int64_t staticHeads = 0;
  /// Rows past `limit` (the token count, i32) are zero-filled;
  /// `staticLimit` is its value where the kernel knows it, or
  /// ShapedType::kDynamic.
  Value limit;
  int64_t staticLimit = 0;
};

/// How K and V tiles reach shared memory across the key-tile loop: which
/// copies are in flight while a tile is computed, and the waits that make a
/// tile visible to every warp. One per target (cp.async groups on sm_80,
/// TMA and mbarriers on sm_90a).
class KeyTilePipeline {
public:
  /// The first key row of the i-th visited key tile (i32).
  using VisitFirstRow = std::function<Value(Value visit)>;
  /// The key (or, with isValue, value) rows of the tile starting there.
  using TileRows = std::function<GlobalRows(Value firstRow, bool isValue)>;
  /// Whether visit i exists (i < number of visited tiles).
  using VisitExists = std::function<Value(Value visit)>;

  virtual ~KeyTilePipeline();
  /// Before the loop: starts the copies of the first tiles.
  virtual void prologue() = 0;
  /// First in iteration `position`: where its K and V tiles are
  /// (keyTile, valueTile).
  virtual void bindVisit(Value position) = 0;
  /// Then: its K tile is visible to every warp, and the copies of later
  /// tiles are issued.
  virtual void beginVisit(Value position) = 0;
  /// Before P V: the V tile of `position` is visible to every warp.
  virtual void awaitValue(Value position) = 0;
  /// After the loop: nothing is in flight.
  virtual void drain() = 0;
  /// Values the pipeline carries from one iteration of the key loop to the
  /// next: their values after the prologue, and at the end of an
  /// iteration (the loop yields them after its own).
  virtual SmallVector<Value> carriedValues() { return {}; }
  /// At the top of an iteration: the loop's arguments for them.
  virtual void bindCarried(ValueRange) {}
  /// The K and V tiles of the iteration bindVisit named, as the target's
  /// GEMMs take them (on sm_80: this lane's ldmatrix base in the buffer,
  /// computed at the top of the iteration like every per-lane term).
  virtual Value keyTile() = 0;
  virtual Value valueTile() = 0;
};

class TargetBuilders {
public:
  TargetBuilders(OpBuilder &b, Location loc, const FlashKernelSpec &spec)
      : b(b), loc(loc), spec(spec) {}
  virtual ~TargetBuilders();

  // Threads. The per-lane terms are cheap to rederive and expensive to hold
  // through the key loop, so the lowerings call bindThread where they want
  // them fresh (the special-register reads are volatile and stay put).
  /// Reads %tid.x (volatile: it stays where it is emitted).
  virtual Value readThreadIndex() = 0;
  /// Derives this thread's lane terms from `tid`, among them its operand
  /// addresses in the shared Q tile, which stays put through the kernel.
  virtual void bindThread(Value tid, Value queryTile) = 0;
  virtual Value threadIndex() const = 0;
  virtual Value blockIndex(int dimension) = 0;

  // Register tiles.
  /// Rows of the CTA's query tile this thread holds values of.
  virtual int64_t rowSlots() const = 0;
  /// A tile of this CTA's blockQ rows by `columns`, every value `init`.
  virtual RegisterTile registerTile(int64_t columns, Value init) const = 0;
  /// Storage position of (row slot, column slot) in RegisterTile::values.
  virtual int64_t storageIndex(int64_t colSlots, int64_t rowSlot,
                               int64_t colSlot) const = 0;
  /// Row, within the CTA's query tile, of this thread's row slot.
  virtual Value slotRow(int64_t rowSlot) = 0;
  /// Column of column slot c: slotColumnBase() + slotColumnOffset(c).
  virtual Value slotColumnBase() = 0;
  virtual int64_t slotColumnOffset(int64_t colSlot) const = 0;
  /// Combines `value` over the lanes holding the same rows (a butterfly).
  virtual Value reduceOverRow(Value value,
                              function_ref<Value(Value, Value)> combine) = 0;
  /// Whether this thread is the one of the lanes sharing a row that stores
  /// the row's lse (every lane stores its own out values).
  virtual Value isRowLeader() = 0;

  // Shared memory and copies.
  /// Copies rows into a shared tile in the layout the GEMMs read.
  virtual void copyRowsAsync(Value sharedTile, const GlobalRows &rows) = 0;
  virtual std::unique_ptr<KeyTilePipeline>
  createKeyTilePipeline(Value keyBuffers, Value valueBuffers,
                        KeyTilePipeline::VisitFirstRow firstRow,
                        KeyTilePipeline::TileRows rows,
                        KeyTilePipeline::VisitExists exists) = 0;
  virtual void barrier() = 0;
  virtual Value loadSharedF32(Value address) = 0;
  virtual void storeSharedF32(Value address, Value value) = 0;

  // GEMMs on shared tiles, accumulating into register tiles.
  /// scores += Q K^T for this warp's rows of the Q tile bindThread named,
  /// K as the pipeline's keyTile gives it.
  virtual void multiplyQueryKey(Value keyTile, RegisterTile &scores) = 0;
  /// acc += P V, P in registers (as the softmax left the scores), V as the
  /// pipeline's valueTile gives it.
  virtual void multiplyProbabilitiesValue(const RegisterTile &probabilities,
                                          Value valueTile,
                                          RegisterTile &acc) = 0;

  // Lane math.
  virtual Value exp2(Value x) = 0;
  virtual Value log2(Value x) = 0;
  virtual Value tanh(Value x) = 0;
  /// Two f32 values as one 32-bit register of two elements, `low` first.
  virtual Value packPair(Value low, Value high) = 0;

protected:
  OpBuilder &b;
  Location loc;
  const FlashKernelSpec &spec;
};

/// The builders of `spec.target`'s chip family.
std::unique_ptr<TargetBuilders> createTargetBuilders(OpBuilder &b, Location loc,
                                                     const FlashKernelSpec &spec);

} // namespace mlir::fattn::codegen

#endif // FATTN_GPU_TARGETBUILDERS_H
