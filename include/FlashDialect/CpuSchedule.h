//===- CpuSchedule.h - Run-time mask planning for the CPU loops -*- C++ -*-===//
//
// fattn-lower-tile-schedules turns fattn.tile_schedule into calls of these
// two functions through MLIR's C interface (memrefs by descriptor pointer):
//
//   sizes(q_ranges, k_ranges, kinds, num_q, num_k, block_q, block_k, flags,
//         sizes)  -> sizes = {query tiles, items, slices, status}
//   fill(q_ranges, k_ranges, kinds, num_q, num_k, block_q, block_k, flags,
//        q_tile_begins, item_offsets, item_slices, item_k_tiles, slices)
//
// flags: bit 0 whole key tiles, bit 1 slice-aligned query tiles, bit 2 the
// key-major schedule (slices: the transposed ones). status is
// 0, or 1 when the ranges are invalid or the schedule too large (then every
// size is 0). CpuExecutable registers the functions with its JIT; a program
// run elsewhere links lib/Driver's definitions.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_CPUSCHEDULE_H
#define FATTN_CPUSCHEDULE_H

#include <cstdint>

namespace mlir::fattn {

/// Names of the func.func declarations; the C interface symbols carry the
/// "_mlir_ciface_" prefix.
inline constexpr const char *kCpuScheduleSizesFunction =
    "fattn_cpu_tile_schedule_sizes";
inline constexpr const char *kCpuScheduleFillFunction =
    "fattn_cpu_tile_schedule_fill";

enum CpuScheduleFlags : int64_t {
  kCpuScheduleWholeKeyTiles = 1,
  kCpuScheduleAlignQueryTiles = 2,
  /// The backward's key-major schedule (fattn.tile_schedule key_major).
  kCpuScheduleKeyMajor = 4,
};

/// Entries of the sizes memref.
enum CpuScheduleSize : int64_t {
  kCpuScheduleQueryTiles,
  kCpuScheduleItems,
  kCpuScheduleSlices,
  kCpuScheduleStatus,
  kCpuScheduleSizeCount,
};

} // namespace mlir::fattn

namespace mlir {
class ExecutionEngine;
namespace fattn {
/// Makes the two functions below known to `engine`'s JIT (where a program
/// with a run-time mask looks them up).
void registerCpuScheduleSymbols(ExecutionEngine &engine);
} // namespace fattn
} // namespace mlir

#include "mlir/ExecutionEngine/CRunnerUtils.h"

/// The definitions (lib/Driver/CpuSchedule.cpp).
extern "C" {
void _mlir_ciface_fattn_cpu_tile_schedule_sizes(
    StridedMemRefType<int32_t, 2> *qRanges,
    StridedMemRefType<int32_t, 2> *kRanges,
    StridedMemRefType<int32_t, 1> *kinds, int64_t numQ, int64_t numK,
    int64_t blockQ, int64_t blockK, int64_t flags,
    StridedMemRefType<int64_t, 1> *sizes);
void _mlir_ciface_fattn_cpu_tile_schedule_fill(
    StridedMemRefType<int32_t, 2> *qRanges,
    StridedMemRefType<int32_t, 2> *kRanges,
    StridedMemRefType<int32_t, 1> *kinds, int64_t numQ, int64_t numK,
    int64_t blockQ, int64_t blockK, int64_t flags,
    StridedMemRefType<int32_t, 1> *qTileBegins,
    StridedMemRefType<int32_t, 1> *itemOffsets,
    StridedMemRefType<int32_t, 1> *itemSlices,
    StridedMemRefType<int32_t, 2> *itemKTiles,
    StridedMemRefType<int32_t, 2> *slices);
}

#endif // FATTN_CPUSCHEDULE_H
