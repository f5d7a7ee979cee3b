//===- PlanKernel.cu - A run-time mask planned on the GPU -----------------===//
//
// CUDA range tensors planned where they are: one CTA validates the slices
// and writes the same tables the host planner (mask::buildWorkSchedule,
// kernelScheduleTables, sliceRecords) makes of them, with the same
// geometry (FlashDialect/Mask/TileGeometry.h), so that a call never copies
// its ranges to the host and never waits for the stream. What the host
// cannot know without reading the ranges is bounded instead: the launch
// covers slotCapacity() slots, spare ones empty, and the call's kernels of
// several item classes are launched each with a slot table of its own, of
// which only the smallest class that holds the plan gets the real one. A
// refused call (a bad slice, a tile with more items than every class)
// writes its reason to the status words, empty slots everywhere, and NaN
// into out and lse. With Args::keyMajor it makes the backward's plan of
// the same call instead (mask::buildKeyMajorSchedule's, over each slice's
// transposed pieces, three records a slice).
//
// Compiled by nvcc to PTX (embedded in the runtime) and, for CI, as C++
// against the emulation of unittests/Runtime/PlanKernelEmulationTest.cpp,
// which compares its tables with the host planner's.
//
//===----------------------------------------------------------------------===//

#include "PlanKernelArgs.h"

#include "FlashDialect/Mask/TileGeometry.h"

#ifndef FATTN_EMULATE_CUDA
#define FATTN_BLOCK_SHARED __shared__
#define FATTN_DECLARE_DYNAMIC_SHARED(name) extern __shared__ double name[]
__device__ inline int32_t planAtomicAdd(int32_t *address, int32_t value) {
  return atomicAdd(address, value);
}
__device__ inline void planAtomicMin(int32_t *address, int32_t value) {
  atomicMin(address, value);
}
__device__ inline void planAtomicMax(int32_t *address, int32_t value) {
  atomicMax(address, value);
}
__device__ inline void planAtomicOr(uint32_t *address, uint32_t value) {
  atomicOr(address, value);
}
__device__ inline int planPopcount(uint32_t bits) { return __popc(bits); }
__device__ inline int planLowestBit(uint32_t bits) { return __ffs(bits) - 1; }
#endif

namespace fattn::runtime::plan_kernel {
namespace {

namespace g = ::fattn::mask::geometry;
using ::fattn::mask::SliceKind;

constexpr int32_t kNoSlice = 0x7fffffff;
constexpr int64_t kInt32Max = 0x7fffffff;

template <typename T> __device__ T *pointer(uint64_t address) {
  return reinterpret_cast<T *>(static_cast<uintptr_t>(address));
}

struct Block {
  int64_t thread, threads;
};
__device__ Block thisBlock() {
  return {int64_t(threadIdx.x), int64_t(blockDim.x)};
}

template <typename T> struct Scan {
  T before, total;
};

/// The exclusive prefix sum of each thread's `value` over the block, and
/// the block's total. Every thread calls it.
template <typename T> __device__ Scan<T> blockScan(T value) {
  FATTN_BLOCK_SHARED T buffers[2][kThreads];
  Block b = thisBlock();
  int in = 0;
  buffers[0][b.thread] = value;
  __syncthreads();
  for (int64_t offset = 1; offset < b.threads; offset *= 2) {
    T sum = buffers[in][b.thread] +
            (b.thread >= offset ? buffers[in][b.thread - offset] : T(0));
    buffers[1 - in][b.thread] = sum;
    in = 1 - in;
    __syncthreads();
  }
  Scan<T> scan{buffers[in][b.thread] - value, buffers[in][b.threads - 1]};
  __syncthreads(); // the buffers are free again
  return scan;
}

/// data[0 .. n) replaced by its exclusive prefix sum, summed in `Sum`; the
/// total is returned (the prefix past int32 is only meaningful when the
/// total fits, which callers check).
template <typename Sum> __device__ Sum scanInPlace(int32_t *data, int64_t n) {
  Block b = thisBlock();
  int64_t chunk = (n + b.threads - 1) / b.threads;
  int64_t begin = g::minOf(n, b.thread * chunk);
  int64_t end = g::minOf(n, begin + chunk);
  Sum local = 0;
  for (int64_t i = begin; i < end; ++i)
    local += data[i];
  Scan<Sum> scan = blockScan<Sum>(local);
  Sum running = scan.before;
  for (int64_t i = begin; i < end; ++i) {
    Sum value = data[i];
    data[i] = static_cast<int32_t>(running);
    running += value;
  }
  __syncthreads();
  return scan.total;
}

/// The first index in [0, n) whose value exceeds `value`, or n.
__device__ int64_t upperBound(const int32_t *values, int64_t n,
                              int64_t value) {
  int64_t low = 0, high = n;
  while (low < high) {
    int64_t middle = (low + high) / 2;
    if (values[middle] > value)
      high = middle;
    else
      low = middle + 1;
  }
  return low;
}

/// A slice as the call gives it: bounds and kind code, unchecked.
struct GivenSlice {
  int64_t qBegin = 0, qEnd = 0, kBegin = 0, kEnd = 0;
  int32_t kind = 0;

  __device__ g::SliceBounds bounds() const {
    return {qBegin, qEnd, kBegin, kEnd, static_cast<SliceKind>(kind)};
  }
};

/// mask::checkSlice's rule (the host formats its message from the status).
__device__ bool fits(const GivenSlice &s, int64_t numQ, int64_t numK) {
  return g::sliceIsValid(s.qBegin, s.qEnd, s.kBegin, s.kEnd, s.kind, numQ,
                         numK);
}

/// The scratch arrays: in dynamic shared memory when the host sized the
/// launch for them, else in global memory.
__device__ int32_t *scratchOf(const Args &args) {
  FATTN_DECLARE_DYNAMIC_SHARED(sharedScratch);
  if (args.scratchInShared)
    return reinterpret_cast<int32_t *>(sharedScratch);
  return pointer<int32_t>(args.scratch);
}

/// The typed views of the arguments one plan works on. The status words
/// live in shared memory while it plans (every phase reads them) and are
/// published at the end.
struct Plan {
  const Args &args;
  ScratchLayout layout;
  int32_t *scratch, *status, *slices;

  __device__ Plan(const Args &args, int32_t *status)
      : args(args),
        layout(scratchLayout(records(), rows(), args.capSlots, args.capItems)),
        scratch(scratchOf(args)), status(status),
        slices(pointer<int32_t>(args.slices)) {}

  /// What the plan tiles: the queries, or the keys of a key-major plan;
  /// the other axis; and the slices table's records.
  __device__ int64_t rows() const {
    return args.keyMajor ? args.numK : args.numQ;
  }
  __device__ int64_t columns() const {
    return args.keyMajor ? args.numQ : args.numK;
  }
  __device__ int64_t records() const {
    return planRecords(args.numSlices, args.keyMajor);
  }

  __device__ int32_t *at(int64_t offset) const { return scratch + offset; }
  __device__ uint32_t *cutBits() const {
    return reinterpret_cast<uint32_t *>(at(layout.cutBits));
  }
  __device__ GivenSlice given(int64_t i) const {
    GivenSlice s;
    if (args.cuSeqlensQ) {
      const int32_t *q = pointer<const int32_t>(args.cuSeqlensQ);
      const int32_t *k = pointer<const int32_t>(args.cuSeqlensK);
      s = {q[i], q[i + 1], k[i], k[i + 1], args.varlenKind};
      return s;
    }
    const int32_t *q = pointer<const int32_t>(args.qRanges);
    const int32_t *k = pointer<const int32_t>(args.kRanges);
    const int32_t *kinds = pointer<const int32_t>(args.kinds);
    s = {q[2 * i], q[2 * i + 1], k[2 * i], k[2 * i + 1], kinds ? kinds[i] : 0};
    return s;
  }
  /// Where the later phases read the slices as readSlices validated them:
  /// the scratch's copy in shared memory, else the table itself.
  __device__ int32_t *validated() const {
    return args.scratchInShared ? at(layout.sliceBounds) : slices;
  }
  /// Slice i as readSlices validated it (a refused one empty).
  __device__ g::SliceBounds slice(int64_t i) const {
    const int32_t *r = validated() + 5 * i;
    return {r[0], r[1], r[2], r[3], static_cast<SliceKind>(r[4])};
  }
  /// Read after a barrier: every thread sees the same answer.
  __device__ bool refused() const {
    return status[kStatusCode] != kPlanned || status[kStatusSlice] != kNoSlice;
  }
};

__device__ void setCut(const Plan &plan, int64_t row) {
  planAtomicOr(plan.cutBits() + row / 32, 1u << (row % 32));
}

/// Zeroes the status and the counters.
__device__ void startPlan(const Plan &plan) {
  Block b = thisBlock();
  for (int64_t i = b.thread; i < kStatusFields; i += b.threads)
    plan.status[i] = i == kStatusSlice || i == kStatusTile ? kNoSlice : 0;
  const ScratchLayout &l = plan.layout;
  for (int64_t i = b.thread; i <= plan.rows() / 32; i += b.threads)
    plan.at(l.cutBits)[i] = 0;
  for (int64_t i = b.thread; i <= plan.args.capSlots; i += b.threads) {
    plan.at(l.tileItems)[i] = 0;
    if (i < plan.args.capSlots)
      plan.at(l.tileFill)[i] = 0;
  }
  __syncthreads();
}

/// A slice record: its bounds and kind code.
__device__ void writeBounds(int32_t *record, const g::SliceBounds &s) {
  record[0] = int32_t(s.qBegin);
  record[1] = int32_t(s.qEnd);
  record[2] = int32_t(s.kBegin);
  record[3] = int32_t(s.kEnd);
  record[4] = int32_t(s.kind);
}

/// Record r of the slices table (and of the copy the plan reads, where
/// that is not the table), and its cuts where tiles are cut at slices.
__device__ void writeRecord(const Plan &plan, int64_t r,
                            const g::SliceBounds &s) {
  int32_t *table = plan.slices + 5 * r, *copy = plan.validated() + 5 * r;
  writeBounds(table, s);
  if (copy != table)
    writeBounds(copy, s);
  if (plan.args.sliceAligned && !g::attendedRows(s).empty()) {
    setCut(plan, s.qBegin);
    setCut(plan, s.qEnd);
  }
}

/// Validates every slice into the slices table (a refused one empty, the
/// first refused index kept; a key-major plan writes its three pieces)
/// and marks the cuts.
__device__ void readSlices(const Plan &plan) {
  const Args &a = plan.args;
  Block b = thisBlock();
  for (int64_t i = b.thread; i < a.numSlices; i += b.threads) {
    GivenSlice s = plan.given(i);
    if (!fits(s, a.numQ, a.numK)) {
      planAtomicMin(plan.status + kStatusSlice, int32_t(i));
      s = GivenSlice();
    }
    if (!a.keyMajor) {
      writeRecord(plan, i, s.bounds());
      continue;
    }
    g::TransposedPieces pieces = g::transposedPieces(s.bounds());
    for (int p = 0; p < 3; ++p)
      writeRecord(plan, 3 * i + p,
                  p < pieces.count ? pieces.pieces[p] : g::SliceBounds());
  }
  if (b.thread == 0) {
    setCut(plan, 0);
    setCut(plan, plan.rows());
    if (a.cuSeqlensQ) {
      const int32_t *q = pointer<const int32_t>(a.cuSeqlensQ);
      const int32_t *k = pointer<const int32_t>(a.cuSeqlensK);
      if (q[0] != 0 || k[0] != 0 || q[a.numSlices] != a.numQ ||
          k[a.numSlices] != a.numK) {
        plan.status[kStatusCode] = kBadSeqlens;
        plan.status[kStatusQBegin] = q[0];
        plan.status[kStatusQEnd] = q[a.numSlices];
        plan.status[kStatusKBegin] = k[0];
        plan.status[kStatusKEnd] = k[a.numSlices];
      }
    }
  }
  __syncthreads();
}

/// The cut rows in ascending order (the set bits); their count.
__device__ int64_t listCuts(const Plan &plan) {
  Block b = thisBlock();
  int64_t words = plan.rows() / 32 + 1;
  int64_t chunk = (words + b.threads - 1) / b.threads;
  int64_t begin = g::minOf(words, b.thread * chunk);
  int64_t end = g::minOf(words, begin + chunk);
  const uint32_t *bits = plan.cutBits();
  int32_t local = 0;
  for (int64_t w = begin; w < end; ++w)
    local += planPopcount(bits[w]);
  Scan<int32_t> scan = blockScan<int32_t>(local);
  int32_t *cuts = plan.at(plan.layout.cuts);
  int64_t position = scan.before;
  for (int64_t w = begin; w < end; ++w)
    for (uint32_t word = bits[w]; word; word &= word - 1)
      cuts[position++] = int32_t(w * 32 + planLowestBit(word));
  __syncthreads();
  return scan.total;
}

/// Tiles of segment s (between cuts s and s + 1) before folding, and
/// whether its one tile is a sliver that may fold into the tile before.
struct SegmentTiles {
  int64_t tiles;
  bool sliver;
};
__device__ SegmentTiles segmentTiles(const int32_t *cuts, int64_t s,
                                     int64_t tileQ) {
  int64_t rows = int64_t(cuts[s + 1]) - cuts[s];
  int64_t tiles = g::ceilDiv(rows, tileQ);
  return {tiles, tiles == 1 && rows < tileQ / 4};
}

/// Counts the tiles of each of `segments` segments, folding slivers as
/// geometry::foldsIntoPrevious says: only a run of sliver segments depends
/// on what came before it, so one thread walks each run. Then the counts
/// become each segment's first tile; returns the tile count.
__device__ int64_t countTiles(const Plan &plan, int64_t segments) {
  Block b = thisBlock();
  const int32_t *cuts = plan.at(plan.layout.cuts);
  int32_t *counts = plan.at(plan.layout.segmentTiles);
  int64_t tileQ = plan.args.tileQ;
  for (int64_t s = b.thread; s < segments; s += b.threads) {
    SegmentTiles here = segmentTiles(cuts, s, tileQ);
    if (!here.sliver) {
      counts[s] = int32_t(here.tiles);
      continue;
    }
    if (s > 0 && segmentTiles(cuts, s - 1, tileQ).sliver)
      continue; // inside a run its first segment walks
    int64_t previous = -1;
    if (s > 0)
      previous = cuts[s - 1] +
                 (segmentTiles(cuts, s - 1, tileQ).tiles - 1) * tileQ;
    for (int64_t r = s; r < segments && segmentTiles(cuts, r, tileQ).sliver;
         ++r) {
      bool folds =
          g::foldsIntoPrevious(cuts[r], cuts[r + 1], previous, tileQ);
      counts[r] = folds ? 0 : 1;
      if (!folds)
        previous = cuts[r];
    }
  }
  __syncthreads();
  int64_t tiles = scanInPlace<int32_t>(counts, segments);
  if (b.thread == 0)
    counts[segments] = int32_t(tiles);
  __syncthreads();
  return tiles;
}

/// First rows of the tiles, the row count last.
__device__ void writeTileBegins(const Plan &plan, int64_t segments,
                                int64_t tiles) {
  Block b = thisBlock();
  const int32_t *cuts = plan.at(plan.layout.cuts);
  const int32_t *firstTiles = plan.at(plan.layout.segmentTiles);
  int32_t *begins = plan.at(plan.layout.tileBegins);
  for (int64_t t = b.thread; t < tiles; t += b.threads) {
    int64_t s = upperBound(firstTiles, segments, t) - 1;
    begins[t] = int32_t(cuts[s] + (t - firstTiles[s]) * plan.args.tileQ);
  }
  if (b.thread == 0)
    begins[tiles] = plan.rows();
  __syncthreads();
}

/// Per slice, the first query tile it attends a row of and how many it
/// crosses, then their prefix: the (slice, tile) pairs. Returns the count.
__device__ int64_t countPairs(const Plan &plan, int64_t tiles) {
  Block b = thisBlock();
  const int32_t *begins = plan.at(plan.layout.tileBegins);
  int32_t *firstTiles = plan.at(plan.layout.sliceFirstTile);
  int32_t *pairs = plan.at(plan.layout.pairOffsets);
  int64_t n = plan.records();
  for (int64_t i = b.thread; i < n; i += b.threads) {
    g::Span rows = g::attendedRows(plan.slice(i));
    pairs[i] = 0;
    if (rows.empty())
      continue;
    int64_t first = g::maxOf(upperBound(begins, tiles, rows.begin) - 1, 0);
    int64_t last = upperBound(begins, tiles, rows.end - 1) - 1;
    firstTiles[i] = int32_t(first);
    pairs[i] = int32_t(last - first + 1);
  }
  __syncthreads();
  int64_t total = scanInPlace<int64_t>(pairs, n);
  if (b.thread == 0)
    pairs[n] = int32_t(g::minOf(total, 0x7fffffff));
  __syncthreads();
  return total;
}

/// The item of slice i in tile t (geometry::itemTiles).
__device__ g::ItemTiles itemOf(const Plan &plan, int64_t i, int64_t t) {
  const int32_t *begins = plan.at(plan.layout.tileBegins);
  return g::itemTiles(plan.slice(i), {begins[t], begins[t + 1]}, plan.columns(),
                      plan.args.tileK, plan.args.clippedEdge);
}

/// Each pair's item, counted into its tile.
__device__ void makeItems(const Plan &plan, int64_t numPairs) {
  Block b = thisBlock();
  const ScratchLayout &l = plan.layout;
  const int32_t *pairOffsets = plan.at(l.pairOffsets);
  int32_t *counts = plan.at(l.tileItems);
  for (int64_t p = b.thread; p < numPairs; p += b.threads) {
    int64_t i = upperBound(pairOffsets, plan.records(), p) - 1;
    int64_t t = plan.at(l.sliceFirstTile)[i] + (p - pairOffsets[i]);
    g::ItemTiles item = itemOf(plan, i, t);
    int32_t *record = plan.at(l.pairItems) + kPairFields * p;
    record[kPairTile] = item.attends ? int32_t(t) : -1;
    record[kPairSlice] = int32_t(i);
    if (item.attends)
      planAtomicAdd(counts + t, 1);
  }
  __syncthreads();
}

/// The largest tile's item count into the status; where it exceeds every
/// class, the lowest such tile too, and the call is refused.
__device__ void findMaxItems(const Plan &plan, int64_t tiles) {
  Block b = thisBlock();
  const int32_t *counts = plan.at(plan.layout.tileItems);
  int32_t largest = 0, limit = 0;
  for (int c = 0; c < plan.args.numClasses; ++c)
    limit = int32_t(g::maxOf(limit, plan.args.classItems[c]));
  for (int64_t t = b.thread; t < tiles; t += b.threads) {
    largest = int32_t(g::maxOf(largest, counts[t]));
    if (counts[t] > limit)
      planAtomicMin(plan.status + kStatusTile, int32_t(t));
  }
  planAtomicMax(plan.status + kStatusMaxItems, largest);
  __syncthreads();
  int32_t tile = plan.status[kStatusTile];
  if (b.thread == 0 && tile != kNoSlice) {
    const int32_t *begins = plan.at(plan.layout.tileBegins);
    plan.status[kStatusCode] = kTooManyItems;
    plan.status[kStatusQBegin] = begins[tile];
    plan.status[kStatusQEnd] = begins[tile + 1];
    plan.status[kStatusItems] = counts[tile];
  }
  __syncthreads();
}

/// Places each item in its tile's run (ascending slices) and writes the
/// items and item_slices tables and each tile's visits; false (a refusal)
/// when the tiles visit more than 2^31 - 1 key tiles in all, as the host
/// refuses (the kernels count visits in int32).
__device__ bool placeItems(const Plan &plan, int64_t numPairs, int64_t tiles) {
  Block b = thisBlock();
  const ScratchLayout &l = plan.layout;
  const int32_t *offsets = plan.at(l.tileItems);
  const int32_t *records = plan.at(l.pairItems);
  int32_t *placed = plan.at(l.itemPairs);
  for (int64_t p = b.thread; p < numPairs; p += b.threads) {
    int32_t t = records[kPairFields * p + kPairTile];
    if (t >= 0)
      placed[offsets[t] + planAtomicAdd(plan.at(l.tileFill) + t, 1)] =
          int32_t(p);
  }
  __syncthreads();
  int32_t *items = pointer<int32_t>(plan.args.items);
  int32_t *itemSlices = pointer<int32_t>(plan.args.itemSlices);
  int64_t threadVisits = 0;
  for (int64_t t = b.thread; t < tiles; t += b.threads) {
    int64_t begin = offsets[t], end = offsets[t + 1];
    // Pairs run slice by slice, so pair order is slice order.
    for (int64_t x = begin + 1; x < end; ++x)
      for (int64_t y = x; y > begin && placed[y - 1] > placed[y]; --y) {
        int32_t swap = placed[y];
        placed[y] = placed[y - 1];
        placed[y - 1] = swap;
      }
    int64_t visits = 0;
    for (int64_t x = begin; x < end; ++x) {
      int32_t slice = records[kPairFields * placed[x] + kPairSlice];
      g::ItemTiles keyTiles = itemOf(plan, slice, t);
      int32_t *item = items + 4 * x;
      item[0] = int32_t(g::minOf(visits, kInt32Max));
      item[1] = int32_t(keyTiles.kTileBegin);
      item[2] = int32_t(keyTiles.fullBegin);
      item[3] = int32_t(keyTiles.fullEnd);
      itemSlices[x] = slice;
      visits += keyTiles.kTileEnd - keyTiles.kTileBegin;
    }
    plan.at(l.tileVisits)[t] = int32_t(g::minOf(visits, kInt32Max));
    threadVisits += visits;
  }
  int64_t total = blockScan<int64_t>(threadVisits).total;
  if (b.thread == 0 && total > kInt32Max) {
    plan.status[kStatusCode] = kTooManyVisits;
    plan.status[kStatusVisits] = int32_t(g::minOf(total >> 31, kInt32Max));
  }
  __syncthreads();
  return total <= kInt32Max;
}

/// keys[0 .. n), n a power of two, sorted ascending (bitonic).
__device__ void bitonicSort(uint64_t *keys, int64_t n) {
  Block b = thisBlock();
  for (int64_t size = 2; size <= n; size *= 2)
    for (int64_t stride = size / 2; stride > 0; stride /= 2) {
      for (int64_t i = b.thread; i < n; i += b.threads) {
        int64_t partner = i ^ stride;
        if (partner <= i)
          continue;
        bool ascending = (i & size) == 0;
        if ((keys[i] > keys[partner]) == ascending) {
          uint64_t swap = keys[i];
          keys[i] = keys[partner];
          keys[partner] = swap;
        }
      }
      __syncthreads();
    }
}

/// Tile t's sort key: most visits first, then the lower tile (stable, as
/// mask::longestFirstOrder); distinct for distinct tiles.
__device__ uint64_t sortKey(const int32_t *visits, int64_t t) {
  return (uint64_t(uint32_t(0x7fffffff - visits[t])) << 32) | uint64_t(t);
}

/// The tiles' sort keys in ascending order into keys[0 .. tiles): placed
/// by rank (one pass, one barrier) when the block has a thread a tile,
/// else sorted (bitonic, padded to a power of two).
__device__ void sortTiles(uint64_t *keys, const int32_t *visits,
                          int64_t tiles) {
  Block b = thisBlock();
  if (tiles <= b.threads) {
    if (b.thread < tiles) {
      uint64_t mine = sortKey(visits, b.thread);
      int64_t rank = 0;
      for (int64_t u = 0; u < tiles; ++u)
        rank += sortKey(visits, u) < mine;
      keys[rank] = mine;
    }
    __syncthreads();
    return;
  }
  int64_t n = powerOfTwoAtLeast(tiles);
  for (int64_t t = b.thread; t < n; t += b.threads)
    keys[t] = t < tiles ? sortKey(visits, t) : ~uint64_t(0);
  __syncthreads();
  bitonicSort(keys, n);
}

/// Writes every class's slot table: the tiles most visits first into the
/// chosen class's, empty slots elsewhere and past the tiles (a CTA that
/// finds no rows stores nothing).
__device__ void writeSlots(const Plan &plan, int64_t tiles, int chosen) {
  FATTN_BLOCK_SHARED uint64_t sharedKeys[kSharedSortKeys];
  Block b = thisBlock();
  const ScratchLayout &l = plan.layout;
  int64_t n = tiles > 0 ? powerOfTwoAtLeast(tiles) : 0;
  uint64_t *keys = n <= kSharedSortKeys
                       ? sharedKeys
                       : reinterpret_cast<uint64_t *>(plan.at(l.sortKeys));
  const int32_t *visits = plan.at(l.tileVisits);
  sortTiles(keys, visits, tiles);
  const int32_t *begins = plan.at(l.tileBegins);
  const int32_t *offsets = plan.at(l.tileItems);
  for (int c = 0; c < plan.args.numClasses; ++c) {
    int32_t *slots = pointer<int32_t>(plan.args.classSlots[c]);
    for (int64_t r = b.thread; r < plan.args.capSlots; r += b.threads) {
      int32_t *slot = slots + 8 * r;
      for (int f = 0; f < 8; ++f)
        slot[f] = 0;
      if (c != chosen || r >= tiles)
        continue;
      int64_t t = int64_t(keys[r] & 0xffffffffu);
      slot[0] = begins[t];
      slot[1] = begins[t + 1];
      slot[2] = offsets[t];
      slot[3] = offsets[t + 1];
      slot[4] = visits[t];
    }
  }
  __syncthreads();
}

/// A refused call: its reason in the status, no slot with rows, NaN out.
__device__ void refuse(const Plan &plan) {
  Block b = thisBlock();
  const Args &a = plan.args;
  int32_t bad = plan.status[kStatusSlice];
  bool badSlice = plan.status[kStatusCode] == kPlanned;
  __syncthreads();
  if (b.thread == 0 && badSlice && bad >= 0 && bad < a.numSlices) {
    GivenSlice s = plan.given(bad);
    plan.status[kStatusCode] = kBadSlice;
    plan.status[kStatusQBegin] = int32_t(s.qBegin);
    plan.status[kStatusQEnd] = int32_t(s.qEnd);
    plan.status[kStatusKBegin] = int32_t(s.kBegin);
    plan.status[kStatusKEnd] = int32_t(s.kEnd);
    plan.status[kStatusKind] = s.kind;
  }
  writeSlots(plan, 0, -1);
  uint16_t *out = pointer<uint16_t>(a.out);
  uint32_t *lse = pointer<uint32_t>(a.lse);
  for (int64_t i = b.thread; out && i < a.outElements; i += b.threads)
    out[i] = uint16_t(a.outNaN);
  for (int64_t i = b.thread; lse && i < a.lseElements; i += b.threads)
    lse[i] = 0x7fc00000u; // a quiet NaN
}

/// The smallest class holding `maxItems` items per tile (classes ascend).
__device__ int chooseClass(const Args &a, int32_t maxItems) {
  for (int c = 0; c < a.numClasses; ++c)
    if (a.classItems[c] >= maxItems)
      return c;
  return -1;
}

/// Tiles, items and the pairs behind them; a refusal's reason otherwise.
__device__ bool planTiles(const Plan &plan, int64_t &tiles, int64_t &pairs) {
  int64_t segments = g::maxOf(listCuts(plan) - 1, 0);
  tiles = countTiles(plan, segments);
  if (tiles > plan.args.capSlots) {
    if (threadIdx.x == 0) {
      plan.status[kStatusCode] = kTooManyTiles;
      plan.status[kStatusTiles] = int32_t(tiles);
    }
    __syncthreads();
    return false;
  }
  writeTileBegins(plan, segments, tiles);
  pairs = countPairs(plan, tiles);
  if (threadIdx.x == 0) {
    plan.status[kStatusTiles] = int32_t(tiles);
    plan.status[kStatusPairs] = int32_t(g::minOf(pairs, 0x7fffffff));
    if (pairs > plan.args.capItems)
      plan.status[kStatusCode] = kTooManyPairs;
  }
  __syncthreads();
  if (plan.refused())
    return false;
  makeItems(plan, pairs);
  findMaxItems(plan, tiles);
  return !plan.refused();
}

/// The whole plan, or its refusal, into the tables and the status.
__device__ void planRanges(const Plan &plan) {
  const Args &args = plan.args;
  startPlan(plan);
  readSlices(plan);
  int64_t tiles = 0, pairs = 0;
  if (plan.refused() || !planTiles(plan, tiles, pairs))
    return refuse(plan);
  int32_t *counts = plan.at(plan.layout.tileItems);
  int32_t items = scanInPlace<int32_t>(counts, tiles);
  if (threadIdx.x == 0)
    counts[tiles] = items;
  __syncthreads();
  if (!placeItems(plan, pairs, tiles))
    return refuse(plan);
  int chosen = chooseClass(args, plan.status[kStatusMaxItems]);
  writeSlots(plan, tiles, chosen);
  if (threadIdx.x == 0) {
    plan.status[kStatusClass] = chosen;
    plan.status[kStatusItems] = items;
  }
}

} // namespace

extern "C" __global__ void __launch_bounds__(kThreads)
    fattn_plan_ranges(const Args args) {
  FATTN_BLOCK_SHARED int32_t status[kStatusFields];
  Plan plan(args, status);
  planRanges(plan);
  __syncthreads();
  int32_t *published = pointer<int32_t>(args.status);
  for (int64_t i = threadIdx.x; i < kStatusFields; i += blockDim.x)
    published[i] = status[i];
}

} // namespace fattn::runtime::plan_kernel
