//===- KernelTables.cpp - The work schedule as one constant array ---------===//

#include "FlashDialect/Gpu/KernelTables.h"

#include "FlashDialect/Mask/Schedule.h"

using namespace mlir;
using namespace mlir::fattn::codegen;
namespace mask = ::fattn::mask;

static std::vector<int32_t> readTable(DenseElementsAttr table) {
  std::vector<int32_t> result;
  for (APInt element : table.getValues<APInt>())
    result.push_back(static_cast<int32_t>(element.getSExtValue()));
  return result;
}

/// The schedule the tiled form's tables spell out.
static mask::WorkSchedule readSchedule(const mlir::fattn::FlashKernelSpec &spec) {
  mask::WorkSchedule schedule;
  schedule.numQ = spec.numQ;
  schedule.numK = spec.numK;
  schedule.tile = {spec.blockQ, spec.blockK};
  schedule.qTileBegins = readTable(spec.qTileBegins);
  schedule.numQTiles = int64_t(schedule.qTileBegins.size()) - 1;
  schedule.itemOffsets = readTable(spec.itemOffsets);
  schedule.visitOffsets = readTable(spec.itemVisitOffsets);
  std::vector<int32_t> slices = readTable(spec.itemSlices),
                       kTiles = readTable(spec.itemKTiles);
  for (int64_t i = 0; i < schedule.itemOffsets.back(); ++i)
    schedule.items.push_back({slices[i], kTiles[4 * i], kTiles[4 * i + 1],
                              kTiles[4 * i + 2], kTiles[4 * i + 3]});
  schedule.visitOffsets.resize(schedule.items.size() + 1);
  return schedule;
}

KernelTables mlir::fattn::codegen::buildKernelTables(const FlashKernelSpec &spec) {
  mask::KernelScheduleTables schedule =
      mask::kernelScheduleTables(readSchedule(spec));
  KernelTables tables;
  std::vector<int32_t> &values = tables.values;
  auto append = [&](const std::vector<int32_t> &table) {
    int64_t offset = values.size();
    values.insert(values.end(), table.begin(), table.end());
    return offset;
  };
  tables.slots = append(schedule.slots);
  tables.items = append(schedule.items);
  tables.itemSlices = append(schedule.itemSlices);
  tables.slices = append(readTable(spec.slices));
  tables.maxItemsPerTile = schedule.maxItemsPerTile;
  return tables;
}
