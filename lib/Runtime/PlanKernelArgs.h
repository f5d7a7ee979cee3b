//===- PlanKernelArgs.h - ABI of the planning kernel -------------*- C++ -*-===//
//
// Shared by PlanKernel.cu (compiled by nvcc to PTX, and by the emulation
// test as C++) and DevicePlan.cpp (the host that sizes and launches it):
// the argument struct, the status words and the scratch layout, so that
// neither side can drift from the other. Plain fixed-width types only.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_LIB_RUNTIME_PLANKERNELARGS_H
#define FATTN_LIB_RUNTIME_PLANKERNELARGS_H

#include "FlashDialect/Mask/RowKeys.h" // FATTN_HOST_DEVICE

#include <stddef.h>
#include <stdint.h>

namespace fattn::runtime::plan_kernel {

/// One CTA plans the whole call (a few microseconds for the benchmark's
/// masks; no grid-wide synchronisation to pay for).
constexpr int kThreads = 256;
constexpr const char *kEntryName = "fattn_plan_ranges";
/// Kernels of up to this many item classes take one call: the plan goes to
/// the smallest class that holds it, the others get empty slots.
constexpr int kMaxClasses = 4;
/// Query tiles sorted in shared memory up to this many, in global beyond;
/// only plans sorted in shared memory may keep their scratch there too.
constexpr int kSharedSortKeys = 2048;

/// Words of the status the kernel writes (int32).
enum StatusField {
  kStatusCode,   // a StatusCode
  kStatusSlice,  // the first refused slice (or sequence), else INT32_MAX
  kStatusQBegin, // that slice's bounds and kind code, as given
  kStatusQEnd,
  kStatusKBegin,
  kStatusKEnd,
  kStatusKind,
  kStatusClass,    // the class the plan went to (index into the classes)
  kStatusTiles,    // query tiles (launch slots used)
  kStatusItems,    // work items
  kStatusMaxItems, // the most items of one query tile
  kStatusTile,     // a tile with more items than every class, else INT32_MAX
  kStatusPairs,    // (slice, query tile) pairs, capped at INT32_MAX
  kStatusVisits,   // visited key tiles in all / 2^31, when too many
  kStatusFields = 16
};

enum StatusCode : int32_t {
  kPlanned = 0,
  kBadSlice = 1,        // a slice outside the tokens, reversed, or bad kind
  kBadSeqlens = 2,      // cu_seqlens not from 0 to the token count
  kTooManyItems = 3,    // a query tile has more items than every class
  kTooManyPairs = 4,    // more (slice, query tile) pairs than items fit
  kTooManyTiles = 5,    // more query tiles than launch slots
  kTooManyVisits = 6,   // more than 2^31 - 1 visited key tiles in all
};

struct Args {
  // Inputs: MagiAttention's ranges (int32 [N][2], [N][2], [N]; kinds 0: all
  // full), or FlashAttention's cu_seqlens (int32 [N + 1] each; ranges 0).
  uint64_t qRanges, kRanges, kinds;
  uint64_t cuSeqlensQ, cuSeqlensK;
  // Outputs: the kernels' tables (Schedule.h's records) and the status.
  uint64_t slices;                  // int32 [N][5]
  uint64_t classSlots[kMaxClasses]; // int32 [capSlots][8] per class
  uint64_t items, itemSlices;       // int32 [capItems][4], [capItems]
  uint64_t status;                  // int32 [kStatusFields]
  uint64_t scratch;                 // int32 [scratchLayout(...).total]
  // A refused call's outputs are filled with NaN.
  uint64_t out, lse;
  int64_t outElements, lseElements; // out's 16-bit elements, lse's floats
  int32_t numSlices, numQ, numK, tileQ, tileK;
  int32_t sliceAligned; // QueryTiles::SliceAligned, else Uniform
  int32_t clippedEdge;  // KeyEdge::Clipped, else Whole
  int32_t varlenKind;   // the kind of each cu_seqlens sequence's slice
  int32_t numClasses;
  int32_t classItems[kMaxClasses]; // items per tile each class searches
  int32_t capSlots, capItems;
  uint32_t outNaN; // a quiet NaN of out's element type, in the low 16 bits
  // The scratch lives in dynamic shared memory (sharedScratchWords() words)
  // rather than at `scratch`: a short plan is a chain of dependent loads,
  // which shared memory serves several times faster.
  int32_t scratchInShared;
  // The backward's key-major plan: each slice's transpose (up to three
  // pieces, geometry::transposedPieces) in three records of its own
  // (unused ones empty), planned over the keys as rows (tileQ, here the
  // key tile's rows) and the queries as columns (tileK, the query tile's).
  int32_t keyMajor;
};

// The PTX declares the parameter as this many bytes aligned to 8; the host
// passes this struct's bytes.
static_assert(sizeof(Args) == 216, "Args layout changed: rebuild both sides");

/// Records of the slices table: a key-major plan gives each slice three,
/// its transposed pieces.
FATTN_HOST_DEVICE inline int64_t planRecords(int64_t numSlices, bool keyMajor) {
  return keyMajor ? 3 * numSlices : numSlices;
}

/// Launch slots a call of `numSlices` slices over `numQ` rows can need:
/// every cut (two per slice) starts at most one tile more than the uniform
/// cut does.
FATTN_HOST_DEVICE inline int64_t slotCapacity(int64_t numSlices, int64_t numQ,
                                              int64_t tileQ,
                                              bool sliceAligned) {
  int64_t uniform = (numQ + tileQ - 1) / tileQ;
  return sliceAligned ? uniform + 2 * numSlices + 1 : uniform;
}

/// The smallest power of two >= n (n >= 1).
FATTN_HOST_DEVICE inline int64_t powerOfTwoAtLeast(int64_t n) {
  int64_t p = 1;
  while (p < n)
    p *= 2;
  return p;
}

/// Per (slice, query tile it crosses): the tile (-1 where the slice
/// attends none of its cells) and the slice; the item's key tiles are
/// derived again where the item is written, which keeps the records, the
/// largest scratch array, at two words.
enum PairField { kPairTile, kPairSlice, kPairFields };

/// Where each scratch array starts, in int32 words; `total` words in all.
struct ScratchLayout {
  int64_t cutBits, cuts, sliceBounds, segmentTiles, tileBegins, tileItems,
      tileFill, tileVisits, sliceFirstTile, pairOffsets, pairItems, itemPairs,
      sortKeys, total;
};

FATTN_HOST_DEVICE inline ScratchLayout scratchLayout(int64_t numSlices,
                                                     int64_t numQ,
                                                     int64_t capSlots,
                                                     int64_t capItems) {
  ScratchLayout layout;
  int64_t at = 0;
  auto take = [&at](int64_t words) {
    int64_t begin = at;
    at += (words + 3) / 4 * 4; // 16-byte aligned arrays
    return begin;
  };
  layout.cutBits = take(numQ / 32 + 1);
  layout.cuts = take(2 * numSlices + 2);
  layout.sliceBounds = take(5 * numSlices); // the slices, read in shared
  layout.segmentTiles = take(2 * numSlices + 2);
  layout.tileBegins = take(capSlots + 1);
  layout.tileItems = take(capSlots + 1);
  layout.tileFill = take(capSlots);
  layout.tileVisits = take(capSlots);
  layout.sliceFirstTile = take(numSlices);
  layout.pairOffsets = take(numSlices + 1);
  layout.pairItems = take(kPairFields * capItems);
  layout.itemPairs = take(capItems);
  layout.sortKeys = take(2 * powerOfTwoAtLeast(capSlots > 0 ? capSlots : 1));
  layout.total = at;
  return layout;
}

/// Words of `layout` a plan needs in shared memory, where the slots' sort
/// keys fit the kernel's static array (they come last, so the rest is a
/// prefix), else 0: such a plan keeps its scratch in global memory.
FATTN_HOST_DEVICE inline int64_t sharedScratchWords(const ScratchLayout &layout,
                                                    int64_t capSlots) {
  bool sortFits =
      powerOfTwoAtLeast(capSlots > 0 ? capSlots : 1) <= kSharedSortKeys;
  return sortFits ? layout.sortKeys : 0;
}

} // namespace fattn::runtime::plan_kernel

#endif // FATTN_LIB_RUNTIME_PLANKERNELARGS_H
