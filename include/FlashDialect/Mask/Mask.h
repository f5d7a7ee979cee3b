//===- Mask.h - Range-mask algebra for compiler and runtime -----*- C++ -*-===//
//
// The one place that decides which (query, key) pairs a range mask attends
// and which tiles a kernel must visit. The dialect's verifier, every pass, the
// runtime and any planner call into this library; nothing else re-derives
// tile or pair logic. Plain C++: no MLIR or LLVM types in the interface, so
// the runtime can use it on machines without LLVM.
//
// Semantics follow docs/spec.md §1. A slice is (q range, k range, kind) with
// half-open global ranges. For a query row `gi` inside the q range, the keys a
// slice attends always form one contiguous interval, which is what every
// algorithm below relies on.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_MASK_MASK_H
#define FATTN_MASK_MASK_H

#include "FlashDialect/Limits.h"
#include "FlashDialect/Mask/RowKeys.h"
#include "FlashDialect/Mask/TileGeometry.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fattn::mask {

/// Every bound a slice or a sequence length may carry, inclusive: 2^62, so
/// that the sum or difference of two bounds never leaves int64. Counts of
/// cells, which can reach 2^124, are PairCounts. Kernels and tile tables
/// index tokens with int32 and accept less (kMaxKernelTokens).
constexpr int64_t kMaxIndex = geometry::kMaxIndex;
constexpr int64_t kMaxKernelTokens = limits::kMaxTokens;

/// A number of (query, key) cells: wide enough for any mask within kMaxIndex.
using PairCount = __int128;
/// Decimal text of a count ("170141183460469231731687303715884105727").
std::string formatPairCount(PairCount count);
/// The count as int64, or nullopt when it does not fit.
std::optional<int64_t> pairCountToInt64(PairCount count);

/// "full", "causal", "inv_causal", "bi_causal".
std::string_view stringifySliceKind(SliceKind kind);
std::optional<SliceKind> symbolizeSliceKind(std::string_view name);
/// Kind from its integer code (docs/spec.md §1 table); nullopt for unknown
/// codes.
std::optional<SliceKind> sliceKindFromCode(int64_t code);

/// Half-open interval [begin, end) of global indices.
struct Range {
  int64_t begin = 0;
  int64_t end = 0;

  int64_t size() const { return end > begin ? end - begin : 0; }
  bool empty() const { return end <= begin; }
  bool operator==(const Range &other) const {
    return (empty() && other.empty()) ||
           (begin == other.begin && end == other.end);
  }
};

struct Slice {
  int64_t qBegin = 0, qEnd = 0;
  int64_t kBegin = 0, kEnd = 0;
  SliceKind kind = SliceKind::Full;

  Range qRange() const { return {qBegin, qEnd}; }
  Range kRange() const { return {kBegin, kEnd}; }

  /// Keys attended by global query row `row`; empty outside the q range.
  /// Within the q range both bounds are non-decreasing in the row and move
  /// by 0 or 1 per row: every algorithm of this library rests on that.
  Range keysOfRow(int64_t row) const;
  bool contains(int64_t row, int64_t key) const;
  /// The rows attending at least one key: one interval, computed in O(1).
  Range attendedRows() const;
  /// Attended cells inside rows x keys, in O(1).
  PairCount countCellsIn(Range rows, Range keys) const;
  /// Number of attended (row, key) cells, in O(1).
  PairCount countPairs() const;
  bool attendsNothing() const { return attendedRows().empty(); }

  bool operator==(const Slice &other) const {
    return qBegin == other.qBegin && qEnd == other.qEnd &&
           kBegin == other.kBegin && kEnd == other.kEnd && kind == other.kind;
  }
};

/// An ordered list of slices. Order carries no meaning for the attended set.
using Mask = std::vector<Slice>;

/// "causal [0:128, 0:256]" (numpy-style rows, keys; half-open): the textual
/// form of one slice in diagnostics and in the dialect's mask attribute.
std::string formatSlice(const Slice &slice);

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

/// Problems of one slice on its own: negative or reversed ranges, ranges past
/// `numQ` / `numK` or past kMaxIndex. A bound of -1 means "unknown" (dynamic)
/// and is not checked. Returns a message without the "slice N: " prefix.
/// Every other function here requires slices that pass this check (they may
/// overlap where a function says so).
std::optional<std::string> checkSlice(const Slice &slice, int64_t numQ,
                                      int64_t numK);

/// A cell attended by both slices, if any. Exact: evaluates every breakpoint
/// of the two piecewise-linear row intervals, not a sample.
struct Cell {
  int64_t row, key;
};
std::optional<Cell> findSharedCell(const Slice &a, const Slice &b);

struct Overlap {
  size_t first, second; // indices into the mask, first < second
  Cell cell;
};
/// A pair of slices sharing a cell, if any: of the slices that share a cell
/// with an earlier one, the first (`second`), and the earliest slice it
/// shares one with (`first`). O(N log N) for a valid mask (one row sweep),
/// O(N log^2 N) when there is an overlap.
std::optional<Overlap> findOverlap(const Mask &mask);

/// Everything the verifier and the runtime reject, as one message prefixed
/// with the offending slice index ("slice 3: k range [0, 5000) exceeds key
/// length 4096"; "slices 1 and 4 both attend (q 17, k 3)"). nullopt when valid.
/// Lengths above kMaxIndex are rejected; O(N log N) in slices.
std::optional<std::string> validate(const Mask &mask, int64_t numQ,
                                    int64_t numK);

/// The mask of a run-time call in MagiAttention's form: `count` slices, q
/// and k ranges as (begin, end) int32 pairs and kinds as docs/spec.md §1's
/// codes (null `kinds`: all full). Checks every slice (checkSlice: kind in
/// 0..3, 0 <= begin <= end, ranges inside [0, numQ) x [0, numK)) and sets
/// `error` to the first problem, prefixed with the slice index
/// ("slice 3: q range [5, 2) is reversed"). Overlaps are not looked for: a
/// cell two run-time slices share is attended once per slice, i.e. weighs
/// as that many keys (docs/spec.md §1). count = 0 gives the empty mask.
std::optional<Mask> maskFromRanges(const int32_t *qRanges,
                                   const int32_t *kRanges,
                                   const int32_t *kinds, int64_t count,
                                   int64_t numQ, int64_t numK,
                                   std::string *error = nullptr);

/// The inverse: a mask whose bounds fit int32 (any mask valid for kernel
/// lengths) as MagiAttention's arrays, for calling a run-time program.
struct MaskRanges {
  std::vector<int32_t> qRanges, kRanges, kinds; // N x 2, N x 2, N
  int64_t count() const { return int64_t(kinds.size()); }
};
MaskRanges rangesOfMask(const Mask &mask);

//===----------------------------------------------------------------------===//
// Pair counting and normalization
//===----------------------------------------------------------------------===//

/// Attended pairs of a valid (non-overlapping) mask, in O(N).
PairCount countAttendedPairs(const Mask &mask);

/// Whether two valid masks attend exactly the same (row, key) pairs, however
/// they are cut into slices. Linear in the attended rows: a test oracle, not
/// for masks of unbounded length.
bool sameAttendedPairs(const Mask &a, const Mask &b);

/// Same attended set, canonical form: each slice tightened to the rows and
/// keys it attends (and to the simplest kind that describes them), slices
/// attending nothing dropped, neighbours that together form one slice merged
/// (those sharing a q range first), and the result ordered by (qBegin, kBegin,
/// qEnd, kEnd, kind). Idempotent. Requires a valid mask. Each round of merges
/// costs O(N log N) in slices; rounds repeat only while they merge something.
Mask normalize(const Mask &mask);

//===----------------------------------------------------------------------===//
// Tile classification
//===----------------------------------------------------------------------===//

enum class TileKind : uint8_t { Skip = 0, Full = 1, Partial = 2 };

struct TileSizes {
  int64_t q = 64;
  int64_t k = 64;
};

/// Which key tiles each query tile visits. Tiles are clipped at numQ/numK; a
/// tile is Full when every cell of its clipped area is attended, Skip when
/// none is. Lists are CSR, key tiles ascending within a query tile, so that
/// kernels run the unmasked loop over `full*` and the masked one over
/// `partial*` (FlexAttention's two block lists).
struct TileMap {
  int64_t numQ = 0, numK = 0;
  TileSizes tile;
  int64_t numQTiles = 0, numKTiles = 0;

  /// Query tile q covers rows [qTileBegins[q], qTileBegins[q + 1]), at most
  /// tile.q of them: every tile.q rows, or also cut at slice boundaries.
  std::vector<int32_t> qTileBegins; // numQTiles + 1
  std::vector<int32_t> fullOffsets;    // numQTiles + 1
  std::vector<int32_t> fullKTiles;     // key-tile indices
  std::vector<int32_t> partialOffsets; // numQTiles + 1
  std::vector<int32_t> partialKTiles;
  /// For the p-th partial tile (index into partialKTiles), the mask slices
  /// touching it: partialSlices[partialSliceOffsets[p] .. [p + 1]).
  std::vector<int32_t> partialSliceOffsets; // partialKTiles.size() + 1
  std::vector<int32_t> partialSlices;

  TileKind kindOf(int64_t qTile, int64_t kTile) const;
  int64_t numFullTiles() const { return (int64_t)fullKTiles.size(); }
  int64_t numPartialTiles() const { return (int64_t)partialKTiles.size(); }
};

/// How a key tile that runs past numK is judged. Clipped: Full when its
/// cells inside the sequence are all attended, for kernels that clip their
/// loops at numK (the CPU path). Whole: Full only when all `tile.k` columns
/// are attended, so a tile crossing numK is Partial and the mask, which no
/// slice extends past numK, removes the padding keys; for kernels that always
/// compute whole tiles (the GPU path).
enum class KeyEdge { Clipped, Whole };

/// Where query tiles start. Uniform: every tile.q rows. SliceAligned: a tile
/// also starts at every row where a slice starts or ends, so that a tile of a
/// varlen or block mask never straddles two documents (FlashAttention's
/// varlen tiling); tiles shorter than tile.q / 4 join their predecessor when
/// the two fit in one tile.
enum class QueryTiles { Uniform, SliceAligned };

/// Why no tile map exists for these lengths and tile sizes: a tile size <= 0,
/// a length below 0 or above kMaxKernelTokens (the tables hold int32).
/// nullopt when a map can be built.
std::optional<std::string> checkTileMapShape(int64_t numQ, int64_t numK,
                                             TileSizes tile);

/// The most query tiles plus visited tiles a map may hold by default: 2^26
/// int32 entries per table, beyond which tables baked into a kernel stop
/// being practical.
constexpr int64_t kMaxTileMapEntries = int64_t(1) << 26;

/// Classifies every tile of a mask (a valid one; overlapping slices stay in
/// bounds, their cells simply add up). Costs O(N log N) in slices plus the
/// query tiles each slice crosses plus the tiles produced, with no memory per
/// key tile, so key lengths cost nothing. nullopt when checkTileMapShape
/// fails or the map would hold more than `maxEntries` query tiles, visited
/// tiles or slice references of partial tiles.
std::optional<TileMap>
classifyTiles(const Mask &mask, int64_t numQ, int64_t numK, TileSizes tile,
              KeyEdge keyEdge = KeyEdge::Clipped,
              QueryTiles queryTiles = QueryTiles::Uniform,
              int64_t maxEntries = kMaxTileMapEntries);

//===----------------------------------------------------------------------===//
// Builders. Each returns nullopt and sets `error` on bad arguments.
//===----------------------------------------------------------------------===//

/// One slice; empty when either length is 0 (or negative).
Mask fullMask(int64_t numQ, int64_t numK);
/// Bottom-right aligned causal over the whole (numQ, numK) rectangle; empty
/// when either length is 0 (or negative).
Mask causalMask(int64_t numQ, int64_t numK);

/// FlashAttention's window: local query i attends key j when
/// i + (numK - numQ) - left <= j <= i + (numK - numQ) + right; -1 means
/// unbounded on that side. As few slices as the kinds allow (at most three);
/// rows whose window holds no key get none.
std::optional<Mask> slidingWindowMask(int64_t numQ, int64_t numK, int64_t left,
                                      int64_t right,
                                      std::string *error = nullptr);

/// One slice per sequence of a varlen batch: sequence b spans
/// [cuQ[b], cuQ[b+1]) x [cuK[b], cuK[b+1]). Causal is bottom-right aligned
/// per sequence, as in flash_attn_varlen_func.
std::optional<Mask> varlenMask(const std::vector<int64_t> &cuSeqlensQ,
                               const std::vector<int64_t> &cuSeqlensK,
                               bool causal, std::string *error = nullptr);

/// Blocks of `blockSize` tokens; every query of block b attends every key of
/// blocks 0..b. Written, like MagiAttention's examples, with overlapping q
/// ranges: one slice for the earlier blocks and one for the block itself.
std::optional<Mask> blockCausalMask(int64_t numTokens, int64_t blockSize,
                                    std::string *error = nullptr);

/// A question of `questionLen` tokens followed by answers: the question is
/// causal over itself; each answer attends the whole question and is causal
/// over itself.
std::optional<Mask> sharedQuestionMask(int64_t questionLen,
                                       const std::vector<int64_t> &answerLens,
                                       std::string *error = nullptr);

/// A benchmark's many-slice mask: `numSlices` slices of random kinds in
/// bands of query rows (numTokens split evenly into ceil(numSlices / 4)
/// bands), each band's (up to) four slices over disjoint random key ranges
/// of [0, numTokens), so no two slices share a cell. The same seed gives the
/// same mask on every platform. Needs a query row per band and at least 8
/// tokens.
std::optional<Mask> randomBandsMask(int64_t numTokens, int64_t numSlices,
                                    uint64_t seed,
                                    std::string *error = nullptr);

} // namespace fattn::mask

#endif // FATTN_MASK_MASK_H
