//===- KernelTablesTest.cpp - The kernel's one table array ----------------===//

#include "FlashDialect/Gpu/KernelTables.h"
#include "FlashDialect/GpuTarget.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::fattn;
using namespace mlir::fattn::codegen;

namespace {

DenseElementsAttr table(MLIRContext &context, std::vector<int32_t> values) {
  auto type = RankedTensorType::get({int64_t(values.size())},
                                    IntegerType::get(&context, 32));
  return DenseElementsAttr::get(type, ArrayRef<int32_t>(values));
}

std::vector<int32_t> slice(const KernelTables &tables, int64_t begin,
                           int64_t count) {
  return {tables.values.begin() + begin, tables.values.begin() + begin + count};
}

TEST(KernelTablesTest, RecordsInLaunchOrderLongestFirst) {
  MLIRContext context;
  FlashKernelSpec spec;
  // Three query tiles: tile 0 has one item of 1 visit, tile 1 two items of
  // 1 and 2 visits, tile 2 one item of 2 visits.
  spec.qTileBegins = table(context, {0, 64, 128, 192});
  spec.itemOffsets = table(context, {0, 1, 3, 4});
  spec.itemSlices = table(context, {0, 0, 1, 1});
  spec.itemKTiles = table(context, {0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 2, 3, 2, 2,
                                    3, 4});
  spec.itemVisitOffsets = table(context, {0, 1, 2, 4, 6});
  spec.slices = table(context, {0, 192, 0, 256, 1, 64, 192, 0, 64, 0});

  KernelTables tables = buildKernelTables(spec);
  // Slots in launch order, most visits first (tile 1: 3, tile 2: 2, tile
  // 0: 1): first row, row end, items, visits.
  EXPECT_EQ(slice(tables, tables.slots, 24),
            (std::vector<int32_t>{64, 128, 1, 3, 3, 0, 0, 0,  //
                                  128, 192, 3, 4, 2, 0, 0, 0, //
                                  0, 64, 0, 1, 1, 0, 0, 0}));
  // Items: first visit within the tile, kTileBegin, fullBegin, fullEnd.
  EXPECT_EQ(slice(tables, tables.items, 16),
            (std::vector<int32_t>{0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 0, 2, 2,
                                  3}));
  EXPECT_EQ(slice(tables, tables.itemSlices, 4),
            (std::vector<int32_t>{0, 0, 1, 1}));
  EXPECT_EQ(slice(tables, tables.slices, 10),
            (std::vector<int32_t>{0, 192, 0, 256, 1, 64, 192, 0, 64, 0}));
  EXPECT_EQ(tables.slots, 0);
  EXPECT_EQ(tables.items % 4, 0) << "records stay 16-byte aligned";
  EXPECT_EQ(int64_t(tables.values.size()), tables.slices + 10);
  EXPECT_EQ(tables.maxItemsPerTile, 2);
}

TEST(KernelTablesTest, EqualWorkKeepsTheTileOrder) {
  MLIRContext context;
  FlashKernelSpec spec;
  spec.qTileBegins = table(context, {0, 10, 20, 30});
  spec.itemOffsets = table(context, {0, 1, 2, 3});
  spec.itemSlices = table(context, {0, 0, 0});
  spec.itemKTiles = table(context, {0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1});
  spec.itemVisitOffsets = table(context, {0, 1, 2, 3});
  spec.slices = table(context, {0, 30, 0, 30, 0});
  KernelTables tables = buildKernelTables(spec);
  // First rows of the slots: tiles 0, 1, 2 in order.
  EXPECT_EQ(tables.values[0], 0);
  EXPECT_EQ(tables.values[8], 10);
  EXPECT_EQ(tables.values[16], 20);
}

/// A kernel spec that checkFlashKernelSpec accepts: causal 192 x 256 in
/// 64 x 64 tiles, one work item per query tile.
FlashKernelSpec validSpec(MLIRContext &context) {
  FlashKernelSpec spec;
  spec.name = "k";
  spec.elementType = BFloat16Type::get(&context);
  spec.numQ = 192;
  spec.numK = 256;
  spec.headsQ = 8;
  spec.headsK = 2;
  spec.headDim = 64;
  spec.blockQ = 64;
  spec.blockK = 64;
  EXPECT_FALSE(resolveGpuTarget("sm_90a", "", spec.target));
  spec.qTileBegins = table(context, {0, 64, 128, 192});
  spec.itemOffsets = table(context, {0, 1, 2, 3});
  spec.itemSlices = table(context, {0, 0, 0});
  spec.itemKTiles = table(context, {0, 0, 1, 2, 0, 0, 2, 3, 0, 0, 3, 4});
  spec.itemVisitOffsets = table(context, {0, 2, 5, 9});
  spec.slices = table(context, {0, 192, 0, 256, 1});
  return spec;
}

TEST(KernelTablesTest, ConsistentTablesPass) {
  MLIRContext context;
  EXPECT_EQ(checkFlashKernelSpec(validSpec(context)), std::nullopt);
}

/// Hand-written nests reach the kernel's table reads: every index must stay
/// inside the tables and the key tiles.
TEST(KernelTablesTest, InconsistentTablesAreRefused) {
  MLIRContext context;
  auto refused = [&](auto corrupt, const char *expected) {
    FlashKernelSpec spec = validSpec(context);
    corrupt(spec);
    std::optional<std::string> problem = checkFlashKernelSpec(spec);
    ASSERT_TRUE(problem) << expected;
    EXPECT_NE(problem->find(expected), std::string::npos) << *problem;
  };
  refused([&](FlashKernelSpec &s) { s.itemOffsets = table(context, {0, 1, 2}); },
          "one entry per query tile plus one");
  refused([&](FlashKernelSpec &s) {
    s.itemOffsets = table(context, {1, 1, 2, 3});
  }, "ascending from 0");
  refused([&](FlashKernelSpec &s) {
    s.qTileBegins = table(context, {0, 64, 128, 100});
  }, "ascending from 0");
  refused([&](FlashKernelSpec &s) {
    s.itemOffsets = table(context, {0, 1, 2, 4});
  }, "must hold every item");
  refused([&](FlashKernelSpec &s) { s.itemSlices = table(context, {0, 1, 0}); },
          "work item 1 names a slice");
  refused([&](FlashKernelSpec &s) {
    s.itemKTiles = table(context, {0, 0, 1, 2, 0, 0, 2, 3, 0, 0, 3, 5});
  }, "work item 2");
  refused([&](FlashKernelSpec &s) {
    s.itemKTiles = table(context, {0, 1, 0, 2, 0, 0, 2, 3, 0, 0, 3, 4});
  }, "work item 0");
  refused([&](FlashKernelSpec &s) {
    s.itemVisitOffsets = table(context, {0, 2, 5, 10});
  }, "work item 2");
}

} // namespace
