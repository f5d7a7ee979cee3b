//===- GpuKernel.cpp - What a tensor-core attention kernel accepts --------===//

#include "FlashDialect/GpuKernel.h"
#include "FlashDialect/Limits.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <algorithm>
#include <vector>

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

/// The tables come from fattn-tile-attention, but a hand-written nest is
/// checked as strictly as a run-time schedule: every index the kernel reads
/// through them must stay inside them and inside the key and value tiles.
static std::optional<std::string> checkTileTables(const FlashKernelSpec &spec) {
  auto read = [](DenseElementsAttr table) {
    std::vector<int64_t> values;
    if (table)
      for (APInt element : table.getValues<APInt>())
        values.push_back(element.getSExtValue());
    return values;
  };
  std::vector<int64_t> begins = read(spec.qTileBegins),
                       itemOffsets = read(spec.itemOffsets),
                       itemSlices = read(spec.itemSlices),
                       kTiles = read(spec.itemKTiles),
                       visitOffsets = read(spec.itemVisitOffsets),
                       slices = read(spec.slices);
  int64_t numQTiles = int64_t(begins.size()) - 1;
  if (numQTiles < 0 || itemOffsets.size() != begins.size() ||
      itemOffsets.front() != 0 ||
      !std::is_sorted(itemOffsets.begin(), itemOffsets.end()) ||
      !std::is_sorted(begins.begin(), begins.end()) || begins.front() != 0 ||
      begins.back() != spec.numQ)
    return std::string("the query tiles' tables must have one entry per "
                       "query tile plus one, ascending from 0 (to the query "
                       "length for q_tile_begins)");
  int64_t items = itemOffsets.back();
  int64_t numSlices = int64_t(slices.size()) / 5;
  int64_t numKTiles = (spec.numK + spec.blockK - 1) / spec.blockK;
  if (int64_t(itemSlices.size()) < items ||
      int64_t(kTiles.size()) < 4 * items ||
      int64_t(visitOffsets.size()) < items + 1 || visitOffsets.front() != 0)
    return std::string("the work-item tables must hold every item that "
                       "item_offsets lists");
  for (int64_t i = 0; i < items; ++i) {
    const int64_t *t = &kTiles[4 * i];
    if (itemSlices[i] < 0 || itemSlices[i] >= numSlices || t[0] < 0 ||
        t[0] > t[1] || t[1] > t[2] || t[2] > t[3] || t[3] > numKTiles ||
        t[0] == t[3] || visitOffsets[i + 1] - visitOffsets[i] != t[3] - t[0])
      return "work item " + std::to_string(i) +
             " names a slice or key tiles outside the tables, or visits that "
             "do not match its key tiles";
  }
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
  // Every cp.async of a thread shares one swizzle only when the rows one
  // pass of the CTA copies are a multiple of the swizzle's period of 8.
  if ((spec.threads() / chunks) % 8 != 0)
    return "warps " + std::to_string(spec.warps) + " x 32 threads copy " +
           std::to_string(spec.threads() / chunks) +
           " rows of head dim " + std::to_string(spec.headDim) +
           " at a time; the swizzled copies need a multiple of 8 (use " +
           std::to_string(8 * chunks / 32) + " warps or a multiple)";
  if (spec.runtimeSchedule) {
    if (spec.runtimeSchedule->maxItemsPerTile < 1 ||
        spec.runtimeSchedule->maxItemsPerTile >
            ::fattn::limits::kMaxItemsPerTile)
      return text("max-items-per-tile must be in [1, 2^20], got",
                  spec.runtimeSchedule->maxItemsPerTile);
  } else if (std::optional<std::string> problem = checkTileTables(spec)) {
    return problem;
  }
  if (spec.sharedBytes() > spec.target.maxSharedBytes)
    return "tiles need " + std::to_string(spec.sharedBytes()) +
           " bytes of shared memory, more than the " +
           std::to_string(spec.target.maxSharedBytes) + " a CTA has on " +
           spec.target.chip;
  if (spec.headsK <= 0 || spec.headsQ % spec.headsK != 0)
    return std::string("query heads must be a multiple of key/value heads");
  // The grid is (query heads, query tiles).
  if (spec.headsQ > ::fattn::limits::kMaxGridX ||
      (!spec.runtimeSchedule &&
       spec.numQTiles() > ::fattn::limits::kMaxGridYZ))
    return text("query tiles form the grid's y dimension, which CUDA limits "
                "to 65535; got",
                spec.numQTiles());
  return std::nullopt;
}

Type KernelParam::abiType() const {
  Type type = memref.getType();
  if (isScalar())
    return type.isIndex() ? IntegerType::get(type.getContext(), 32) : type;
  return kernelType ? Type(kernelType) : type;
}

ArrayAttr mlir::fattn::describeKernelParams(MLIRContext *context,
                                            ArrayRef<KernelParam> parameters) {
  Builder b(context);
  SmallVector<Attribute> entries;
  for (const KernelParam &param : parameters) {
    Type type = param.abiType();
    SmallVector<Attribute> extents;
    for (const std::string &name : param.dynamicExtents)
      extents.push_back(b.getStringAttr(name));
    SmallVector<NamedAttribute> fields = {
        b.getNamedAttr("name", b.getStringAttr(param.name)),
        b.getNamedAttr("role", b.getStringAttr(::fattn::runtime::stringifyParamRole(param.role))),
        b.getNamedAttr("type", TypeAttr::get(type))};
    if (!extents.empty())
      fields.push_back(b.getNamedAttr("extents", b.getArrayAttr(extents)));
    entries.push_back(b.getDictionaryAttr(fields));
  }
  return b.getArrayAttr(entries);
}
