//===- RuntimeSchedule.h - A run-time mask planned for its kernel -*- C++ -*-===//
//
// A kernel compiled for a run-time mask (a manifest with a `schedule`
// record) reads its work from four tables, built per call by the mask
// library exactly as the compiler bakes them into a static kernel
// (mask::buildWorkSchedule, mask::kernelScheduleTables, mask::sliceRecords),
// and takes the token counts and the launch slot count as scalars. This is
// the host half of such a launch: validate the call, plan it, lay the
// tables out in one buffer to upload. No GPU, no MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_RUNTIME_RUNTIMESCHEDULE_H
#define FATTN_RUNTIME_RUNTIMESCHEDULE_H

#include "FlashDialect/Runtime/Manifest.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fattn::runtime {

/// One call's plan: the kernel's tables in one int32 array, each starting on
/// a 16-byte boundary (the kernel loads records as 16-byte vectors) and at
/// least one record long (a table with no rows still gets a valid pointer).
struct PlannedSchedule {
  int64_t numQ = 0, numK = 0;
  /// Launch slots: one CTA row per query tile (grid y); 0 when numQ is 0.
  int64_t numSlots = 0;
  /// The most work items of one query tile; at most the kernel's limit.
  int64_t maxItemsPerTile = 0;
  std::vector<int32_t> tables;
  /// Where the slots, items, item_slices and slices tables start in
  /// `tables`, in elements.
  size_t slots = 0, items = 0, itemSlices = 0, slices = 0;

  size_t bytes() const { return tables.size() * sizeof(int32_t); }
  /// The offset of the schedule parameter `name` ("slots", ...), in
  /// elements; nullopt for any other name.
  std::optional<size_t> tableOffset(std::string_view name) const;
};

/// Plans `mask` (validated here against numQ x numK; overlapping slices are
/// allowed, each shared cell weighing once per slice) for a kernel compiled
/// with `schedule`. nullopt with `error` set naming the problem: token counts
/// outside [0, 2^31 - 1], an invalid slice, a query tile with more work
/// items than the kernel searches (it names the tile and the count), more
/// launch slots than a grid's y dimension holds.
std::optional<PlannedSchedule> planSchedule(const RuntimeSchedule &schedule,
                                            const mask::Mask &mask,
                                            int64_t numQ, int64_t numK,
                                            std::string *error);

/// The same from MagiAttention-style range arrays (mask::maskFromRanges).
std::optional<PlannedSchedule>
planScheduleFromRanges(const RuntimeSchedule &schedule, const int32_t *qRanges,
                       const int32_t *kRanges, const int32_t *kinds,
                       int64_t count, int64_t numQ, int64_t numK,
                       std::string *error);

} // namespace fattn::runtime

#endif // FATTN_RUNTIME_RUNTIMESCHEDULE_H
