//===- Sm80Builders.cpp - mma.sync, ldmatrix and cp.async builders --------===//
//
// The FlashAttention-2 warp schedule on sm_80 and newer: each warp owns
// blockQ / warps consecutive query rows (one or more 16-row mma tiles) and
// exchanges nothing with other warps. Register fragments are SSA values in
// C++ vectors: every loop over mma tiles is unrolled while the IR is built.
// Tensor-core, ldmatrix and cp.async instructions go through the typed
// inline-PTX helper: the register-fragment forms FlashAttention needs are
// not all reachable through the nvvm ops of MLIR 22 (docs/spec.md §5).
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Gpu/InlinePtx.h"
#include "FlashDialect/Gpu/Sm80Layout.h"
#include "FlashDialect/Gpu/TargetBuilders.h"

#include "Targets.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::fattn;
using namespace mlir::fattn::codegen;

namespace {

using Fragment = SmallVector<Value, 4>;

/// The IR domain of the Sm80Layout.h formulas (i32 values).
struct I32Layout {
  OpBuilder &b;
  Location loc;
  Value constant(int64_t value) const {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), value);
  }
  Value add(Value x, Value y) const { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t y) const {
    return arith::MulIOp::create(b, loc, x, constant(y));
  }
  Value shl(Value x, int64_t bits) const {
    return arith::ShLIOp::create(b, loc, x, constant(bits));
  }
  Value andi(Value x, int64_t mask) const {
    return arith::AndIOp::create(b, loc, x, constant(mask));
  }
  Value xorc(Value x, int64_t mask) const {
    return arith::XOrIOp::create(b, loc, x, constant(mask));
  }
  Value xorv(Value x, Value y) const {
    return arith::XOrIOp::create(b, loc, x, y);
  }
};

class Sm80Builders final : public TargetBuilders {
public:
  Sm80Builders(OpBuilder &b, Location loc, const FlashKernelSpec &spec)
      : TargetBuilders(b, loc, spec), layout{b, loc} {
    i32 = b.getI32Type();
    f32 = b.getF32Type();
    rowsPerWarp = spec.blockQ / spec.warps;
    mTiles = rowsPerWarp / 16;
    rowBytes = spec.headDim * 2;
    chunksPerRow = spec.headDim / 8;
  }

  Value readThreadIndex() override { return volatileRegister("%tid.x"); }
  void bindThread(Value threadIndex, Value queryTile) override;
  Value threadIndex() const override { return tid; }
  Value blockIndex(int dimension) override {
    return volatileRegister(dimension == 0 ? "%ctaid.x" : "%ctaid.y");
  }

  int64_t rowSlots() const override { return 2 * mTiles; }
  RegisterTile registerTile(int64_t columns, Value init) const override {
    RegisterTile tile;
    tile.rowSlots = rowSlots();
    tile.colSlots = columns / 4;
    tile.values.assign(tile.rowSlots * tile.colSlots, init);
    tile.target = this;
    return tile;
  }
  int64_t storageIndex(int64_t colSlots, int64_t rowSlot,
                       int64_t colSlot) const override {
    return sm80::accumulatorIndex(colSlots, rowSlot, colSlot);
  }
  Value slotRow(int64_t rowSlot) override {
    return add(layout.mul(warp, rowsPerWarp),
               add(quadRow, c32(sm80::rowSlotOffset(rowSlot))));
  }
  Value slotColumnBase() override { return layout.shl(quadCol, 1); }
  int64_t slotColumnOffset(int64_t colSlot) const override {
    return sm80::colSlotOffset(colSlot);
  }
  Value reduceOverRow(Value value,
                      function_ref<Value(Value, Value)> combine) override {
    // Rows g and g + 8 of an mma tile live in one quad of lanes.
    value = combine(value, shuffleXor(value, 1));
    return combine(value, shuffleXor(value, 2));
  }
  Value isRowLeader() override {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, quadCol,
                                 c32(0));
  }

  void copyRowsAsync(Value sharedTile, const GlobalRows &rows) override;
  std::unique_ptr<KeyTilePipeline>
  createKeyTilePipeline(Value keyBuffers, Value valueBuffers,
                        KeyTilePipeline::VisitFirstRow firstRow,
                        KeyTilePipeline::TileRows rows,
                        KeyTilePipeline::VisitExists exists) override;
  void barrier() override {
    emitPtx(b, loc, {"bar.sync 0;", {}, {}, PtxEffects::VolatileMemory});
  }
  Value loadSharedF32(Value address) override {
    return emitPtx(b, loc,
                   {"ld.shared.f32 $0, [$1];", {f32}, {address},
                    PtxEffects::VolatileMemory})
        .front();
  }
  void storeSharedF32(Value address, Value value) override {
    emitPtx(b, loc,
            {"st.shared.f32 [$0], $1;", {}, {address, value},
             PtxEffects::VolatileMemory});
  }

  void multiplyQueryKey(Value keyTile, RegisterTile &scores) override;
  void multiplyProbabilitiesValue(const RegisterTile &probabilities,
                                  Value valueTile, RegisterTile &acc) override;

  Value exp2(Value x) override { return unary("ex2.approx.ftz.f32", x); }
  Value log2(Value x) override { return unary("lg2.approx.f32", x); }
  Value tanh(Value x) override { return unary("tanh.approx.f32", x); }
  Value packPair(Value low, Value high) override {
    std::string text = spec.elementType.isBF16() ? "cvt.rn.bf16x2.f32 $0, $1, $2;"
                                                 : "cvt.rn.f16x2.f32 $0, $1, $2;";
    return emitPtx(b, loc, {text, {i32}, {high, low}, PtxEffects::None}).front();
  }

  // For the pipeline.
  void commitCopies() {
    emitPtx(b, loc,
            {"cp.async.commit_group;", {}, {}, PtxEffects::VolatileMemory});
  }
  /// Waits until at most `pending` copy groups are in flight.
  void waitCopies(int64_t pending) {
    emitPtx(b, loc,
            {"cp.async.wait_group " + std::to_string(pending) + ";", {}, {},
             PtxEffects::VolatileMemory});
  }
  Value c32(int64_t value) const { return layout.constant(value); }
  Value add(Value x, Value y) const { return layout.add(x, y); }
  OpBuilder &builder() { return b; }
  Location location() const { return loc; }
  const FlashKernelSpec &kernelSpec() const { return spec; }
  Value keyLaneTerm() const { return keyTerm; }
  Value valueLaneTerm() const { return valueTerm; }

private:
  Value volatileRegister(StringRef name) {
    return emitPtx(b, loc,
                   {("mov.u32 $0, " + name + ";").str(), {i32}, {},
                    PtxEffects::Volatile})
        .front();
  }
  Value unary(StringRef opcode, Value x) {
    return emitPtx(b, loc, {(opcode + " $0, $1;").str(), {f32}, {x},
                            PtxEffects::None})
        .front();
  }
  Value shuffleXor(Value x, int64_t laneMask) {
    return emitPtx(b, loc,
                   {"shfl.sync.bfly.b32 $0, $1, $2, 31, -1;", {f32},
                    {x, c32(laneMask)}, PtxEffects::Volatile})
        .front();
  }
  Fragment loadMatrix(Value address, bool transpose) {
    std::string text = "ldmatrix.sync.aligned.m8n8.x4";
    if (transpose)
      text += ".trans";
    text += ".shared.b16 {$0, $1, $2, $3}, [$4];";
    return Fragment(emitPtx(b, loc,
                            {text, {i32, i32, i32, i32}, {address},
                             PtxEffects::Volatile}));
  }
  Fragment mma(ArrayRef<Value> a, ArrayRef<Value> bFrag, ArrayRef<Value> c) {
    std::string type = spec.elementType.isBF16() ? "bf16" : "f16";
    PtxInstruction instruction{
        "mma.sync.aligned.m16n8k16.row.col.f32." + type + "." + type +
            ".f32 {$0, $1, $2, $3}, {$4, $5, $6, $7}, {$8, $9}, "
            "{$10, $11, $12, $13};",
        {f32, f32, f32, f32},
        {},
        PtxEffects::None};
    instruction.operands.append(a.begin(), a.end());
    instruction.operands.append(bFrag.begin(), bFrag.end());
    instruction.operands.append(c.begin(), c.end());
    return Fragment(emitPtx(b, loc, instruction));
  }
  /// tile(., n) += A x B_n for n = first, first + 1 (8-column tiles), with
  /// the B fragments of both from one ldmatrix.x4.
  void mmaPair(const Fragment &a, const Fragment &bFrag, int64_t m,
               int64_t first, RegisterTile &tile) {
    for (int64_t half = 0; half < 2; ++half) {
      int64_t n = first + half;
      auto slot = [&](int64_t e) -> Value & {
        return tile.at(2 * m + e / 2, 2 * n + e % 2);
      };
      SmallVector<Value> c = {slot(0), slot(1), slot(2), slot(3)};
      Fragment d = mma(a, {bFrag[2 * half], bFrag[2 * half + 1]}, c);
      for (int64_t e = 0; e < 4; ++e)
        slot(e) = d[e];
    }
  }
  Value chunkPairAddress(Value term, int64_t pair, int64_t rowStep) {
    return sm80::ldmatrixAddress(layout, term, pair, rowStep, rowBytes);
  }

  I32Layout layout;
  Type i32, f32;
  int64_t rowsPerWarp, mTiles, rowBytes, chunksPerRow;
  /// This thread's values, from bindThread.
  Value tid, warp, quadRow, quadCol;
  /// This thread's copy row, chunk and swizzled offset within a tile.
  Value copyRow, copyChunk, copyTarget;
  /// Per-lane ldmatrix terms: the A operand's address in the Q tile (rows
  /// of this warp), and offsets into a K and a V buffer.
  Value queryTerm, keyTerm, valueTerm;
};

void Sm80Builders::bindThread(Value threadIndex, Value queryTile) {
  tid = threadIndex;
  Value lane = layout.andi(tid, 31);
  warp = arith::ShRUIOp::create(b, loc, tid, c32(5));
  quadRow = arith::ShRUIOp::create(b, loc, lane, c32(2)); // rows g, g + 8
  quadCol = layout.andi(lane, 3); // columns 2t, 2t + 1 of each 8-wide tile
  copyRow = arith::ShRUIOp::create(b, loc, tid,
                                   c32(llvm::Log2_64(chunksPerRow)));
  copyChunk = layout.andi(tid, chunksPerRow - 1);
  copyTarget = sm80::swizzledChunkOffset(layout, copyRow, copyChunk, rowBytes);
  // Every ldmatrix row of this lane has (row & 7) == laneLow; see the
  // fragment layouts of mma.m16n8k16 (A row-major, B column-major).
  Value laneLow = layout.andi(lane, 7);
  Value laneMid = layout.andi(arith::ShRUIOp::create(b, loc, lane, c32(3)), 1);
  Value laneHigh = arith::ShRUIOp::create(b, loc, lane, c32(4));
  Value aRow = add(layout.mul(warp, rowsPerWarp), add(laneLow, layout.shl(laneMid, 3)));
  Value kRow = add(laneLow, layout.shl(laneHigh, 3));
  Value vRow = add(laneLow, layout.shl(laneMid, 3));
  queryTerm =
      add(queryTile, sm80::laneTerm(layout, aRow, laneHigh, laneLow, rowBytes));
  keyTerm = sm80::laneTerm(layout, kRow, laneMid, laneLow, rowBytes);
  valueTerm = sm80::laneTerm(layout, vRow, laneHigh, laneLow, rowBytes);
}

void Sm80Builders::multiplyQueryKey(Value keyTile, RegisterTile &scores) {
  Value queryBase = queryTerm;
  Value keyBase = keyTile;
  int64_t nTiles = scores.colSlots / 2;
  for (int64_t k = 0; k < spec.headDim / 16; ++k) {
    SmallVector<Fragment> aFrags;
    for (int64_t m = 0; m < mTiles; ++m)
      aFrags.push_back(loadMatrix(chunkPairAddress(queryBase, k, m * 16), false));
    for (int64_t np = 0; np < nTiles / 2; ++np) {
      Fragment bFrag = loadMatrix(chunkPairAddress(keyBase, k, np * 16), false);
      for (int64_t m = 0; m < mTiles; ++m)
        mmaPair(aFrags[m], bFrag, m, 2 * np, scores);
    }
  }
}

void Sm80Builders::multiplyProbabilitiesValue(const RegisterTile &p,
                                              Value valueTile,
                                              RegisterTile &acc) {
  // The score accumulators are already in the A layout: pack them.
  Value valueBase = valueTile;
  int64_t nTiles = p.colSlots / 2, dTiles = acc.colSlots / 2;
  for (int64_t kb = 0; kb < nTiles / 2; ++kb) {
    SmallVector<Fragment> aFrags;
    for (int64_t m = 0; m < mTiles; ++m) {
      auto pair = [&](int64_t n, int64_t h) {
        return packPair(p.at(2 * m + h, 2 * n), p.at(2 * m + h, 2 * n + 1));
      };
      aFrags.push_back({pair(2 * kb, 0), pair(2 * kb, 1), pair(2 * kb + 1, 0),
                        pair(2 * kb + 1, 1)});
    }
    for (int64_t dp = 0; dp < dTiles / 2; ++dp) {
      Fragment bFrag =
          loadMatrix(chunkPairAddress(valueBase, dp, kb * 16), true);
      for (int64_t m = 0; m < mTiles; ++m)
        mmaPair(aFrags[m], bFrag, m, 2 * dp, acc);
    }
  }
}

void Sm80Builders::copyRowsAsync(Value sharedTile, const GlobalRows &rows) {
  // Thread t copies chunk (t mod chunksPerRow) of rows t / chunksPerRow +
  // c * rowsPerCopy; rowsPerCopy is a multiple of 8, so every copy of a
  // thread has the same swizzle and its addresses differ by constants.
  Type i64 = b.getI64Type();
  auto globalPtr = LLVM::LLVMPointerType::get(b.getContext(), 1);
  auto toI64 = [&](Value x) { return arith::ExtSIOp::create(b, loc, i64, x); };
  auto byteAddress = [&](Value base, Value offset) -> Value {
    return LLVM::GEPOp::create(b, loc, globalPtr, b.getI8Type(), base,
                               ArrayRef<LLVM::GEPArg>{offset});
  };
  int64_t rowsPerCopy = spec.threads() / chunksPerRow;
  int64_t copies = rows.rows / rowsPerCopy;
  // Offsets stay 32-bit where the whole buffer is under 2 GiB (shapes are
  // static), so no 64-bit per-lane offset lives across the key loop.
  bool narrow = !ShapedType::isDynamic(rows.staticLimit) &&
                !ShapedType::isDynamic(rows.staticHeads) &&
                rows.staticLimit * rows.staticHeads * spec.headDim * 2 <
                    (int64_t(1) << 31);
  Value laneSource;
  // Bytes between one row's copy and the next pass's (rowsPerCopy rows on).
  Value passBytes;
  if (narrow) {
    int64_t rowElements = rows.staticHeads * spec.headDim;
    Value byteOffset = layout.shl(
        add(layout.mul(add(layout.mul(rows.firstRow, rows.staticHeads),
                           rows.head),
                       spec.headDim),
            add(layout.mul(copyRow, rowElements), layout.shl(copyChunk, 3))),
        1);
    laneSource = byteAddress(
        rows.buffer, arith::ExtUIOp::create(b, loc, i64, byteOffset).getResult());
    passBytes = toI64(c32(rowsPerCopy * rowElements * 2));
  } else {
    auto mul64 = [&](Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); };
    auto add64 = [&](Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); };
    Value rowElements = mul64(toI64(rows.heads), toI64(c32(spec.headDim)));
    Value tileElement =
        mul64(add64(mul64(toI64(rows.firstRow), toI64(rows.heads)),
                    toI64(rows.head)),
              toI64(c32(spec.headDim)));
    Value laneElement = add64(mul64(toI64(copyRow), rowElements),
                              toI64(layout.shl(copyChunk, 3)));
    laneSource = byteAddress(
        rows.buffer, mul64(add64(tileElement, laneElement), toI64(c32(2))));
    passBytes = mul64(rowElements, toI64(c32(rowsPerCopy * 2)));
  }
  Value laneTarget = add(sharedTile, copyTarget);
  for (int64_t copy = 0; copy < copies; ++copy) {
    int64_t rowStep = copy * rowsPerCopy;
    Value row = add(rows.firstRow, add(copyRow, c32(rowStep)));
    // Rows past the sequence are zero-filled (source size 0) from an
    // in-bounds address.
    Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                         row, rows.limit);
    Value source = arith::SelectOp::create(
        b, loc, inside,
        copy ? byteAddress(laneSource,
                           arith::MulIOp::create(b, loc, passBytes,
                                                 toI64(c32(copy))))
             : laneSource,
        rows.buffer);
    Value target = add(laneTarget, c32(rowStep * rowBytes));
    Value bytes = arith::SelectOp::create(b, loc, inside, c32(16), c32(0));
    emitPtx(b, loc,
            {"cp.async.cg.shared.global [$0], [$1], 16, $2;", {},
             {target, source, bytes}, PtxEffects::VolatileMemory});
  }
}

/// K runs stages - 1 visits ahead of the computation and V stages - 2, in
/// `stages` K buffers and stages - 1 V buffers. Copy groups, in commit order:
/// K_0 (with the Q tile), then for t = 0, 1, ...: V_t, K_{t+1}. The prologue
/// commits t = 0 .. stages - 3, the iteration of visit i commits
/// t = i + stages - 2. A group is committed even when its visit is past the
/// last one, so that the counts the waits rely on never depend on the data.
/// (Running V as far ahead as K measured 2-4% slower at two stages.)
///
/// A run-time schedule's table loads are global loads, where a static
/// schedule's are constant and ptxas hoists them: located after the
/// iteration's barrier, the copies would wait for them (bench/NOTES.md,
/// issue 9 step 4). With carry-key-rows (RuntimeScheduleSpec) its kernel
/// locates one K tile ahead and carries two first rows to the next
/// iteration: the next K copy's, located during the iteration before, and
/// the last K copy's, which is V's next tile (V_t follows K_t).
class CpAsyncPipeline final : public KeyTilePipeline {
public:
  CpAsyncPipeline(Sm80Builders &target, Value keyBuffers, Value valueBuffers,
                  VisitFirstRow firstRow, TileRows rows, VisitExists exists)
      : target(target), stages(target.kernelSpec().stages),
        carryKeyRow(target.kernelSpec().runtimeSchedule &&
                    target.kernelSpec().runtimeSchedule->carryKeyRows),
        keyBuffers(keyBuffers), valueBuffers(valueBuffers),
        firstRow(std::move(firstRow)), rows(std::move(rows)),
        exists(std::move(exists)) {}

  void prologue() override {
    if (carryKeyRow)
      nextKeyRow = locateIfExists(target.c32(0));
    copyVisit(target.c32(0), /*isValue=*/false, /*surelyPresent=*/false);
    for (int64_t t = 0; t + 2 < stages; ++t) {
      copyVisit(target.c32(t), /*isValue=*/true, /*surelyPresent=*/false);
      copyVisit(target.c32(t + 1), /*isValue=*/false, /*surelyPresent=*/false);
    }
  }
  void bindVisit(Value position) override {
    currentKey = target.add(bufferOf(keyBuffers, position, stages),
                            target.keyLaneTerm());
    currentValue = target.add(bufferOf(valueBuffers, position, stages - 1),
                              target.valueLaneTerm());
  }
  void beginVisit(Value position) override {
    // K_i has landed (the groups after it, V_i .. K_{i+stages-2}, may be in
    // flight), and every warp is done with iteration i - 1, whose buffers
    // V_{i+stages-2} and K_{i+stages-1} now take.
    target.waitCopies(2 * stages - 4);
    target.barrier();
    copyVisit(target.add(position, target.c32(stages - 2)), /*isValue=*/true,
              /*surelyPresent=*/stages == 2);
    copyVisit(target.add(position, target.c32(stages - 1)), /*isValue=*/false,
              /*surelyPresent=*/false);
  }
  void awaitValue(Value) override {
    // V_i has landed (K_{i+1} .. K_{i+stages-1} and V_{i+1} ..
    // V_{i+stages-2} may still be in flight).
    target.waitCopies(2 * stages - 3);
    target.barrier();
  }
  void drain() override { target.waitCopies(0); }
  SmallVector<Value> carriedValues() override {
    if (!carryKeyRow)
      return {};
    return {lastKeyRow, nextKeyRow};
  }
  void bindCarried(ValueRange values) override {
    if (!carryKeyRow)
      return;
    lastKeyRow = values[0];
    nextKeyRow = values[1];
  }
  Value keyTile() override { return currentKey; }
  Value valueTile() override { return currentValue; }

private:
  Value bufferOf(Value base, Value visit, int64_t buffers) {
    if (buffers == 1)
      return base;
    OpBuilder &b = target.builder();
    Location loc = target.location();
    Value index =
        llvm::isPowerOf2_64(buffers)
            ? arith::AndIOp::create(b, loc, visit, target.c32(buffers - 1))
                  .getResult()
            : arith::RemUIOp::create(b, loc, visit, target.c32(buffers))
                  .getResult();
    return target.add(
        base, arith::MulIOp::create(
                  b, loc, index,
                  target.c32(target.kernelSpec().keyTileBytes())));
  }
  /// The first row of `visit`'s tile where the visit exists, else 0
  /// (which nothing reads).
  Value locateIfExists(Value visit) {
    OpBuilder &b = target.builder();
    Location loc = target.location();
    auto ifOp = scf::IfOp::create(b, loc, TypeRange{b.getI32Type()},
                                  exists(visit), /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    scf::YieldOp::create(b, loc, firstRow(visit));
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    scf::YieldOp::create(b, loc, target.c32(0));
    return ifOp.getResult(0);
  }
  void copyVisit(Value visit, bool isValue, bool surelyPresent) {
    OpBuilder &b = target.builder();
    Location loc = target.location();
    Value carriedRow = isValue ? lastKeyRow : nextKeyRow;
    auto emitCopy = [&]() {
      Value tile = isValue ? bufferOf(valueBuffers, visit, stages - 1)
                           : bufferOf(keyBuffers, visit, stages);
      Value row = carryKeyRow ? carriedRow : firstRow(visit);
      target.copyRowsAsync(tile, rows(row, isValue));
    };
    if (surelyPresent) {
      emitCopy();
    } else {
      auto ifOp = scf::IfOp::create(b, loc, exists(visit),
                                    /*withElseRegion=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      emitCopy();
    }
    target.commitCopies();
    if (carryKeyRow && !isValue) {
      lastKeyRow = nextKeyRow;
      nextKeyRow =
          locateIfExists(arith::AddIOp::create(b, loc, visit, target.c32(1)));
    }
  }

  Sm80Builders &target;
  int64_t stages;
  bool carryKeyRow;
  Value keyBuffers, valueBuffers;
  Value currentKey, currentValue;
  /// carryKeyRow: the first rows of the last K tile copied and of the next.
  Value lastKeyRow, nextKeyRow;
  VisitFirstRow firstRow;
  TileRows rows;
  VisitExists exists;
};

std::unique_ptr<KeyTilePipeline>
Sm80Builders::createKeyTilePipeline(Value keyBuffers, Value valueBuffers,
                                    KeyTilePipeline::VisitFirstRow firstRow,
                                    KeyTilePipeline::TileRows rows,
                                    KeyTilePipeline::VisitExists exists) {
  return std::make_unique<CpAsyncPipeline>(
      *this, keyBuffers, valueBuffers, std::move(firstRow), std::move(rows),
      std::move(exists));
}

} // namespace

std::unique_ptr<TargetBuilders>
mlir::fattn::codegen::createSm80Builders(OpBuilder &b, Location loc,
                                     const FlashKernelSpec &spec) {
  return std::make_unique<Sm80Builders>(b, loc, spec);
}
