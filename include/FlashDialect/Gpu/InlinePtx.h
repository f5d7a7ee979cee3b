//===- InlinePtx.h - One typed way to emit an inline PTX instruction -*- C++ -*-===//
//
// Where MLIR 22's nvvm ops cannot express an instruction (the register forms
// of mma.sync and ldmatrix the kernels need, cp.async with a source size,
// special registers read as volatile), the target builders emit it as
// llvm.inline_asm through this helper. Register constraints are derived from
// the operand and result types, never written by hand, so an instruction is
// its PTX text, its typed operands and its effects.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_GPU_INLINEPTX_H
#define FATTN_GPU_INLINEPTX_H

#include "mlir/IR/Builders.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::fattn::codegen {

/// What an instruction does besides producing its results.
enum class PtxEffects {
  /// Pure arithmetic: free to CSE, hoist or delete.
  None,
  /// Must stay where it is and run as often as written (special registers,
  /// shuffles, barriers, shared-memory accesses LLVM cannot see).
  Volatile,
  /// Volatile, and LLVM must assume it reads and writes memory.
  VolatileMemory,
};

struct PtxInstruction {
  /// PTX with $0.. for the results, then the operands, in order.
  std::string text;
  SmallVector<Type, 4> results;
  SmallVector<Value, 4> operands;
  PtxEffects effects = PtxEffects::None;
};

/// The constraint letter of a value of `type` in a PTX register: r (32-bit
/// integer), l (64-bit integer or global pointer), h (16-bit), f (f32),
/// d (f64). Asserts on other types.
char ptxConstraint(Type type);

/// "=r,=f,r,l,~{memory}" for `instruction`.
std::string ptxConstraints(const PtxInstruction &instruction);

/// Emits the instruction and returns its results, one value each.
SmallVector<Value, 4> emitPtx(OpBuilder &b, Location loc,
                              const PtxInstruction &instruction);

} // namespace mlir::fattn::codegen

#endif // FATTN_GPU_INLINEPTX_H
