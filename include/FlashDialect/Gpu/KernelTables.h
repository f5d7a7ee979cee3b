//===- KernelTables.h - The tile tables as one constant array -*- C++ -*-===//
//
// The tiled form's CSR tables (fattn-tile-attention), rearranged for the
// kernel: the key tiles each query tile visits in one list, full ones first
// (the key loop reads one table instead of choosing between two every
// iteration), and the launch order of the query tiles. Everything in one
// i32 array so that a single base pointer stays live across the key loop.
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
  /// Where each table starts in `values`.
  int64_t qTileBegins = 0, partialSliceOffsets = 0, partialSlices = 0,
          slices = 0;
  /// visitKTiles[visitOffsets[t] ..  visitOffsets[t + 1]) are the key tiles
  /// query tile t visits; visitPartial[v] is visit v's partial-tile index
  /// (for its slice list) or -1 for a full tile.
  int64_t visitOffsets = 0, visitKTiles = 0, visitPartial = 0;
  /// Query tiles by visited key tiles, most first (stable): the order CTAs
  /// take them (longest processing time first).
  int64_t queryTileOrder = 0;
};

KernelTables buildKernelTables(const FlashKernelSpec &spec);

} // namespace mlir::fattn::codegen

#endif // FATTN_GPU_KERNELTABLES_H
