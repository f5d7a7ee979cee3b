//===- Limits.h - Every limit fattn enforces at its front doors -*- C++ -*-===//
//
// The dialect's verifier, the passes, the runtime's manifest reader and the
// tools check these where a value enters, each naming the limit in its
// diagnostic. Header-only and free of MLIR, so that every layer (and the
// GPU-machine runtime) shares one table.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_LIMITS_H
#define FATTN_LIMITS_H

#include <cstdint>

namespace fattn::limits {

/// Tokens per sequence: kernels, tile tables and the C API index rows and
/// keys with int32.
constexpr int64_t kMaxTokens = (int64_t(1) << 31) - 1;
/// Elements of one Q, K, V or out tensor: 2^40 (2 TiB of bf16) is beyond the
/// memory of any device, and keeps every offset product inside int64.
constexpr int64_t kMaxTensorElements = int64_t(1) << 40;
/// Heads: the query heads are a grid dimension and a factor of every offset.
constexpr int64_t kMaxHeads = 65535;
/// Scale and softcap: 2^64. Scores are scale * q.k * log2(e) in fp32; with
/// |q.k| up to 2^60 (inputs of magnitude 2^26 at head dim 256) they stay
/// below 2^125 and finite. A softcapped score never exceeds the softcap.
constexpr double kMaxScoreScale = 18446744073709551616.0;
/// CUDA's launch limits (every GPU since sm_30).
constexpr int64_t kMaxGridX = (int64_t(1) << 31) - 1;
constexpr int64_t kMaxGridYZ = 65535;
constexpr int64_t kMaxBlockThreads = 1024;
/// Dynamic shared memory of one CTA on the largest GPU (sm_90 / sm_100:
/// 227 KiB); each chip's own limit is in the GPU target table.
constexpr int64_t kMaxSharedBytesAnyGpu = 227 * 1024;
/// Rows or keys of one tile, on either path.
constexpr int64_t kMaxTileSize = 65536;
/// The CPU path keeps one tile's scores, accumulator and row statistics on
/// the stack of the thread running it.
constexpr int64_t kMaxCpuTileBytes = int64_t(1) << 20;
/// A run-time-mask GPU kernel searches a query tile's work items in
/// log2(max-items-per-tile) unrolled steps (the plan op itself allows up to
/// mask::kMaxTileMapEntries).
constexpr int64_t kMaxItemsPerTile = int64_t(1) << 20;

} // namespace fattn::limits

#endif // FATTN_LIMITS_H
