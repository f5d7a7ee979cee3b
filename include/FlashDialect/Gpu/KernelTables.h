//===- KernelTables.h - The work schedule as one constant array -*- C++ -*-===//
//
// The tiled form's work schedule (Mask/Schedule.h) as the kernel reads it:
// every table in one i32 array, so that a single base stays live across the
// key loop, plus the launch order of the query tiles.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_GPU_KERNELTABLES_H
#define FATTN_GPU_KERNELTABLES_H

#include "FlashDialect/GpuKernel.h"

#include <cstdint>
#include <vector>

namespace mlir::fattn::codegen {

struct KernelTables {
  std::vector<int32_t> values;
  /// Where each table starts in `values` (FlashKernelSpec names them).
  int64_t qTileBegins = 0, itemOffsets = 0, itemVisitOffsets = 0,
          itemSlices = 0, itemKTiles = 0, slices = 0;
  /// Query tiles by visited key tiles, most first (stable): the order CTAs
  /// take them (mask::longestFirstOrder).
  int64_t queryTileOrder = 0;
  /// Work items in the tables, and the most one query tile has.
  int64_t numItems = 0, maxItemsPerTile = 0;
};

/// Requires a spec that passed checkFlashKernelSpec.
KernelTables buildKernelTables(const FlashKernelSpec &spec);

} // namespace mlir::fattn::codegen

#endif // FATTN_GPU_KERNELTABLES_H
