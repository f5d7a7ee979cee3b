//===- KernelTables.cpp - The tile tables as one constant array -----------===//

#include "FlashDialect/Gpu/KernelTables.h"

#include <algorithm>
#include <numeric>

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
  tables.qTileBegins = append(readTable(spec.qTileBegins));
  tables.partialSliceOffsets = append(readTable(spec.partialSliceOffsets));
  tables.partialSlices = append(readTable(spec.partialSlices));
  tables.slices = append(readTable(spec.slices));

  std::vector<int32_t> fullOffsets = readTable(spec.fullOffsets),
                       fullKTiles = readTable(spec.fullKTiles),
                       partialOffsets = readTable(spec.partialOffsets),
                       partialKTiles = readTable(spec.partialKTiles);
  std::vector<int32_t> visitOffsets = {0}, visitKTiles, visitPartial;
  for (int64_t tile = 0; tile < spec.numQTiles(); ++tile) {
    for (int32_t f = fullOffsets[tile]; f < fullOffsets[tile + 1]; ++f) {
      visitKTiles.push_back(fullKTiles[f]);
      visitPartial.push_back(-1);
    }
    for (int32_t p = partialOffsets[tile]; p < partialOffsets[tile + 1]; ++p) {
      visitKTiles.push_back(partialKTiles[p]);
      visitPartial.push_back(p);
    }
    visitOffsets.push_back(static_cast<int32_t>(visitKTiles.size()));
  }
  tables.visitOffsets = append(visitOffsets);
  tables.visitKTiles = append(visitKTiles);
  tables.visitPartial = append(visitPartial);

  std::vector<int32_t> order(spec.numQTiles());
  std::iota(order.begin(), order.end(), 0);
  auto work = [&](int32_t tile) {
    return visitOffsets[tile + 1] - visitOffsets[tile];
  };
  std::stable_sort(order.begin(), order.end(), [&](int32_t x, int32_t y) {
    return work(x) > work(y);
  });
  tables.queryTileOrder = append(order);
  return tables;
}
