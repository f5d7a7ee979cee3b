//===- KernelTables.cpp - The work schedule as one constant array ---------===//

#include "FlashDialect/Gpu/KernelTables.h"

#include "FlashDialect/Mask/Schedule.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::fattn::codegen;

static std::vector<int32_t> readTable(DenseElementsAttr table) {
  std::vector<int32_t> result;
  for (APInt element : table.getValues<APInt>())
    result.push_back(static_cast<int32_t>(element.getSExtValue()));
  return result;
}

KernelTables mlir::fattn::codegen::buildKernelTables(const FlashKernelSpec &spec) {
  KernelTables tables;
  std::vector<int32_t> &values = tables.values;
  auto append = [&](const std::vector<int32_t> &table) {
    int64_t offset = values.size();
    values.insert(values.end(), table.begin(), table.end());
    return offset;
  };
  std::vector<int32_t> itemOffsets = readTable(spec.itemOffsets),
                       visitOffsets = readTable(spec.itemVisitOffsets);
  tables.numItems = itemOffsets.back();
  for (size_t tile = 0; tile + 1 < itemOffsets.size(); ++tile)
    tables.maxItemsPerTile = std::max<int64_t>(
        tables.maxItemsPerTile, itemOffsets[tile + 1] - itemOffsets[tile]);
  tables.qTileBegins = append(readTable(spec.qTileBegins));
  tables.itemOffsets = append(itemOffsets);
  tables.itemVisitOffsets = append(visitOffsets);
  tables.itemSlices = append(readTable(spec.itemSlices));
  tables.itemKTiles = append(readTable(spec.itemKTiles));
  tables.slices = append(readTable(spec.slices));
  tables.queryTileOrder =
      append(::fattn::mask::longestFirstOrder(itemOffsets, visitOffsets));
  return tables;
}
