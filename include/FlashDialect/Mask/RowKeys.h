//===- RowKeys.h - The slice rule, once, for every consumer -----*- C++ -*-===//
//
// Which keys a slice lets one query row attend (docs/spec.md §1, global form),
// written once over a value domain so that the mask library, the GPU
// reference kernel (nvcc), the CPU lowering and the GPU lowering (IR values,
// FlashDialect/ArithRowKeys.h) all evaluate the same code. Depends on nothing
// but <stdint.h>, so that nvcc's device code can include it.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_MASK_ROWKEYS_H
#define FATTN_MASK_ROWKEYS_H

#include <stdint.h>

#if defined(__CUDACC__) || defined(FATTN_EMULATE_CUDA)
#define FATTN_HOST_DEVICE __host__ __device__
#else
#define FATTN_HOST_DEVICE
#endif

namespace fattn::mask {

/// The codes are docs/spec.md §1's (and MagiAttention's attn_type_map).
enum class SliceKind : uint8_t {
  Full = 0,      // every (i, j)
  Causal = 1,    // j <= i + (Sk - Sq): bottom-right aligned
  InvCausal = 2, // j >= i: top-left aligned
  BiCausal = 3,  // both of the above
};
constexpr int64_t kNumSliceKinds = 4;

/// A half-open interval [begin, end) of keys in the domain's value type.
template <typename Value> struct KeyBounds {
  Value begin, end;
};

/// Keys [begin, end) that a slice lets `row` attend, for a row inside its q
/// range; the row attends nothing when end <= begin. Causal and bi_causal
/// cap the end at the line row + (kEnd - qEnd) + 1, inv_causal and bi_causal
/// raise the begin to row + (kBegin - qBegin); both bounds grow with the row.
///
/// `Domain` supplies the arithmetic: add, sub, min, max, one(value),
/// select(condition, a, b), either(a, b) and isKind(kind, SliceKind), on its
/// `Value` and a condition type. HostRowKeys below is the domain of plain
/// integers.
template <typename Domain, typename Value, typename Kind>
FATTN_HOST_DEVICE KeyBounds<Value>
rowKeys(const Domain &d, Kind kind, Value row, Value qBegin, Value qEnd,
        Value kBegin, Value kEnd) {
  auto boundsAbove = d.either(d.isKind(kind, SliceKind::Causal),
                              d.isKind(kind, SliceKind::BiCausal));
  auto boundsBelow = d.either(d.isKind(kind, SliceKind::InvCausal),
                              d.isKind(kind, SliceKind::BiCausal));
  Value diagonalEnd = d.add(row, d.add(d.sub(kEnd, qEnd), d.one(row)));
  Value diagonalBegin = d.add(row, d.sub(kBegin, qBegin));
  return {d.select(boundsBelow, d.max(kBegin, diagonalBegin), kBegin),
          d.select(boundsAbove, d.min(kEnd, diagonalEnd), kEnd)};
}

/// The key tile of visit `visit` (0 <= visit < kTileEnd - kTileBegin) of a
/// work item (Mask/Schedule.h), and whether it is one of the item's full
/// tiles (no mask): the full tiles come first, then the partial ones in
/// ascending order, those below the full run and then those above it.
template <typename Value, typename Condition> struct ItemVisit {
  Value kTile;
  Condition full;
};

/// `Domain` as for rowKeys, plus less(a, b).
template <typename Domain, typename Value>
FATTN_HOST_DEVICE auto itemVisit(const Domain &d, Value visit, Value kTileBegin,
                                 Value fullBegin, Value fullEnd)
    -> ItemVisit<Value, decltype(d.less(visit, visit))> {
  Value fullVisits = d.sub(fullEnd, fullBegin);
  auto full = d.less(visit, fullVisits);
  Value partial = d.sub(visit, fullVisits);
  Value below = d.add(kTileBegin, partial);
  Value partialTile = d.select(d.less(partial, d.sub(fullBegin, kTileBegin)),
                               below, d.add(below, fullVisits));
  return {d.select(full, d.add(fullBegin, visit), partialTile), full};
}

/// Plain integers: lib/Mask on the host, the reference kernel on the GPU.
struct HostRowKeys {
  template <typename Int> FATTN_HOST_DEVICE Int add(Int a, Int b) const {
    return a + b;
  }
  template <typename Int> FATTN_HOST_DEVICE Int sub(Int a, Int b) const {
    return a - b;
  }
  template <typename Int> FATTN_HOST_DEVICE Int min(Int a, Int b) const {
    return a < b ? a : b;
  }
  template <typename Int> FATTN_HOST_DEVICE Int max(Int a, Int b) const {
    return a < b ? b : a;
  }
  template <typename Int> FATTN_HOST_DEVICE Int one(Int) const { return 1; }
  template <typename Int>
  FATTN_HOST_DEVICE Int select(bool condition, Int a, Int b) const {
    return condition ? a : b;
  }
  FATTN_HOST_DEVICE bool either(bool a, bool b) const { return a || b; }
  template <typename Int> FATTN_HOST_DEVICE bool less(Int a, Int b) const {
    return a < b;
  }
  template <typename Code>
  FATTN_HOST_DEVICE bool isKind(Code kind, SliceKind expected) const {
    return static_cast<int64_t>(kind) == static_cast<int64_t>(expected);
  }
};

} // namespace fattn::mask

#endif // FATTN_MASK_ROWKEYS_H
