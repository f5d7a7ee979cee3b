//===- CpuSchedule.cpp - The mask library's plan, for the CPU loops -------===//
//
// The two functions fattn-lower-tile-schedules calls (CpuSchedule.h), over
// MLIR's memref descriptors. Both plan the ranges from scratch: the CPU path
// is the reference and test path, and planning costs O(slices + tiles).
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/CpuSchedule.h"

#include "FlashDialect/Mask/Schedule.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"

#include <optional>
#include <vector>

namespace mask = ::fattn::mask;
using namespace mlir::fattn;

namespace {

using Ranges = StridedMemRefType<int32_t, 2>;
using Kinds = StridedMemRefType<int32_t, 1>;
using Table1 = StridedMemRefType<int32_t, 1>;
using Table2 = StridedMemRefType<int32_t, 2>;

/// Rows of (begin, end) through the descriptor's strides, as maskFromRanges
/// takes them.
std::vector<int32_t> readPairs(const Ranges &ranges) {
  std::vector<int32_t> pairs;
  for (int64_t row = 0; row < ranges.sizes[0]; ++row)
    for (int64_t column = 0; column < 2 && column < ranges.sizes[1]; ++column)
      pairs.push_back(ranges.data[ranges.offset + row * ranges.strides[0] +
                                  column * ranges.strides[1]]);
  return pairs;
}

std::optional<mask::WorkSchedule> plan(const Ranges &qRanges,
                                       const Ranges &kRanges,
                                       const Kinds &kinds, int64_t numQ,
                                       int64_t numK, int64_t blockQ,
                                       int64_t blockK, int64_t flags,
                                       mask::Mask *attended) {
  int64_t count = qRanges.sizes[0];
  if (kRanges.sizes[0] != count || kinds.sizes[0] != count ||
      qRanges.sizes[1] != 2 || kRanges.sizes[1] != 2)
    return std::nullopt;
  std::vector<int32_t> q = readPairs(qRanges), k = readPairs(kRanges);
  std::vector<int32_t> codes;
  for (int64_t i = 0; i < count; ++i)
    codes.push_back(kinds.data[kinds.offset + i * kinds.strides[0]]);
  std::optional<mask::Mask> parsed = mask::maskFromRanges(
      q.data(), k.data(), codes.data(), count, numQ, numK);
  if (!parsed)
    return std::nullopt;
  if (flags & kCpuScheduleKeyMajor) {
    mask::TransposedMask transposed = mask::transposeMask(*parsed);
    *attended = transposed.slices;
    return mask::buildKeyMajorSchedule(transposed, numQ, numK,
                                       {blockQ, blockK});
  }
  *attended = std::move(*parsed);
  return mask::buildWorkSchedule(
      *attended, numQ, numK, {blockQ, blockK},
      flags & kCpuScheduleWholeKeyTiles ? mask::KeyEdge::Whole
                                        : mask::KeyEdge::Clipped,
      flags & kCpuScheduleAlignQueryTiles ? mask::QueryTiles::SliceAligned
                                          : mask::QueryTiles::Uniform);
}

/// Copies `values` into a contiguous table of exactly that many elements.
void copyInto(const std::vector<int32_t> &values, int32_t *data,
              int64_t capacity) {
  for (int64_t i = 0; i < capacity && i < int64_t(values.size()); ++i)
    data[i] = values[size_t(i)];
}

} // namespace

extern "C" {

void _mlir_ciface_fattn_cpu_tile_schedule_sizes(
    Ranges *qRanges, Ranges *kRanges, Kinds *kinds, int64_t numQ, int64_t numK,
    int64_t blockQ, int64_t blockK, int64_t flags,
    StridedMemRefType<int64_t, 1> *sizes) {
  mask::Mask attended;
  std::optional<mask::WorkSchedule> schedule = plan(
      *qRanges, *kRanges, *kinds, numQ, numK, blockQ, blockK, flags, &attended);
  int64_t *out = sizes->data + sizes->offset;
  for (int64_t i = 0; i < kCpuScheduleSizeCount; ++i)
    out[i * sizes->strides[0]] = 0;
  if (!schedule) {
    out[kCpuScheduleStatus * sizes->strides[0]] = 1;
    return;
  }
  out[kCpuScheduleQueryTiles * sizes->strides[0]] = schedule->numQTiles;
  out[kCpuScheduleItems * sizes->strides[0]] = int64_t(schedule->items.size());
  out[kCpuScheduleSlices * sizes->strides[0]] = int64_t(attended.size());
}

void _mlir_ciface_fattn_cpu_tile_schedule_fill(
    Ranges *qRanges, Ranges *kRanges, Kinds *kinds, int64_t numQ, int64_t numK,
    int64_t blockQ, int64_t blockK, int64_t flags, Table1 *qTileBegins,
    Table1 *itemOffsets, Table1 *itemSlices, Table2 *itemKTiles,
    Table2 *slices) {
  mask::Mask attended;
  std::optional<mask::WorkSchedule> schedule = plan(
      *qRanges, *kRanges, *kinds, numQ, numK, blockQ, blockK, flags, &attended);
  if (!schedule)
    return;
  // The tables were allocated from the sizes call (identity layouts, the
  // pass checks): write at most what each holds.
  copyInto(schedule->qTileBegins, qTileBegins->data + qTileBegins->offset,
           qTileBegins->sizes[0]);
  copyInto(schedule->itemOffsets, itemOffsets->data + itemOffsets->offset,
           itemOffsets->sizes[0]);
  std::vector<int32_t> slicesOfItems, kTilesOfItems;
  for (const mask::WorkItem &item : schedule->items) {
    slicesOfItems.push_back(item.slice);
    kTilesOfItems.insert(kTilesOfItems.end(), {item.kTileBegin, item.fullBegin,
                                               item.fullEnd, item.kTileEnd});
  }
  copyInto(slicesOfItems, itemSlices->data + itemSlices->offset,
           itemSlices->sizes[0]);
  copyInto(kTilesOfItems, itemKTiles->data + itemKTiles->offset,
           itemKTiles->sizes[0] * 4);
  copyInto(mask::sliceRecords(attended), slices->data + slices->offset,
           slices->sizes[0] * mask::kSliceFields);
}

} // extern "C"

void mlir::fattn::registerCpuScheduleSymbols(ExecutionEngine &engine) {
  engine.registerSymbols([](llvm::orc::MangleAndInterner intern) {
    llvm::orc::SymbolMap symbols;
    auto add = [&](const char *name, auto *function) {
      symbols[intern(name)] = {llvm::orc::ExecutorAddr::fromPtr(function),
                               llvm::JITSymbolFlags::Exported};
    };
    add("_mlir_ciface_fattn_cpu_tile_schedule_sizes",
        &_mlir_ciface_fattn_cpu_tile_schedule_sizes);
    add("_mlir_ciface_fattn_cpu_tile_schedule_fill",
        &_mlir_ciface_fattn_cpu_tile_schedule_fill);
    return symbols;
  });
}
