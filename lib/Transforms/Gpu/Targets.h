//===- Targets.h - Factories of the target builders -------------*- C++ -*-===//

#ifndef FATTN_GPU_TARGETS_H
#define FATTN_GPU_TARGETS_H

#include "FlashDialect/Gpu/TargetBuilders.h"

namespace mlir::fattn::codegen {

/// mma.sync m16n8k16, ldmatrix and cp.async (Sm80Builders.cpp).
std::unique_ptr<TargetBuilders>
createSm80Builders(OpBuilder &b, Location loc, const FlashKernelSpec &spec);

} // namespace mlir::fattn::codegen

#endif // FATTN_GPU_TARGETS_H
