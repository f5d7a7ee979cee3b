//===- KernelTablesTest.cpp - The kernel's one table array ----------------===//

#include "FlashDialect/Gpu/KernelTables.h"

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

TEST(KernelTablesTest, VisitsListFullTilesFirstAndTheLaunchOrderIsLongestFirst) {
  MLIRContext context;
  FlashKernelSpec spec;
  // Three query tiles: tile 0 sees key tile 0 partially; tile 1 sees key
  // tiles 0, 1 fully and 2 partially; tile 2 sees key tile 2 fully and 3
  // partially (the CSR lists fattn-tile-attention writes).
  spec.qTileBegins = table(context, {0, 64, 128, 192});
  spec.fullOffsets = table(context, {0, 0, 2, 3});
  spec.fullKTiles = table(context, {0, 1, 2});
  spec.partialOffsets = table(context, {0, 1, 2, 3});
  spec.partialKTiles = table(context, {0, 2, 3});
  spec.partialSliceOffsets = table(context, {0, 1, 2, 4});
  spec.partialSlices = table(context, {0, 0, 0, 1});
  spec.slices = table(context, {0, 192, 0, 256, 1, 64, 192, 0, 64, 0});

  KernelTables tables = buildKernelTables(spec);
  EXPECT_EQ(slice(tables, tables.qTileBegins, 4),
            (std::vector<int32_t>{0, 64, 128, 192}));
  EXPECT_EQ(slice(tables, tables.partialSliceOffsets, 4),
            (std::vector<int32_t>{0, 1, 2, 4}));
  EXPECT_EQ(slice(tables, tables.slices, 10),
            (std::vector<int32_t>{0, 192, 0, 256, 1, 64, 192, 0, 64, 0}));
  EXPECT_EQ(slice(tables, tables.visitOffsets, 4),
            (std::vector<int32_t>{0, 1, 4, 6}));
  EXPECT_EQ(slice(tables, tables.visitKTiles, 6),
            (std::vector<int32_t>{0, 0, 1, 2, 2, 3}));
  EXPECT_EQ(slice(tables, tables.visitPartial, 6),
            (std::vector<int32_t>{0, -1, -1, 1, -1, 2}));
  // Work 1, 3, 2 visits: tile 1, then 2, then 0.
  EXPECT_EQ(slice(tables, tables.queryTileOrder, 3),
            (std::vector<int32_t>{1, 2, 0}));
  EXPECT_EQ(int64_t(tables.values.size()), tables.queryTileOrder + 3);
}

TEST(KernelTablesTest, EqualWorkKeepsTheTileOrder) {
  MLIRContext context;
  FlashKernelSpec spec;
  spec.qTileBegins = table(context, {0, 10, 20, 30});
  spec.fullOffsets = table(context, {0, 1, 2, 3});
  spec.fullKTiles = table(context, {0, 0, 0});
  spec.partialOffsets = table(context, {0, 0, 0, 0});
  spec.partialKTiles = table(context, {0});
  spec.partialSliceOffsets = table(context, {0});
  spec.partialSlices = table(context, {0});
  spec.slices = table(context, {0, 30, 0, 30, 0});
  KernelTables tables = buildKernelTables(spec);
  EXPECT_EQ(slice(tables, tables.queryTileOrder, 3),
            (std::vector<int32_t>{0, 1, 2}));
}

} // namespace
