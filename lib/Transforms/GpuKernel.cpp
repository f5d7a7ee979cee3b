//===- GpuKernel.cpp - Tensor-core flash-attention kernels ----------------===//
//
// The warp-level schedule follows FlashAttention-2: each warp owns
// `rowsPerWarp` query rows (one or more 16-row mma tiles), keeps its output
// accumulator, running max and running sum in registers across key tiles,
// and exchanges nothing with other warps. Register fragments are SSA values
// in C++ vectors: every loop over mma tiles is unrolled while the IR is
// built, and only the loop over key tiles stays a loop.
//
// Tensor-core, ldmatrix and cp.async instructions are emitted as inline PTX
// (the register-fragment forms FlashAttention needs are not all reachable
// through the nvvm ops of MLIR 22, see docs/spec.md §5); everything else is
// arith/scf/llvm and is lowered by the standard conversions.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/ArithRowKeys.h"
#include "FlashDialect/GpuKernel.h"
#include "FlashDialect/Limits.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir;
using namespace mlir::fattn;

std::optional<std::string> mlir::fattn::checkWarpsAndStages(int64_t warps,
                                                            int64_t stages) {
  if (warps <= 0 || warps > 32)
    return "warps must be in [1, 32], got " + std::to_string(warps);
  if (stages < 2 || stages > 8)
    return "stages must be between 2 and 8, got " + std::to_string(stages);
  return std::nullopt;
}

std::optional<std::string>
mlir::fattn::checkFlashKernelSpec(const FlashKernelSpec &spec) {
  auto text = [](const char *what, int64_t value) {
    return std::string(what) + " " + std::to_string(value);
  };
  if (!spec.elementType || !(spec.elementType.isBF16() || spec.elementType.isF16()))
    return std::string("GPU kernels take bf16 or f16 operands");
  if (spec.headDim != 64 && spec.headDim != 128)
    return text("GPU kernels support head dims 64 and 128, got", spec.headDim);
  if (std::optional<std::string> problem =
          checkWarpsAndStages(spec.warps, spec.stages))
    return problem;
  if (spec.blockQ % (16 * spec.warps) != 0)
    return text("block-q must be a multiple of 16 x warps, got", spec.blockQ);
  if (spec.blockK % 16 != 0 || spec.blockK > 128 || spec.blockK <= 0)
    return text("block-k must be a multiple of 16 up to 128, got", spec.blockK);
  int64_t chunks = spec.headDim / 8;
  if ((spec.blockQ * chunks) % spec.threads() != 0 ||
      (spec.blockK * chunks) % spec.threads() != 0)
    return std::string("tiles must split evenly into 16-byte copies per thread");
  if (spec.sharedBytes() > spec.maxSharedBytes)
    return "tiles need " + std::to_string(spec.sharedBytes()) +
           " bytes of shared memory, more than the " +
           std::to_string(spec.maxSharedBytes) + " a CTA has on the target";
  if (spec.headsK <= 0 || spec.headsQ % spec.headsK != 0)
    return std::string("query heads must be a multiple of key/value heads");
  // The grid is (query heads, query tiles).
  if (spec.headsQ > ::fattn::limits::kMaxGridX ||
      spec.numQTiles() > ::fattn::limits::kMaxGridYZ)
    return text("query tiles form the grid's y dimension, which CUDA limits "
                "to 65535; got",
                spec.numQTiles());
  return std::nullopt;
}

namespace {

class FlashKernelEmitter {
public:
  FlashKernelEmitter(OpBuilder &b, Location loc, const FlashKernelSpec &spec)
      : b(b), loc(loc), spec(spec), ctx(b.getContext()) {
    i1 = b.getI1Type();
    i32 = b.getI32Type();
    i64 = b.getI64Type();
    f32 = b.getF32Type();
    globalPtr = LLVM::LLVMPointerType::get(ctx, 1);
    rowsPerWarp = spec.blockQ / spec.warps;
    mTiles = rowsPerWarp / 16;
    nTiles = spec.blockK / 8;
    dTiles = spec.headDim / 8;
    kSteps = spec.headDim / 16;
    rowBytes = spec.headDim * 2;
    chunksPerRow = spec.headDim / 8;
  }

  gpu::GPUFuncOp emit(gpu::GPUModuleOp module);

private:
  using Fragment = SmallVector<Value, 4>;

  // Scalars.
  Value c32(int64_t value) {
    return arith::ConstantIntOp::create(b, loc, i32, value);
  }
  Value cf32(double value) {
    return arith::ConstantOp::create(b, loc,
                                     b.getF32FloatAttr(static_cast<float>(value)));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value shl(Value x, int64_t bits) {
    return arith::ShLIOp::create(b, loc, x, c32(bits));
  }
  Value shr(Value x, int64_t bits) {
    return arith::ShRUIOp::create(b, loc, x, c32(bits));
  }
  Value andi(Value x, int64_t mask) {
    return arith::AndIOp::create(b, loc, x, c32(mask));
  }
  Value xori(Value x, Value y) { return arith::XOrIOp::create(b, loc, x, y); }
  Value cmp(arith::CmpIPredicate predicate, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, predicate, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value fsub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  /// x * y + z in one rounding (plain fmul/fadd become mul.rn/add.rn, which
  /// ptxas never fuses).
  Value fma(Value x, Value y, Value z) {
    return LLVM::FMAOp::create(b, loc, x, y, z);
  }
  Value fneg(Value x) { return arith::NegFOp::create(b, loc, x); }
  Value fmax(Value x, Value y) {
    return arith::MaximumFOp::create(b, loc, x, y);
  }
  Value toI64(Value x) { return arith::ExtSIOp::create(b, loc, i64, x); }

  /// One inline-PTX instruction; returns its outputs.
  SmallVector<Value> ptx(StringRef text, StringRef constraints,
                         ArrayRef<Type> outputs, ValueRange operands,
                         bool sideEffects) {
    Type resultType;
    if (outputs.size() == 1)
      resultType = outputs.front();
    else if (outputs.size() > 1)
      resultType = LLVM::LLVMStructType::getLiteral(ctx, outputs);
    auto op = LLVM::InlineAsmOp::create(
        b, loc, resultType ? TypeRange{resultType} : TypeRange{}, operands,
        text, constraints, sideEffects, /*is_align_stack=*/false,
        LLVM::tailcallkind::TailCallKind::None, LLVM::AsmDialectAttr(),
        ArrayAttr());
    SmallVector<Value> results;
    if (outputs.size() == 1)
      results.push_back(op.getResult(0));
    else
      for (int64_t index = 0, e = outputs.size(); index < e; ++index)
        results.push_back(LLVM::ExtractValueOp::create(b, loc, op.getResult(0),
                                                       ArrayRef<int64_t>{index}));
    return results;
  }

  // Memory.
  /// Element `index` of the table starting at `table` in the kernel's one
  /// constant table array: a single base pointer stays live across the key
  /// loop instead of one per table.
  Value loadTable(int64_t table, Value index) {
    Value address = LLVM::GEPOp::create(b, loc, globalPtr, i32, tables,
                                        ArrayRef<LLVM::GEPArg>{index});
    if (table)
      address = LLVM::GEPOp::create(b, loc, globalPtr, i32, address,
                                    ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(table)});
    return LLVM::LoadOp::create(b, loc, i32, address);
  }
  Value byteAddress(Value base, Value byteOffset) {
    return LLVM::GEPOp::create(b, loc, globalPtr, b.getI8Type(), base,
                               ArrayRef<LLVM::GEPArg>{byteOffset});
  }
  void copyTileAsync(Value sharedTile, Value global, Value firstRow,
                     int64_t tileRows, Value head, int64_t heads,
                     int64_t limit);
  Fragment loadMatrix(Value address, bool transpose) {
    std::string text = "ldmatrix.sync.aligned.m8n8.x4";
    if (transpose)
      text += ".trans";
    text += ".shared.b16 {$0, $1, $2, $3}, [$4];";
    return Fragment(
        ptx(text, "=r,=r,=r,=r,r", {i32, i32, i32, i32}, address, true));
  }
  Fragment mma(ArrayRef<Value> a, ArrayRef<Value> bFrag, ArrayRef<Value> c) {
    std::string type = spec.elementType.isBF16() ? "bf16" : "f16";
    std::string text = "mma.sync.aligned.m16n8k16.row.col.f32." + type + "." +
                       type +
                       ".f32 {$0, $1, $2, $3}, {$4, $5, $6, $7}, {$8, $9}, "
                       "{$10, $11, $12, $13};";
    SmallVector<Value> operands(a.begin(), a.end());
    operands.append(bFrag.begin(), bFrag.end());
    operands.append(c.begin(), c.end());
    return Fragment(ptx(text, "=f,=f,=f,=f,r,r,r,r,r,r,f,f,f,f",
                        {f32, f32, f32, f32}, operands, false));
  }
  /// acc(n, .) += A x B_n for n = first, first + 1, with the B fragments of
  /// both 8-column tiles from one ldmatrix.x4.
  void mmaPair(const Fragment &a, const Fragment &bFrag, int64_t first,
               function_ref<Value &(int64_t, int64_t)> acc) {
    for (int64_t half = 0; half < 2; ++half) {
      int64_t n = first + half;
      SmallVector<Value> c = {acc(n, 0), acc(n, 1), acc(n, 2), acc(n, 3)};
      Fragment d = mma(a, {bFrag[2 * half], bFrag[2 * half + 1]}, c);
      for (int64_t e = 0; e < 4; ++e)
        acc(n, e) = d[e];
    }
  }
  /// Two f32 values as one register of two 16-bit values, `low` first.
  Value pack(Value low, Value high) {
    std::string text = spec.elementType.isBF16()
                           ? "cvt.rn.bf16x2.f32 $0, $1, $2;"
                           : "cvt.rn.f16x2.f32 $0, $1, $2;";
    return ptx(text, "=r,f,f", {i32}, ValueRange{high, low}, false).front();
  }
  Value exp2(Value x) {
    return ptx("ex2.approx.ftz.f32 $0, $1;", "=f,f", {f32}, x, false).front();
  }
  Value log2(Value x) {
    return ptx("lg2.approx.f32 $0, $1;", "=f,f", {f32}, x, false).front();
  }
  Value tanh(Value x) {
    return ptx("tanh.approx.f32 $0, $1;", "=f,f", {f32}, x, false).front();
  }
  Value shuffleXor(Value x, int64_t laneMask) {
    return ptx("shfl.sync.bfly.b32 $0, $1, $2, 31, -1;", "=f,f,r", {f32},
               ValueRange{x, c32(laneMask)}, true)
        .front();
  }
  void barrier() { ptx("bar.sync 0;", "~{memory}", {}, {}, true); }
  void commitCopies() {
    ptx("cp.async.commit_group;", "~{memory}", {}, {}, true);
  }
  /// Waits until at most `pending` copy groups are in flight.
  void waitCopies(int64_t pending) {
    ptx("cp.async.wait_group " + std::to_string(pending) + ";", "~{memory}", {},
        {}, true);
  }

  /// Row, within the query tile, of value pair `half` (row g or g + 8) of
  /// this lane's mma tile `m`.
  Value threadRow(int64_t m, int64_t half) {
    return add(mul(warp, c32(rowsPerWarp)),
               add(quadRow, c32(m * 16 + 8 * half)));
  }

  /// Concatenates the tile tables into one constant global and sets the
  /// table offsets.
  void emitTables(gpu::GPUModuleOp module);
  /// Key tile of the i-th visited tile of this query tile: full tiles first,
  /// then partial ones.
  Value keyTileAt(Value position);

  OpBuilder &b;
  Location loc;
  const FlashKernelSpec &spec;
  MLIRContext *ctx;
  Type i1, i32, i64, f32, globalPtr;
  int64_t rowsPerWarp, mTiles, nTiles, dTiles, kSteps, rowBytes, chunksPerRow;

  // Kernel-wide values.
  Value tid, lane, warp, quadRow, quadCol, queryTile, head, kvHead, rowOffset;
  /// This thread's copy row, chunk and swizzled shared offset in a tile.
  Value copyRow, copyChunk, copyTarget;
  /// This query tile's visited key tiles are visitKTiles[visitBegin + i].
  Value visitBegin;
  Value tables;
  int64_t queryTileOrder = 0, visitOffsets = 0, visitKTiles = 0,
          visitPartial = 0;
  int64_t qTileBegins = 0, partialSliceOffsets = 0, partialSlices = 0,
          slices = 0;
};

void FlashKernelEmitter::emitTables(gpu::GPUModuleOp module) {
  std::vector<int32_t> values;
  auto append = [&](DenseElementsAttr table) {
    int64_t offset = values.size();
    for (APInt element : table.getValues<APInt>())
      values.push_back(static_cast<int32_t>(element.getSExtValue()));
    return offset;
  };
  qTileBegins = append(spec.qTileBegins);
  partialSliceOffsets = append(spec.partialSliceOffsets);
  partialSlices = append(spec.partialSlices);
  slices = append(spec.slices);

  // The key tiles each query tile visits, full ones first, in one list:
  // the key loop then reads one table with one base instead of choosing
  // between the full and the partial list every iteration.
  {
    auto read = [&](DenseElementsAttr table) {
      std::vector<int32_t> result;
      for (APInt element : table.getValues<APInt>())
        result.push_back(static_cast<int32_t>(element.getSExtValue()));
      return result;
    };
    std::vector<int32_t> fullOff = read(spec.fullOffsets),
                         fullList = read(spec.fullKTiles),
                         partialOff = read(spec.partialOffsets),
                         partialList = read(spec.partialKTiles);
    // visitPartial[v] is the partial-tile index of visit v (for its slice
    // list), or -1 for a full tile.
    std::vector<int32_t> visitOff = {0}, visitList, visitPartialList;
    for (int64_t tile = 0; tile < spec.numQTiles(); ++tile) {
      for (int32_t f = fullOff[tile]; f < fullOff[tile + 1]; ++f) {
        visitList.push_back(fullList[f]);
        visitPartialList.push_back(-1);
      }
      for (int32_t p = partialOff[tile]; p < partialOff[tile + 1]; ++p) {
        visitList.push_back(partialList[p]);
        visitPartialList.push_back(p);
      }
      visitOff.push_back(static_cast<int32_t>(visitList.size()));
    }
    visitOffsets = values.size();
    values.insert(values.end(), visitOff.begin(), visitOff.end());
    visitKTiles = values.size();
    values.insert(values.end(), visitList.begin(), visitList.end());
    visitPartial = values.size();
    values.insert(values.end(), visitPartialList.begin(),
                  visitPartialList.end());

    // Launch order: query tiles by visited key tiles, most first (stable).
    std::vector<int32_t> order(spec.numQTiles());
    std::iota(order.begin(), order.end(), 0);
    auto work = [&](int32_t tile) {
      return visitOff[tile + 1] - visitOff[tile];
    };
    std::stable_sort(order.begin(), order.end(), [&](int32_t x, int32_t y) {
      return work(x) > work(y);
    });
    queryTileOrder = values.size();
    values.insert(values.end(), order.begin(), order.end());
  }



  std::string name = spec.name + "_tables";
  int64_t count = values.size();
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    auto init = DenseElementsAttr::get(RankedTensorType::get({count}, i32),
                                       ArrayRef<int32_t>(values));
    LLVM::GlobalOp::create(b, loc, LLVM::LLVMArrayType::get(i32, count),
                           /*isConstant=*/true, LLVM::Linkage::Internal, name,
                           init, /*alignment=*/4, /*addrSpace=*/1);
  }
  tables = LLVM::AddressOfOp::create(b, loc, globalPtr, name);
}

void FlashKernelEmitter::copyTileAsync(Value sharedTile, Value global,
                                       Value firstRow, int64_t tileRows,
                                       Value headIndex, int64_t heads,
                                       int64_t limit) {
  // Thread t copies chunk (t mod chunksPerRow) of rows t / chunksPerRow +
  // c * rowsPerCopy; rowsPerCopy is a multiple of 8, so every copy of a
  // thread has the same swizzle and its addresses differ by constants.
  int64_t rowsPerCopy = spec.threads() / chunksPerRow;
  int64_t copies = tileRows / rowsPerCopy;
  // Offsets stay 32-bit where the whole buffer is under 2 GiB (shapes are
  // static), so no 64-bit per-lane offset lives across the key loop.
  bool narrow = limit * heads * spec.headDim * 2 < (int64_t(1) << 31);
  Value laneSource;
  if (narrow) {
    Value byteOffset = shl(
        add(mul(add(mul(firstRow, c32(heads)), headIndex), c32(spec.headDim)),
            add(mul(copyRow, c32(heads * spec.headDim)), shl(copyChunk, 3))),
        1);
    laneSource = byteAddress(
        global, arith::ExtUIOp::create(b, loc, i64, byteOffset).getResult());
  } else {
    Value tileElement =
        mul(add(mul(toI64(firstRow), toI64(c32(heads))), toI64(headIndex)),
            toI64(c32(spec.headDim)));
    Value laneElement =
        add(mul(toI64(copyRow), toI64(c32(heads * spec.headDim))),
            toI64(shl(copyChunk, 3)));
    laneSource =
        byteAddress(global, mul(add(tileElement, laneElement), toI64(c32(2))));
  }
  Value laneTarget = add(sharedTile, copyTarget);
  for (int64_t copy = 0; copy < copies; ++copy) {
    int64_t rowStep = copy * rowsPerCopy;
    Value row = add(firstRow, add(copyRow, c32(rowStep)));
    // Rows past the sequence are zero-filled (source size 0) from an
    // in-bounds address.
    Value inside = cmp(arith::CmpIPredicate::slt, row, c32(limit));
    Value source = select(
        inside,
        byteAddress(laneSource,
                    toI64(c32(rowStep * heads * spec.headDim * 2))),
        global);
    Value target = add(laneTarget, c32(rowStep * rowBytes));
    Value bytes = select(inside, c32(16), c32(0));
    ptx("cp.async.cg.shared.global [$0], [$1], 16, $2;", "r,l,r,~{memory}",
        {}, ValueRange{target, source, bytes}, true);
  }
}

Value FlashKernelEmitter::keyTileAt(Value position) {
  return loadTable(visitKTiles, add(visitBegin, position));
}

gpu::GPUFuncOp FlashKernelEmitter::emit(gpu::GPUModuleOp module) {
  SmallVector<Type> arguments(5, globalPtr);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  auto func = gpu::GPUFuncOp::create(b, loc, spec.name,
                                     FunctionType::get(ctx, arguments, {}));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({static_cast<int32_t>(spec.threads()), 1, 1}));
  Value query = func.getArgument(0), key = func.getArgument(1),
        value = func.getArgument(2), out = func.getArgument(3),
        lse = func.getArgument(4);

  // Dynamic shared memory, laid out by FlashKernelSpec.
  {
    OpBuilder::InsertionGuard moduleGuard(b);
    b.setInsertionPointToStart(module.getBody());
    if (!module.lookupSymbol("fattn_shared_memory"))
      LLVM::GlobalOp::create(
          b, loc, LLVM::LLVMArrayType::get(b.getI8Type(), 0),
          /*isConstant=*/false, LLVM::Linkage::External, "fattn_shared_memory",
          Attribute(), /*alignment=*/128, /*addrSpace=*/3);
  }

  Block &entry = func.getBody().front();
  b.setInsertionPointToStart(&entry);
  // A launch wider than the problem, or with less dynamic shared memory than
  // the tiles take (a hand-edited manifest), would read past the tables or
  // the shared buffers: such CTAs leave at once, and a short allocation
  // traps, which the runtime reports as a failed launch.
  ptx("{ .reg .pred past; .reg .u32 bytes, cta;\n"
      "mov.u32 cta, %ctaid.x;\n"
      "setp.ge.u32 past, cta, " + std::to_string(spec.headsQ) + ";\n"
      "@past exit;\n"
      "mov.u32 cta, %ctaid.y;\n"
      "setp.ge.u32 past, cta, " + std::to_string(spec.numQTiles()) + ";\n"
      "@past exit;\n"
      "mov.u32 bytes, %dynamic_smem_size;\n"
      "setp.lt.u32 past, bytes, " + std::to_string(spec.sharedBytes()) + ";\n"
      "@past trap; }",
      "", {}, {}, true);
  auto sharedPtr = LLVM::LLVMPointerType::get(ctx, 3);
  Value sharedBase = LLVM::PtrToIntOp::create(
      b, loc, i32,
      LLVM::AddressOfOp::create(b, loc, sharedPtr, "fattn_shared_memory"));
  int64_t kTileBytes = spec.keyTileBytes();
  Value querySmem = sharedBase;
  Value keySmem = add(sharedBase, c32(spec.keyBuffersOffset()));
  Value valueSmem = add(sharedBase, c32(spec.valueBuffersOffset()));
  Value rowSumSmem = add(sharedBase, c32(spec.rowSumsOffset()));

  auto indexToI32 = [&](Value index) {
    return arith::IndexCastOp::create(b, loc, i32, index).getResult();
  };
  // CTAs start in grid order, x fastest: blockIdx.x is the head and
  // blockIdx.y walks the query tiles from the most visited key tiles to the
  // fewest (longest-processing-time first), so that short tiles of every
  // head fill the tail of the grid.
  Value launchSlot = indexToI32(gpu::BlockIdOp::create(b, loc, gpu::Dimension::y));
  // Per-thread indices and addresses are cheap to rederive from %tid.x and
  // %ctaid.x, and holding them through the key loop costs registers the
  // accumulators need: they are recomputed at the top of every iteration
  // and in the epilogue (the special-register reads are volatile, so LLVM
  // does not hoist them back out of the loop).
  Value laneLow, laneMid, laneHigh, queryTerm, keyTerm, valueTerm;
  auto deriveThreadValues = [&]() {
    tid = ptx("mov.u32 $0, %tid.x;", "=r", {i32}, {}, true).front();
    head = ptx("mov.u32 $0, %ctaid.x;", "=r", {i32}, {}, true).front();
    lane = andi(tid, 31);
    warp = shr(tid, 5);
    quadRow = shr(lane, 2); // the mma "group": rows g and g + 8
    quadCol = andi(lane, 3); // columns 2t and 2t + 1 of each 8-wide tile
    kvHead = arith::DivUIOp::create(b, loc, head,
                                    c32(spec.headsQ / spec.headsK));
    copyRow = shr(tid, llvm::Log2_64(chunksPerRow));
    copyChunk = andi(tid, chunksPerRow - 1);
    copyTarget = add(mul(copyRow, c32(rowBytes)),
                     shl(xori(copyChunk, andi(copyRow, 7)), 4));
    // Per-lane ldmatrix row and chunk offsets; see the fragment layouts of
    // mma.m16n8k16 (A row-major, B column-major) in the PTX ISA. Every
    // ldmatrix row of this lane has (row & 7) == laneLow, and chunk 2j + hi
    // of it is stored at chunk (2j + hi) ^ laneLow = 2j ^ (hi ^ laneLow).
    // Tile bases and row offsets are multiples of 128 bytes, so one
    // per-lane term (row address | ((hi ^ laneLow) << 4)) serves every
    // k-step: XOR (j mod 4) * 32 and add (j / 4) * 128.
    laneLow = andi(lane, 7);
    laneMid = andi(shr(lane, 3), 1);
    laneHigh = shr(lane, 4);
    Value aRow =
        add(mul(warp, c32(rowsPerWarp)), add(laneLow, shl(laneMid, 3)));
    Value kRow = add(laneLow, shl(laneHigh, 3));
    Value vRow = add(laneLow, shl(laneMid, 3));
    auto laneTerm = [&](Value row, Value hi) {
      return add(mul(row, c32(rowBytes)), shl(xori(hi, laneLow), 4));
    };
    queryTerm = add(querySmem, laneTerm(aRow, laneHigh));
    keyTerm = laneTerm(kRow, laneMid);
    valueTerm = laneTerm(vRow, laneHigh);
  };
  deriveThreadValues();

  emitTables(module);
  queryTile = loadTable(queryTileOrder, launchSlot);
  // Query tiles may be shorter than blockQ (cut at slice boundaries): rows
  // past rowEnd are computed alongside but belong to the next tile.
  rowOffset = loadTable(qTileBegins, queryTile);

  Value nextQueryTile = add(queryTile, c32(1));
  visitBegin = loadTable(visitOffsets, queryTile);
  Value numVisited = sub(loadTable(visitOffsets, nextQueryTile), visitBegin);

  // K runs stages - 1 visits ahead of the computation and V stages - 2,
  // in `stages` K buffers and stages - 1 V buffers. Copy groups, in commit
  // order: K_0 (with the Q tile), then for t = 0, 1, ...: V_t, K_{t+1}. The
  // prologue commits t = 0 .. stages - 3, the iteration of visit i commits
  // t = i + stages - 2. A group is committed even when its visit is past the
  // last one, so that the counts the waits rely on never depend on the data.
  // (Running V as far ahead as K measured 2-4% slower at two stages.)
  auto bufferOf = [&](Value base, Value visit, int64_t buffers) {
    if (buffers == 1)
      return base;
    Value index = llvm::isPowerOf2_64(buffers)
                      ? andi(visit, buffers - 1)
                      : arith::RemUIOp::create(b, loc, visit, c32(buffers))
                            .getResult();
    return add(base, mul(index, c32(kTileBytes)));
  };
  auto copyVisit = [&](Value visit, bool isValue, bool surelyPresent) {
    auto emitCopy = [&]() {
      Value firstRow = mul(keyTileAt(visit), c32(spec.blockK));
      Value target = isValue ? bufferOf(valueSmem, visit, spec.stages - 1)
                             : bufferOf(keySmem, visit, spec.stages);
      copyTileAsync(target, isValue ? value : key, firstRow, spec.blockK,
                    kvHead, spec.headsK, spec.numK);
    };
    if (surelyPresent) {
      emitCopy();
    } else {
      Value present = cmp(arith::CmpIPredicate::slt, visit, numVisited);
      auto ifOp = scf::IfOp::create(b, loc, present, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard ifGuard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      emitCopy();
    }
    commitCopies();
  };
  copyTileAsync(querySmem, query, rowOffset, spec.blockQ, head, spec.headsQ,
                spec.numQ);
  copyVisit(c32(0), /*isValue=*/false, /*surelyPresent=*/false);
  for (int64_t t = 0; t + 2 < spec.stages; ++t) {
    copyVisit(c32(t), /*isValue=*/true, /*surelyPresent=*/false);
    copyVisit(c32(t + 1), /*isValue=*/false, /*surelyPresent=*/false);
  }

  // Loop-carried registers: accumulator [m][d][4], max [m][2], sum [m][2].
  Value negInf = cf32(-std::numeric_limits<double>::infinity());
  SmallVector<Value> initial;
  for (int64_t m = 0; m < mTiles; ++m)
    for (int64_t d = 0; d < dTiles; ++d)
      for (int64_t e = 0; e < 4; ++e)
        initial.push_back(cf32(0));
  int64_t accCount = initial.size();
  for (int64_t r = 0; r < 2 * mTiles; ++r)
    initial.push_back(negInf);
  // Row sums: slot r of thread t at rowSumSmem + (r * threads + t) * 4, so a
  // warp's accesses hit 32 consecutive words.
  auto sumAddress = [&](int64_t row) {
    return add(rowSumSmem, shl(add(tid, c32(row * spec.threads())), 2));
  };
  auto loadSum = [&](int64_t row) {
    return ptx("ld.shared.f32 $0, [$1];", "=f,r,~{memory}", {f32},
               sumAddress(row), true)
        .front();
  };
  auto storeSum = [&](int64_t row, Value value) {
    ptx("st.shared.f32 [$0], $1;", "r,f,~{memory}", {},
        ValueRange{sumAddress(row), value}, true);
  };
  for (int64_t r = 0; r < 2 * mTiles; ++r)
    storeSum(r, cf32(0));

  // Row steps are multiples of 128 bytes, so the XOR that picks the chunk
  // pair commutes with them: four XORed bases per lane term, every other
  // offset an immediate of the ldmatrix address. (XORing after the row
  // step left a distinct address register per fragment, and ptxas spilled.)
  auto chunkPairAddress = [&](Value term, int64_t pair, int64_t rowStep) {
    return add(xori(term, c32((pair % 4) * 32)),
               c32(rowStep * rowBytes + (pair / 4) * 128));
  };

  // Multiplies a score to get base-2 units: scale * log2(e), or 1 when the
  // softcap already produced base-2 scores. Max and sum stay in score units.
  Value scoreScale = cf32(spec.softcap ? 1.0 : spec.scale * M_LOG2E);
  auto loop = scf::ForOp::create(b, loc, c32(0), numVisited, c32(1), initial);
  {
    OpBuilder::InsertionGuard loopGuard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value position = loop.getInductionVar();
    ValueRange carried = loop.getRegionIterArgs();
    SmallVector<Value> acc(carried.begin(), carried.begin() + accCount);
    SmallVector<Value> rowMax(carried.begin() + accCount, carried.end());

    auto accAt = [&](int64_t m, int64_t d, int64_t e) -> Value & {
      return acc[(m * dTiles + d) * 4 + e];
    };

    deriveThreadValues();
    Value keyStageTerm = add(bufferOf(keySmem, position, spec.stages), keyTerm);
    Value valueStageTerm =
        add(bufferOf(valueSmem, position, spec.stages - 1), valueTerm);
    Value colOffset = mul(keyTileAt(position), c32(spec.blockK));

    // K_i has landed (the groups after it, V_i .. K_{i+stages-2}, may be in
    // flight), and every warp is done with iteration i - 1, whose buffers
    // V_{i+stages-2} and K_{i+stages-1} now take.
    waitCopies(2 * spec.stages - 4);
    barrier();
    copyVisit(add(position, c32(spec.stages - 2)), /*isValue=*/true,
              /*surelyPresent=*/spec.stages == 2);
    copyVisit(add(position, c32(spec.stages - 1)), /*isValue=*/false,
              /*surelyPresent=*/false);

    // S = Q K^T for this warp's rows.
    SmallVector<Value> scores(mTiles * nTiles * 4);
    auto scoreAt = [&](int64_t m, int64_t n, int64_t e) -> Value & {
      return scores[(m * nTiles + n) * 4 + e];
    };
    for (Value &s : scores)
      s = cf32(0);
    for (int64_t k = 0; k < kSteps; ++k) {
      SmallVector<Fragment> aFrags;
      for (int64_t m = 0; m < mTiles; ++m)
        aFrags.push_back(loadMatrix(
            chunkPairAddress(queryTerm, k, m * 16), false));
      for (int64_t np = 0; np < nTiles / 2; ++np) {
        Fragment bFrag = loadMatrix(
            chunkPairAddress(keyStageTerm, k, np * 16), false);
        for (int64_t m = 0; m < mTiles; ++m)
          mmaPair(aFrags[m], bFrag, 2 * np,
                  [&](int64_t n, int64_t e) -> Value & {
                    return scoreAt(m, n, e);
                  });
      }
    }

    // Soft-capped scores go to base 2 here; plain ones stay raw and meet
    // scoreScale inside the exponent (one FFMA per score).
    if (spec.softcap)
      for (Value &s : scores) {
        Value capped = tanh(fmul(s, cf32(spec.scale / *spec.softcap)));
        s = fmul(capped, cf32(*spec.softcap * M_LOG2E));
      }

    // Partial tiles only: keep the cells one of the tile's slices attends.
    Value partial = loadTable(visitPartial, add(visitBegin, position));
    Value isPartial = cmp(arith::CmpIPredicate::sge, partial, c32(0));
    {
      auto ifOp = scf::IfOp::create(b, loc, TypeRange(ValueRange(scores)),
                                    isPartial, /*withElseRegion=*/true);
      OpBuilder::InsertionGuard ifGuard(b);
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      scf::YieldOp::create(b, loc, scores);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());

      Value idsBegin = loadTable(partialSliceOffsets, partial);
      Value idsEnd = loadTable(partialSliceOffsets, add(partial, c32(1)));
      // The tile's first row is reloaded rather than kept in a register
      // through the whole key loop.
      Value tileRow = loadTable(qTileBegins, queryTile);
      SmallVector<Value> rows;
      for (int64_t m = 0; m < mTiles; ++m)
        for (int64_t h = 0; h < 2; ++h)
          rows.push_back(add(tileRow, threadRow(m, h)));
      Value colBase = add(colOffset, shl(quadCol, 1));
      using P = arith::CmpIPredicate;

      // Keys [lo, lo + width) that slice `id` attends, row by row, by the
      // mask library's formula (mask::rowKeys); the per-slice terms fold
      // into one computation per slice after CSE.
      struct SliceFields {
        Value qBegin, qEnd, kBegin, kEnd, kind;
      };
      auto sliceFields = [&](Value id) {
        Value fields = mul(id, c32(5));
        return SliceFields{loadTable(slices, fields),
                           loadTable(slices, add(fields, c32(1))),
                           loadTable(slices, add(fields, c32(2))),
                           loadTable(slices, add(fields, c32(3))),
                           loadTable(slices, add(fields, c32(4)))};
      };
      auto rowInterval = [&](const SliceFields &t, Value row) {
        Value inRows = arith::AndIOp::create(b, loc, cmp(P::sge, row, t.qBegin),
                                             cmp(P::slt, row, t.qEnd));
        ::fattn::mask::KeyBounds<Value> keys =
            ::fattn::mask::rowKeys(ArithRowKeys(b, loc), t.kind, row,
                                   t.qBegin, t.qEnd, t.kBegin, t.kEnd);
        Value width =
            arith::MaxSIOp::create(b, loc, sub(keys.end, keys.begin), c32(0));
        return std::make_pair(keys.begin, select(inRows, width, c32(0)));
      };
      // col in [lo, lo + width) as one unsigned compare.
      auto attends = [&](std::pair<Value, Value> interval, int64_t n,
                         int64_t j) {
        Value col = add(colBase, c32(n * 8 + j));
        return cmp(P::ult, sub(col, interval.first), interval.second);
      };

      // Most partial tiles meet one slice: test its interval directly. Tiles
      // on slice boundaries OR the slices' intervals into per-row bit sets.
      Value singleSlice =
          cmp(P::eq, sub(idsEnd, idsBegin), c32(1));
      auto maskIf = scf::IfOp::create(b, loc, TypeRange(ValueRange(scores)),
                                      singleSlice, /*withElseRegion=*/true);
      b.setInsertionPointToStart(&maskIf.getThenRegion().front());
      {
        SliceFields terms = sliceFields(loadTable(partialSlices, idsBegin));
        SmallVector<Value> masked(scores);
        for (int64_t m = 0; m < mTiles; ++m)
          for (int64_t h = 0; h < 2; ++h) {
            auto interval = rowInterval(terms, rows[m * 2 + h]);
            for (int64_t n = 0; n < nTiles; ++n)
              for (int64_t j = 0; j < 2; ++j) {
                Value &s = masked[(m * nTiles + n) * 4 + 2 * h + j];
                s = select(attends(interval, n, j), s, negInf);
              }
          }
        scf::YieldOp::create(b, loc, masked);
      }
      b.setInsertionPointToStart(&maskIf.getElseRegion().front());
      SmallVector<Value> bitsInit(rows.size(), c32(0));
      auto sliceLoop =
          scf::ForOp::create(b, loc, idsBegin, idsEnd, c32(1), bitsInit);
      {
        OpBuilder::InsertionGuard sliceGuard(b);
        b.setInsertionPointToStart(sliceLoop.getBody());
        SliceFields terms =
            sliceFields(loadTable(partialSlices, sliceLoop.getInductionVar()));
        SmallVector<Value> bits;
        for (int64_t r = 0, e = rows.size(); r < e; ++r) {
          Value rowBits = sliceLoop.getRegionIterArgs()[r];
          auto interval = rowInterval(terms, rows[r]);
          for (int64_t n = 0; n < nTiles; ++n)
            for (int64_t j = 0; j < 2; ++j) {
              Value bit = shl(arith::ExtUIOp::create(
                                  b, loc, i32, attends(interval, n, j)),
                              2 * n + j);
              rowBits = arith::OrIOp::create(b, loc, rowBits, bit);
            }
          bits.push_back(rowBits);
        }
        scf::YieldOp::create(b, loc, bits);
      }
      SmallVector<Value> masked(scores);
      for (int64_t m = 0; m < mTiles; ++m)
        for (int64_t h = 0; h < 2; ++h) {
          Value rowBits = sliceLoop.getResult(m * 2 + h);
          for (int64_t n = 0; n < nTiles; ++n)
            for (int64_t j = 0; j < 2; ++j) {
              Value bit = andi(shr(rowBits, 2 * n + j), 1);
              Value keep = cmp(arith::CmpIPredicate::ne, bit, c32(0));
              Value &s = masked[(m * nTiles + n) * 4 + 2 * h + j];
              s = select(keep, s, negInf);
            }
        }
      scf::YieldOp::create(b, loc, masked);
      b.setInsertionPointAfter(maskIf);
      masked.assign(maskIf.getResults().begin(), maskIf.getResults().end());
      scf::YieldOp::create(b, loc, masked);
      b.setInsertionPointAfter(ifOp);
      for (auto [index, s] : llvm::enumerate(scores))
        s = ifOp.getResult(index);
    }

    // Online softmax: rows g and g + 8 of each mma tile live in one quad.
    for (int64_t m = 0; m < mTiles; ++m)
      for (int64_t h = 0; h < 2; ++h) {
        Value localMax = negInf;
        for (int64_t n = 0; n < nTiles; ++n)
          for (int64_t j = 0; j < 2; ++j)
            localMax = fmax(localMax, scoreAt(m, n, 2 * h + j));
        localMax = fmax(localMax, shuffleXor(localMax, 1));
        localMax = fmax(localMax, shuffleXor(localMax, 2));
        Value &runningMax = rowMax[m * 2 + h];
        Value newMax = fmax(runningMax, localMax);
        // A row that has seen only -inf subtracts 0, not -inf.
        Value stillEmpty = arith::CmpFOp::create(
            b, loc, arith::CmpFPredicate::OEQ, newMax, negInf);
        Value pivot =
            select(stillEmpty, cf32(0), fmul(newMax, scoreScale));
        Value negPivot = fneg(pivot);
        Value alpha = exp2(fma(runningMax, scoreScale, negPivot));
        Value localSum = cf32(0);
        for (int64_t n = 0; n < nTiles; ++n)
          for (int64_t j = 0; j < 2; ++j) {
            Value &s = scoreAt(m, n, 2 * h + j);
            s = exp2(fma(s, scoreScale, negPivot));
            localSum = fadd(localSum, s);
          }
        storeSum(m * 2 + h, fma(loadSum(m * 2 + h), alpha, localSum));
        runningMax = newMax;
        for (int64_t d = 0; d < dTiles; ++d)
          for (int64_t j = 0; j < 2; ++j)
            accAt(m, d, 2 * h + j) = fmul(accAt(m, d, 2 * h + j), alpha);
      }

    // V_i has landed (K_{i+1} .. K_{i+stages-1} and V_{i+1} ..
    // V_{i+stages-2} may still be in flight).
    waitCopies(2 * spec.stages - 3);
    barrier();

    // acc += P V: the score accumulators are already in the A layout.
    for (int64_t kb = 0; kb < nTiles / 2; ++kb) {
      SmallVector<Fragment> aFrags;
      for (int64_t m = 0; m < mTiles; ++m)
        aFrags.push_back(
            {pack(scoreAt(m, 2 * kb, 0), scoreAt(m, 2 * kb, 1)),
             pack(scoreAt(m, 2 * kb, 2), scoreAt(m, 2 * kb, 3)),
             pack(scoreAt(m, 2 * kb + 1, 0), scoreAt(m, 2 * kb + 1, 1)),
             pack(scoreAt(m, 2 * kb + 1, 2), scoreAt(m, 2 * kb + 1, 3))});
      for (int64_t dp = 0; dp < dTiles / 2; ++dp) {
        Fragment bFrag = loadMatrix(
            chunkPairAddress(valueStageTerm, dp, kb * 16), true);
        for (int64_t m = 0; m < mTiles; ++m)
          mmaPair(aFrags[m], bFrag, 2 * dp,
                  [&](int64_t d, int64_t e) -> Value & {
                    return accAt(m, d, e);
                  });
      }
    }

    SmallVector<Value> yielded(acc);
    yielded.append(rowMax);

    scf::YieldOp::create(b, loc, yielded);
  }
  waitCopies(0);

  deriveThreadValues();
  queryTile = loadTable(
      queryTileOrder,
      ptx("mov.u32 $0, %ctaid.y;", "=r", {i32}, {}, true).front());
  // Epilogue: normalize and store the rows this thread holds. The tile's end
  // is loaded only now so that it holds no register through the key loop.
  Value tileRowAfterLoop = loadTable(qTileBegins, queryTile);
  Value rowEnd = loadTable(qTileBegins, add(queryTile, c32(1)));
  Value ln2 = cf32(M_LN2);
  for (int64_t m = 0; m < mTiles; ++m)
    for (int64_t h = 0; h < 2; ++h) {
      Value sum = loadSum(m * 2 + h);
      Value max = loop.getResult(accCount + m * 2 + h);
      sum = fadd(sum, shuffleXor(sum, 1));
      sum = fadd(sum, shuffleXor(sum, 2));
      Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                          sum, cf32(0));
      Value inverse = select(empty, cf32(0),
                             arith::DivFOp::create(b, loc, cf32(1), sum));
      Value row = add(tileRowAfterLoop, threadRow(m, h));
      Value inside = cmp(arith::CmpIPredicate::slt, row, rowEnd);
      auto ifOp = scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard ifGuard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      Value rowElement =
          mul(add(mul(toI64(row), toI64(c32(spec.headsQ))), toI64(head)),
              toI64(c32(spec.headDim)));
      for (int64_t d = 0; d < dTiles; ++d) {
        Value low = fmul(loop.getResult((m * dTiles + d) * 4 + 2 * h), inverse);
        Value high =
            fmul(loop.getResult((m * dTiles + d) * 4 + 2 * h + 1), inverse);
        Value element =
            add(rowElement, toI64(add(c32(d * 8), shl(quadCol, 1))));
        Value address = byteAddress(out, mul(element, toI64(c32(2))));
        LLVM::StoreOp::create(b, loc, pack(low, high), address, /*alignment=*/4);
      }
      Value lseValue = select(
          empty, negInf, fmul(fma(max, scoreScale, log2(sum)), ln2));
      Value isQuadLeader = cmp(arith::CmpIPredicate::eq, quadCol, c32(0));
      auto leader =
          scf::IfOp::create(b, loc, isQuadLeader, /*withElseRegion=*/false);
      b.setInsertionPointToStart(&leader.getThenRegion().front());
      Value lseIndex = add(mul(toI64(row), toI64(c32(spec.headsQ))), toI64(head));
      Value lseAddress = LLVM::GEPOp::create(b, loc, globalPtr, f32, lse,
                                             ArrayRef<LLVM::GEPArg>{lseIndex});
      LLVM::StoreOp::create(b, loc, lseValue, lseAddress, /*alignment=*/4);
    }
  gpu::ReturnOp::create(b, loc);
  return func;
}

} // namespace

gpu::GPUFuncOp mlir::fattn::emitFlashKernel(OpBuilder &builder,
                                            gpu::GPUModuleOp module,
                                            const FlashKernelSpec &spec) {
  return FlashKernelEmitter(builder, module.getLoc(), spec).emit(module);
}
