//===- ArithRowKeysTest.cpp - The slice rule as IR, against the oracle ----===//
//
// The lowerings emit mask::rowKeys through ArithRowKeys. On constant
// operands every op folds, so the IR's answer for each (slice, row) can be
// read back and compared with the cell-by-cell reading of docs/spec.md §1
// that the mask tests use, in i32 (the GPU kernels) and index (the CPU loops).
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/ArithRowKeys.h"
#include "../Mask/SpecOracle.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Matchers.h"

#include <gtest/gtest.h>

using namespace mlir;
namespace mask = ::fattn::mask;

namespace {

int64_t constantOf(Value value) {
  APInt bits;
  EXPECT_TRUE(matchPattern(value, m_ConstantInt(&bits)))
      << "the row-keys IR did not fold to a constant";
  return bits.getSExtValue();
}

void expectMatchesOracle(bool indexType) {
  MLIRContext context;
  context.loadDialect<arith::ArithDialect>();
  OpBuilder b(&context);
  Type type = indexType ? Type(b.getIndexType()) : Type(b.getI32Type());
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  mlir::fattn::ArithRowKeys ir(b, loc);
  auto constant = [&](int64_t value) -> Value {
    if (type.isIndex())
      return arith::ConstantIndexOp::create(b, loc, value);
    return arith::ConstantIntOp::create(b, loc, type, value);
  };
  for (int64_t code = 0; code < mask::kNumSliceKinds; ++code)
    for (int64_t qLength = 0; qLength <= 6; ++qLength)
      for (int64_t kLength = 0; kLength <= 6; ++kLength) {
        mask::Slice slice{3, 3 + qLength, 5, 5 + kLength,
                          static_cast<mask::SliceKind>(code)};
        for (int64_t row = slice.qBegin; row < slice.qEnd; ++row) {
          mask::KeyBounds<Value> keys = mask::rowKeys(
              ir, constant(code), constant(row), constant(slice.qBegin),
              constant(slice.qEnd), constant(slice.kBegin),
              constant(slice.kEnd));
          int64_t begin = constantOf(keys.begin), end = constantOf(keys.end);
          for (int64_t key = 0; key < 14; ++key)
            EXPECT_EQ(key >= begin && key < end,
                      mask::oracle::attends(slice, row, key))
                << mask::formatSlice(slice) << " row " << row << " key "
                << key;
        }
      }
}

TEST(ArithRowKeysTest, I32MatchesTheOracle) {
  expectMatchesOracle(/*indexType=*/false);
}

TEST(ArithRowKeysTest, IndexMatchesTheOracle) {
  expectMatchesOracle(/*indexType=*/true);
}

} // namespace
