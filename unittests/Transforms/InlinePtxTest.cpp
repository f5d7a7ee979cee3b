//===- InlinePtxTest.cpp - Constraints come from the operand types --------===//

#include "FlashDialect/Gpu/InlinePtx.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::fattn::codegen;

namespace {

class InlinePtxTest : public ::testing::Test {
protected:
  InlinePtxTest() : builder(&context) {
    context.loadDialect<LLVM::LLVMDialect, arith::ArithDialect,
                        func::FuncDialect>();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToStart(module->getBody());
  }
  Value constant(Type type) {
    if (isa<FloatType>(type))
      return arith::ConstantOp::create(builder, builder.getUnknownLoc(),
                                       builder.getFloatAttr(type, 1.0));
    return arith::ConstantOp::create(builder, builder.getUnknownLoc(),
                                     builder.getIntegerAttr(type, 1));
  }

  MLIRContext context;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
};

TEST_F(InlinePtxTest, ConstraintsFollowTypesAndEffects) {
  Type i32 = builder.getI32Type(), f32 = builder.getF32Type(),
       i64 = builder.getI64Type();
  Value pointer = LLVM::ZeroOp::create(
      builder, builder.getUnknownLoc(),
      LLVM::LLVMPointerType::get(&context, 1));
  PtxInstruction instruction{"op $0, $1, $2, $3, $4, $5;",
                             {i32, f32},
                             {constant(i32), pointer, constant(i64),
                              constant(f32)},
                             PtxEffects::VolatileMemory};
  EXPECT_EQ(ptxConstraints(instruction), "=r,=f,r,l,l,f,~{memory}");
  instruction.effects = PtxEffects::Volatile;
  EXPECT_EQ(ptxConstraints(instruction), "=r,=f,r,l,l,f");
  EXPECT_EQ(ptxConstraints({"bar.sync 0;", {}, {}, PtxEffects::VolatileMemory}),
            "~{memory}");
}

TEST_F(InlinePtxTest, OneValuePerResultAndSideEffectsAsAsked) {
  Type f32 = builder.getF32Type();
  SmallVector<Value, 4> one = emitPtx(
      builder, builder.getUnknownLoc(),
      {"ex2.approx.ftz.f32 $0, $1;", {f32}, {constant(f32)}, PtxEffects::None});
  ASSERT_EQ(one.size(), 1u);
  auto asm1 = one.front().getDefiningOp<LLVM::InlineAsmOp>();
  ASSERT_TRUE(asm1);
  EXPECT_FALSE(asm1.getHasSideEffects());
  EXPECT_EQ(asm1.getConstraints(), "=f,f");

  SmallVector<Value, 4> four = emitPtx(
      builder, builder.getUnknownLoc(),
      {"ldmatrix $0, $1, $2, $3, [$4];",
       {builder.getI32Type(), builder.getI32Type(), builder.getI32Type(),
        builder.getI32Type()},
       {constant(builder.getI32Type())},
       PtxEffects::Volatile});
  ASSERT_EQ(four.size(), 4u);
  for (auto [index, value] : llvm::enumerate(four)) {
    auto extract = value.getDefiningOp<LLVM::ExtractValueOp>();
    ASSERT_TRUE(extract);
    EXPECT_EQ(extract.getPosition()[0], int64_t(index));
    EXPECT_TRUE(extract.getContainer().getDefiningOp<LLVM::InlineAsmOp>()
                    .getHasSideEffects());
  }
}

} // namespace
