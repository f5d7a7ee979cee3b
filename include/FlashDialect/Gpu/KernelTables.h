//===- KernelTables.h - The work schedule as one constant array -*- C++ -*-===//
//
// The tiled form's work schedule (Mask/Schedule.h) in the records a kernel
// reads (mask::kernelScheduleTables: one per launch slot, one per item,
// the layout a run-time schedule has too), the items' slices and the
// slices, in one i32 array so that a single base stays live across the key
// loop. The records come first, so that the array's 16-byte alignment
// holds for each.
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
  int64_t slots = 0, items = 0, itemSlices = 0, slices = 0;
  /// The most work items one query tile has: the steps of the kernel's
  /// search over a tile's items.
  int64_t maxItemsPerTile = 0;
};

/// Requires a spec that passed checkFlashKernelSpec.
KernelTables buildKernelTables(const FlashKernelSpec &spec);

} // namespace mlir::fattn::codegen

#endif // FATTN_GPU_KERNELTABLES_H
