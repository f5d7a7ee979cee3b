//===- Sm80Layout.h - Fragment and shared-memory layouts of mma.sync -*- C++ -*-===//
//
// Where each value of an mma.sync m16n8k16 fragment lives, and where each
// 16-byte chunk of a K/V/Q tile row lives in shared memory, as formulas over
// a value domain (like Mask/RowKeys.h): the sm_80 builders evaluate them as
// IR, the unit tests as integers against the PTX ISA's tables. A domain
// supplies constant(int), add(V, V), mul(V, int), shl(V, int), andi(V, int),
// xorc(V, int) and xorv(V, V). Depends on nothing but <stdint.h>.
//
// Shared tiles: rows of `rowBytes` (a multiple of 128: head dims 64 and 128)
// cut into 16-byte chunks; chunk c of row r is stored at chunk c ^ (r mod 8),
// so the eight rows one ldmatrix phase reads hit eight distinct 16-byte bank
// groups, and a thread's cp.async chunks land without conflicts.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_GPU_SM80LAYOUT_H
#define FATTN_GPU_SM80LAYOUT_H

#include <stdint.h>

namespace mlir::fattn::codegen::sm80 {

/// Byte offset of chunk `chunk` of row `row`: the definition of the swizzle.
template <typename D, typename V>
V swizzledChunkOffset(const D &d, V row, V chunk, int64_t rowBytes) {
  return d.add(d.mul(row, rowBytes), d.shl(d.xorv(chunk, d.andi(row, 7)), 4));
}

/// The lane values ldmatrix.x4 addressing starts from. Lane l supplies the
/// address of row (l mod 8) of matrix l / 8; `rowHalf` and `chunkHalf` say
/// which bit of the matrix index moves the row by 8 and which moves the
/// chunk by 1, which differs between the A operand, K and V (see laneTerm).
struct LdmatrixLane {
  int64_t low;  // l mod 8: the row within an 8x8 matrix
  int64_t mid;  // (l / 8) mod 2
  int64_t high; // l / 16
};
inline LdmatrixLane ldmatrixLane(int64_t lane) {
  return {lane & 7, (lane >> 3) & 1, lane >> 4};
}

/// A lane's ldmatrix term: the swizzled offset of chunk `hi` of `row`,
/// written so that chunk pair j and a row step of s rows (a multiple of 8)
/// are reached by XOR and add of constants (ldmatrixAddress), because the
/// row steps and tile bases are multiples of 128 bytes.
template <typename D, typename V>
V laneTerm(const D &d, V row, V hi, V laneLow, int64_t rowBytes) {
  return d.add(d.mul(row, rowBytes), d.shl(d.xorv(hi, laneLow), 4));
}

/// The address of chunk pair `pair` (chunks 2 pair and 2 pair + 1) rowStep
/// rows below the lane's term. Equal to swizzledChunkOffset(row + rowStep,
/// 2 pair + hi) whenever the term's row has (row mod 8) == laneLow.
template <typename D, typename V>
V ldmatrixAddress(const D &d, V term, int64_t pair, int64_t rowStep,
                  int64_t rowBytes) {
  return d.add(d.xorc(term, (pair % 4) * 32),
               d.constant(rowStep * rowBytes + (pair / 4) * 128));
}

/// Accumulator layout of mma.m16n8k16 (f32 C/D): value e of lane l holds
/// row l / 4 + 8 (e / 2) and column 2 (l mod 4) + (e mod 2) of the 16x8 tile.
struct AccumulatorCell {
  int64_t row, col;
};
inline AccumulatorCell accumulatorCell(int64_t lane, int64_t e) {
  return {(lane >> 2) + 8 * (e >> 1), 2 * (lane & 3) + (e & 1)};
}

/// A thread's accumulator values of a (16 mTiles) x (8 nTiles) warp tile are
/// stored mma tile by mma tile, four values each; row slot 2m + h is rows
/// 16 m + 8 h + lane / 4, column slot 2n + j is column 8 n + j + 2 (lane mod 4).
inline int64_t accumulatorIndex(int64_t colSlots, int64_t rowSlot,
                                int64_t colSlot) {
  return ((rowSlot / 2) * (colSlots / 2) + colSlot / 2) * 4 +
         2 * (rowSlot % 2) + colSlot % 2;
}
inline int64_t rowSlotOffset(int64_t rowSlot) {
  return (rowSlot / 2) * 16 + 8 * (rowSlot % 2);
}
inline int64_t colSlotOffset(int64_t colSlot) {
  return (colSlot / 2) * 8 + colSlot % 2;
}

} // namespace mlir::fattn::codegen::sm80

#endif // FATTN_GPU_SM80LAYOUT_H
