//===- MapTilesToGpu.cpp - Tiled attention to tensor-core kernels ---------===//
//
// Reads the kernel spec off the tiled form (parameters, tile sizes, tile
// tables), has Gpu/TileOpsToGpu lower the loop nest op by op into a kernel
// through the chip's target builders, and replaces the scf.forall by the
// kernel's launch. Tiles and masking stay exactly as fattn-tile-attention
// decided them.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/FattnOps.h"
#include "FlashDialect/Gpu/TileOpsToGpu.h"
#include "FlashDialect/GpuKernel.h"
#include "FlashDialect/GpuTarget.h"
#include "FlashDialect/Mask/Schedule.h"
#include "FlashDialect/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringExtras.h"

namespace mlir::fattn {
#define GEN_PASS_DEF_FATTNMAPTILESTOGPU
#include "FlashDialect/Passes.h.inc"
} // namespace mlir::fattn

using namespace mlir;
using namespace mlir::fattn;
using mlir::fattn::codegen::tileBufferOf;

namespace {

constexpr StringLiteral kKernelModuleName = "fattn_kernels";

/// What fattn-map-tiles-to-gpu needs from one tiled attention.
struct TiledAttention {
  scf::ForallOp forall;
  FlashKernelSpec spec;
  /// A run-time mask's plan; null for a static schedule.
  TileScheduleOp schedule;
  /// Its scale and softcap, which a run-time kernel takes as parameters.
  TileScoresOp scores;
};

/// The run-time plan the nest's tile_mask reads its slices from, or null.
TileScheduleOp findRuntimeSchedule(scf::ForallOp forall) {
  TileScheduleOp schedule;
  forall.walk([&](TileMaskOp mask) {
    if (!schedule)
      schedule = mask.getSliceTable().getDefiningOp<TileScheduleOp>();
  });
  return schedule;
}

FailureOr<TiledAttention> matchTiledAttention(scf::ForallOp forall,
                                              SymbolTable &symbols) {
  TileScoresOp scores;
  TileAccumulateOp accumulate;
  TileFinalizeOp finalize;
  forall.walk([&](Operation *op) {
    if (auto s = dyn_cast<TileScoresOp>(op); s && !scores)
      scores = s;
    if (auto a = dyn_cast<TileAccumulateOp>(op); a && !accumulate)
      accumulate = a;
    if (auto f = dyn_cast<TileFinalizeOp>(op); f && !finalize)
      finalize = f;
  });
  if (!scores || !accumulate || !finalize)
    return forall.emitError("expected the loop nest made by fattn-tile-attention");

  TiledAttention tiled;
  tiled.forall = forall;
  tiled.scores = scores;
  FlashKernelSpec &spec = tiled.spec;
  // The kernel's parameters, in argument order, by the operand each tile op
  // reads or writes.
  using Role = KernelParamRole;
  spec.parameters = {{"q", Role::Input, tileBufferOf(scores.getQuery())},
                     {"k", Role::Input, tileBufferOf(scores.getKey())},
                     {"v", Role::Input, tileBufferOf(accumulate.getValue())},
                     {"out", Role::Output, tileBufferOf(finalize.getOut())},
                     {"lse", Role::Output, tileBufferOf(finalize.getLse())}};
  auto scoresBuffer =
      tileBufferOf(scores.getScores()).getDefiningOp<memref::AllocaOp>();
  if (!scoresBuffer)
    return forall.emitError("expected the score tile to be a memref.alloca");

  auto queryType = cast<MemRefType>(spec.parameters[0].memref.getType());
  auto keyType = cast<MemRefType>(spec.parameters[1].memref.getType());
  spec.elementType = queryType.getElementType();
  spec.numQ = queryType.getDimSize(0);
  spec.headsQ = queryType.getDimSize(1);
  spec.headDim = queryType.getDimSize(2);
  spec.numK = keyType.getDimSize(0);
  spec.headsK = keyType.getDimSize(1);
  spec.blockQ = scoresBuffer.getType().getDimSize(0);
  spec.blockK = scoresBuffer.getType().getDimSize(1);

  auto keyEdge = forall->getAttrOfType<StringAttr>(kKeyEdgeAttrName);
  if ((ShapedType::isDynamic(spec.numK) || spec.numK % spec.blockK != 0) &&
      (!keyEdge || keyEdge != "whole"))
    return forall.emitError("GPU kernels compute whole key tiles, but key "
                            "length ")
           << spec.numK << " is not a multiple of block-k " << spec.blockK
           << " and the tiles were classified clipped: tile with "
              "whole-key-tiles=1";

  // The tables, by the role fattn-tile-attention recorded on the loop.
  auto tableSymbols = forall->getAttrOfType<DictionaryAttr>(kTileTablesAttrName);
  if (!tableSymbols) {
    tiled.schedule = findRuntimeSchedule(forall);
    if (!tiled.schedule)
      return forall.emitError("expected the tile tables of "
                              "fattn-tile-attention or a fattn.tile_schedule");
    return tiled;
  }
  llvm::StringMap<DenseElementsAttr> tables;
  for (NamedAttribute entry : tableSymbols) {
    auto symbol = dyn_cast<FlatSymbolRefAttr>(entry.getValue());
    auto global =
        symbol ? symbols.lookup<memref::GlobalOp>(symbol.getValue()) : nullptr;
    if (global && global.getInitialValue())
      tables[entry.getName().getValue()] =
          cast<DenseElementsAttr>(*global.getInitialValue());
  }
  auto table = [&](StringRef role, DenseElementsAttr &into) -> LogicalResult {
    into = tables.lookup(role);
    if (!into)
      return forall.emitError("missing tile table '") << role << "'";
    return success();
  };
  if (failed(table("q_tile_begins", spec.qTileBegins)) ||
      failed(table("item_offsets", spec.itemOffsets)) ||
      failed(table("item_slices", spec.itemSlices)) ||
      failed(table("item_k_tiles", spec.itemKTiles)) ||
      failed(table("item_visit_offsets", spec.itemVisitOffsets)) ||
      failed(table("slices", spec.slices)))
    return failure();
  return tiled;
}

gpu::GPUModuleOp getOrCreateKernelModule(ModuleOp module, StringRef chip,
                                         StringRef features) {
  if (auto existing = module.lookupSymbol<gpu::GPUModuleOp>(kKernelModuleName))
    return existing;
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto target = NVVM::NVVMTargetAttr::get(module.getContext(), /*optLevel=*/3,
                                          "nvptx64-nvidia-cuda", chip, features);
  auto gpuModule = gpu::GPUModuleOp::create(b, module.getLoc(),
                                            kKernelModuleName,
                                            b.getArrayAttr({target}));
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  b.getUnitAttr());
  return gpuModule;
}

/// `name` with every character PTX identifiers (and the manifest) cannot
/// hold replaced by '_': a function may be called @"a b" or @"a.b", and
/// NVPTX aborts on names it cannot print.
std::string ptxIdentifier(StringRef name) {
  std::string identifier;
  for (char c : name)
    identifier += llvm::isAlnum(c) || c == '_' ? c : '_';
  return identifier;
}

/// What a run-time kernel takes from each call besides its mask: the token
/// counts (where the program leaves them dynamic) and the head counts, as
/// extents of q, k, v, out and lse (their dimensions 0 and 1), and the head
/// counts, scale and softcap as scalars after the plan's. The launch in the
/// program passes the program's own values.
void addCallParams(OpBuilder &b, TiledAttention &tiled) {
  namespace Plan = ::fattn::runtime::plan_param;
  namespace Call = ::fattn::runtime::call_param;
  FlashKernelSpec &spec = tiled.spec;
  for (KernelParam &param : spec.parameters) {
    if (param.role != KernelParamRole::Input &&
        param.role != KernelParamRole::Output)
      continue;
    auto type = cast<MemRefType>(param.memref.getType());
    bool keys = param.name == "k" || param.name == "v";
    SmallVector<int64_t> shape(type.getShape());
    param.dynamicExtents.clear();
    // A token count the program fixes stays fixed (the kernel computes with
    // the constant; the runtime refuses other counts).
    if (ShapedType::isDynamic(shape[0]))
      param.dynamicExtents.push_back(keys ? Plan::kNumK : Plan::kNumQ);
    shape[1] = ShapedType::kDynamic;
    param.dynamicExtents.push_back(keys ? Call::kHeadsK : Call::kHeadsQ);
    param.kernelType = MemRefType::get(shape, type.getElementType());
  }
  Location loc = tiled.forall.getLoc();
  auto index = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(b, loc, value);
  };
  auto f32 = [&](const APFloat &value) -> Value {
    return arith::ConstantOp::create(
        b, loc, b.getF32FloatAttr(float(value.convertToDouble())));
  };
  using Role = KernelParamRole;
  spec.parameters.push_back(
      {Call::kHeadsQ, Role::Scalar, index(spec.headsQ), {}, {}});
  spec.parameters.push_back(
      {Call::kHeadsK, Role::Scalar, index(spec.headsK), {}, {}});
  spec.parameters.push_back(
      {Call::kScale, Role::Scalar, f32(tiled.scores.getScale()), {}, {}});
  if (std::optional<APFloat> softcap = tiled.scores.getSoftcap())
    spec.parameters.push_back(
        {Call::kSoftcap, Role::Scalar, f32(*softcap), {}, {}});
}

/// A run-time mask's kernel parameters after q, k, v, out and lse: the
/// records of fattn.kernel_schedule, planned on the host side of the
/// launch, and the token counts and slot count; the launch's grid y is the
/// slot count.
Value addRuntimeScheduleParams(OpBuilder &b, TiledAttention &tiled) {
  TileScheduleOp plan = tiled.schedule;
  FlashKernelSpec &spec = tiled.spec;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(plan);
  auto table = [&](int64_t columns) {
    SmallVector<int64_t> shape{ShapedType::kDynamic};
    if (columns)
      shape.push_back(columns);
    return MemRefType::get(shape, b.getI32Type());
  };
  using Records = ::fattn::mask::KernelScheduleTables;
  namespace Plan = ::fattn::runtime::plan_param;
  auto records = KernelScheduleOp::create(
      b, plan.getLoc(), table(Records::kSlotFields),
      table(Records::kItemFields), table(0),
      table(::fattn::mask::kSliceFields), b.getIndexType(),
      plan.getQRanges(), plan.getKRanges(), plan.getKinds(), plan.getNumQ(),
      plan.getNumK(), plan.getBlockQ(), plan.getBlockK(),
      plan.getWholeKeyTiles(), plan.getAlignQueryTiles(),
      spec.runtimeSchedule->maxItemsPerTile);
  std::pair<const char *, Value> schedule[] = {
      {Plan::kSlots, records.getSlots()},
      {Plan::kItems, records.getItems()},
      {Plan::kItemSlices, records.getItemSlices()},
      {Plan::kSlices, records.getSlices()}};
  std::pair<const char *, Value> scalars[] = {
      {Plan::kNumQ, plan.getNumQ()},
      {Plan::kNumK, plan.getNumK()},
      {Plan::kNumSlots, records.getNumSlots()}};
  using Role = KernelParamRole;
  for (auto [name, value] : schedule)
    spec.parameters.push_back({name, Role::Schedule, value, {}, {}});
  for (auto [name, value] : scalars)
    spec.parameters.push_back({name, Role::Scalar, value, {}, {}});
  addCallParams(b, tiled);
  return records.getNumSlots();
}

/// Global pointer to a memref's first element, as the kernel takes it.
Value globalPointer(OpBuilder &b, Location loc, Value memref) {
  Value address =
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), address);
  return LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext(), 1), asInt);
}

struct FattnMapTilesToGpuPass
    : public mlir::fattn::impl::FattnMapTilesToGpuBase<FattnMapTilesToGpuPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Before anything reaches NVPTX, which aborts on a chip it cannot pair
    // with the PTX version.
    GpuTarget target;
    if (std::optional<std::string> problem =
            resolveGpuTarget(chip, features, target)) {
      module.emitError("fattn-map-tiles-to-gpu: ") << *problem;
      return signalPassFailure();
    }
    if (std::optional<std::string> problem =
            checkWarpsAndStages(warps, stages)) {
      module.emitError("fattn-map-tiles-to-gpu: ") << *problem;
      return signalPassFailure();
    }
    // The backward's loops have no kernel yet; left alone they would run
    // on the host inside a GPU pipeline.
    WalkResult backward = module.walk([&](Operation *op) {
      if (!isa<TileProbabilitiesOp, TileScoreGradsOp,
               TileAccumulateTransposedOp>(op))
        return WalkResult::advance();
      op->emitError("fattn.attention_grad has no GPU kernel yet (the CPU "
                    "pipeline, fattn-to-llvm, runs it; docs/backward.md)");
      return WalkResult::interrupt();
    });
    if (backward.wasInterrupted())
      return signalPassFailure();
    SymbolTable symbols(module);
    SmallVector<scf::ForallOp> tiledLoops;
    module.walk([&](scf::ForallOp forall) {
      if (forall->hasAttr(kKeyEdgeAttrName))
        tiledLoops.push_back(forall);
    });
    for (auto [index, forall] : llvm::enumerate(tiledLoops)) {
      FailureOr<TiledAttention> tiled = matchTiledAttention(forall, symbols);
      if (failed(tiled))
        return signalPassFailure();
      FlashKernelSpec &spec = tiled->spec;
      OpBuilder b(forall);
      Value runtimeSlots;
      if (tiled->schedule) {
        spec.runtimeSchedule =
            RuntimeScheduleSpec{maxItemsPerTile, carryKeyRows};
        runtimeSlots = addRuntimeScheduleParams(b, *tiled);
      }
      spec.warps = warps;
      spec.stages = stages;
      spec.target = target;
      spec.name = "fattn_attention_" + std::to_string(index);
      if (auto func = forall->getParentOfType<FunctionOpInterface>())
        spec.name = "fattn_" + ptxIdentifier(func.getName()) + "_" +
                    std::to_string(index);
      if (std::optional<std::string> problem = checkFlashKernelSpec(spec)) {
        forall.emitError("cannot map to the GPU: ") << *problem;
        return signalPassFailure();
      }

      gpu::GPUModuleOp kernels =
          getOrCreateKernelModule(module, target.chip, target.features);
      FailureOr<gpu::GPUFuncOp> kernel =
          mlir::fattn::codegen::lowerTiledAttention(forall, spec, kernels);
      if (failed(kernel))
        return signalPassFailure();

      Location loc = forall.getLoc();
      SmallVector<Value> operands;
      for (const KernelParam &param : spec.parameters)
        operands.push_back(
            !param.isScalar() ? globalPointer(b, loc, param.memref)
            : param.memref.getType().isIndex()
                ? arith::IndexCastOp::create(b, loc, b.getI32Type(),
                                             param.memref)
                      .getResult()
                : param.memref);
      auto constant = [&](int64_t value) -> Value {
        return arith::ConstantIndexOp::create(b, loc, value);
      };
      gpu::KernelDim3 grid{constant(spec.headsQ),
                           runtimeSlots ? runtimeSlots
                                        : constant(spec.numQTiles()),
                           constant(1)};
      gpu::KernelDim3 block{constant(spec.threads()), constant(1), constant(1)};
      Value sharedBytes = arith::ConstantIntOp::create(
          b, loc, b.getI32Type(), spec.sharedBytes());
      auto launch = gpu::LaunchFuncOp::create(b, loc, *kernel, grid, block,
                                              sharedBytes, operands);
      launch->setAttr(kKernelParamsAttrName,
                      describeKernelParams(b.getContext(), spec.parameters));
      forall.erase();
      if (tiled->schedule && tiled->schedule->use_empty())
        tiled->schedule.erase();
    }

    // The host-side tables are dead once their loops are gone.
    SmallVector<Operation *> dead;
    module.walk([&](memref::GetGlobalOp getGlobal) {
      if (getGlobal->use_empty())
        dead.push_back(getGlobal);
    });
    for (Operation *op : dead)
      op->erase();
    SmallVector<memref::GlobalOp> globals(module.getOps<memref::GlobalOp>());
    for (memref::GlobalOp global : globals)
      if (global->hasAttr(kTileTableAttrName) &&
          SymbolTable::symbolKnownUseEmpty(global, module))
        global.erase();
  }
};

} // namespace
