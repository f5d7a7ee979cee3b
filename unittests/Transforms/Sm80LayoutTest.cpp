//===- Sm80LayoutTest.cpp - The sm_80 fragment and swizzle formulas -------===//
//
// The formulas the sm_80 builders emit as IR, evaluated on integers and
// checked against what they must be: the PTX ISA's mma.m16n8k16 fragment
// table, a bijective and bank-conflict-free shared-memory swizzle, and the
// per-lane ldmatrix shortcut equal to the swizzle's definition.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Gpu/Sm80Layout.h"

#include "gtest/gtest.h"

#include <set>

using namespace mlir::fattn::codegen;

namespace {

struct IntLayout {
  int64_t constant(int64_t value) const { return value; }
  int64_t add(int64_t x, int64_t y) const { return x + y; }
  int64_t mul(int64_t x, int64_t y) const { return x * y; }
  int64_t shl(int64_t x, int64_t bits) const { return x << bits; }
  int64_t andi(int64_t x, int64_t mask) const { return x & mask; }
  int64_t xorc(int64_t x, int64_t mask) const { return x ^ mask; }
  int64_t xorv(int64_t x, int64_t y) const { return x ^ y; }
};

class SwizzleTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(SwizzleTest, EveryChunkHasItsOwnSlot) {
  int64_t rowBytes = GetParam(), chunks = rowBytes / 16, rows = 128;
  std::set<int64_t> slots;
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      int64_t offset =
          sm80::swizzledChunkOffset(IntLayout{}, row, chunk, rowBytes);
      EXPECT_EQ(offset % 16, 0);
      EXPECT_GE(offset, row * rowBytes); // stays in its own row
      EXPECT_LT(offset, (row + 1) * rowBytes);
      slots.insert(offset / 16);
    }
  EXPECT_EQ(int64_t(slots.size()), rows * chunks);
}

TEST_P(SwizzleTest, AnLdmatrixPhaseHitsEightBankGroups) {
  // One 8x8 matrix of ldmatrix: eight consecutive rows, the same logical
  // chunk. Shared memory has 32 four-byte banks: 16-byte group g of an
  // address is (address / 16) mod 8.
  int64_t rowBytes = GetParam();
  for (int64_t firstRow = 0; firstRow < 64; firstRow += 8)
    for (int64_t chunk = 0; chunk < rowBytes / 16; ++chunk) {
      std::set<int64_t> groups;
      for (int64_t row = firstRow; row < firstRow + 8; ++row)
        groups.insert(
            sm80::swizzledChunkOffset(IntLayout{}, row, chunk, rowBytes) / 16 %
            8);
      EXPECT_EQ(groups.size(), 8u) << "rows " << firstRow << ", chunk " << chunk;
    }
}

TEST_P(SwizzleTest, LaneTermsReachTheSwizzledChunks) {
  // The builders address chunk pair j, rowStep rows on, from one per-lane
  // term with an XOR and an add of constants. Lane l reads row
  // (l mod 8) + 8 * (one lane bit) of the 16-row block and chunk
  // 2 j + (the other bit): A and V use (mid, high), K uses (high, mid).
  int64_t rowBytes = GetParam();
  for (int64_t lane = 0; lane < 32; ++lane) {
    sm80::LdmatrixLane l = sm80::ldmatrixLane(lane);
    for (auto [rowBit, chunkBit] : {std::pair{l.mid, l.high}, {l.high, l.mid}})
      for (int64_t base : {int64_t(0), 2 * rowBytes * 16}) { // warp offsets
        int64_t row = base / rowBytes + l.low + 8 * rowBit;
        int64_t term =
            sm80::laneTerm(IntLayout{}, row, chunkBit, l.low, rowBytes);
        for (int64_t pair = 0; pair < rowBytes / 32; ++pair)
          for (int64_t rowStep = 0; rowStep < 64; rowStep += 16)
            EXPECT_EQ(sm80::ldmatrixAddress(IntLayout{}, term, pair, rowStep,
                                            rowBytes),
                      sm80::swizzledChunkOffset(IntLayout{}, row + rowStep,
                                                2 * pair + chunkBit, rowBytes))
                << "lane " << lane << " pair " << pair << " step " << rowStep;
      }
  }
}

INSTANTIATE_TEST_SUITE_P(HeadDims, SwizzleTest,
                         ::testing::Values(int64_t(128), int64_t(256)),
                         [](const auto &info) {
                           return "rowBytes" + std::to_string(info.param);
                         });

TEST(Sm80FragmentTest, AccumulatorsCoverTheTileOnceAsThePtxIsaSays) {
  // PTX ISA, mma.m16n8k16 f32 accumulators: groupID = lane >> 2,
  // threadID_in_group = lane % 4; c0, c1 in row groupID, c2, c3 in row
  // groupID + 8; column threadID_in_group * 2 + (i & 1).
  std::set<std::pair<int64_t, int64_t>> cells;
  for (int64_t lane = 0; lane < 32; ++lane)
    for (int64_t e = 0; e < 4; ++e) {
      sm80::AccumulatorCell cell = sm80::accumulatorCell(lane, e);
      EXPECT_EQ(cell.row, lane / 4 + (e >= 2 ? 8 : 0));
      EXPECT_EQ(cell.col, (lane % 4) * 2 + (e & 1));
      cells.insert({cell.row, cell.col});
    }
  EXPECT_EQ(cells.size(), 16u * 8u);
}

TEST(Sm80FragmentTest, SlotsAreTheAccumulatorsOfEachMmaTile) {
  // A warp tile of mTiles x nTiles mma tiles: row slot 2m + h and column
  // slot 2n + j of lane l hold value e = 2h + j of mma tile (m, n), stored
  // at (m nTiles + n) 4 + e, at the tile cell accumulatorCell gives.
  for (int64_t mTiles : {1, 2})
    for (int64_t nTiles : {2, 8, 16}) {
      int64_t rowSlots = 2 * mTiles, colSlots = 2 * nTiles;
      std::set<int64_t> storage;
      for (int64_t lane = 0; lane < 32; ++lane)
        for (int64_t r = 0; r < rowSlots; ++r)
          for (int64_t c = 0; c < colSlots; ++c) {
            int64_t m = r / 2, n = c / 2, e = 2 * (r % 2) + c % 2;
            int64_t index = sm80::accumulatorIndex(colSlots, r, c);
            EXPECT_EQ(index, (m * nTiles + n) * 4 + e);
            if (lane == 0)
              storage.insert(index);
            sm80::AccumulatorCell cell = sm80::accumulatorCell(lane, e);
            EXPECT_EQ(sm80::rowSlotOffset(r) + lane / 4, 16 * m + cell.row);
            EXPECT_EQ(sm80::colSlotOffset(c) + 2 * (lane % 4),
                      8 * n + cell.col);
          }
      EXPECT_EQ(int64_t(storage.size()), rowSlots * colSlots);
      EXPECT_EQ(*storage.rbegin(), rowSlots * colSlots - 1);
    }
}

} // namespace
