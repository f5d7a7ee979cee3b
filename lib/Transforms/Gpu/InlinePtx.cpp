//===- InlinePtx.cpp - One typed way to emit an inline PTX instruction ----===//

#include "FlashDialect/Gpu/InlinePtx.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::fattn::codegen;

char mlir::fattn::codegen::ptxConstraint(Type type) {
  if (isa<LLVM::LLVMPointerType>(type))
    return 'l';
  if (type.isF32())
    return 'f';
  if (type.isF64())
    return 'd';
  if (type.isInteger(64))
    return 'l';
  if (type.isInteger(32))
    return 'r';
  if (type.isInteger(16))
    return 'h';
  llvm_unreachable("no PTX register class for this type");
}

std::string
mlir::fattn::codegen::ptxConstraints(const PtxInstruction &instruction) {
  std::string constraints;
  auto append = [&](StringRef piece) {
    if (!constraints.empty())
      constraints += ',';
    constraints += piece.str();
  };
  for (Type result : instruction.results)
    append(std::string("=") + ptxConstraint(result));
  for (Value operand : instruction.operands)
    append(std::string(1, ptxConstraint(operand.getType())));
  if (instruction.effects == PtxEffects::VolatileMemory)
    append("~{memory}");
  return constraints;
}

SmallVector<Value, 4> mlir::fattn::codegen::emitPtx(OpBuilder &b, Location loc,
                                                const PtxInstruction &instruction) {
  ArrayRef<Type> outputs = instruction.results;
  Type resultType;
  if (outputs.size() == 1)
    resultType = outputs.front();
  else if (outputs.size() > 1)
    resultType = LLVM::LLVMStructType::getLiteral(b.getContext(), outputs);
  auto op = LLVM::InlineAsmOp::create(
      b, loc, resultType ? TypeRange{resultType} : TypeRange{},
      instruction.operands, instruction.text, ptxConstraints(instruction),
      /*has_side_effects=*/instruction.effects != PtxEffects::None,
      /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr(), ArrayAttr());
  SmallVector<Value, 4> results;
  if (outputs.size() == 1)
    results.push_back(op.getResult(0));
  else
    for (int64_t index = 0, e = outputs.size(); index < e; ++index)
      results.push_back(LLVM::ExtractValueOp::create(
          b, loc, op.getResult(0), ArrayRef<int64_t>{index}));
  return results;
}
