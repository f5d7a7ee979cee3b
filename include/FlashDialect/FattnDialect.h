//===- FattnDialect.h - The fattn dialect -----------------------*- C++ -*-===//

#ifndef FATTN_FATTNDIALECT_H
#define FATTN_FATTNDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Dialect.h"

#include "FlashDialect/FattnOpsDialect.h.inc"

namespace mlir {
class DialectRegistry;
namespace fattn {
/// One-shot bufferization support for fattn.attention.
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);
} // namespace fattn
} // namespace mlir

#endif // FATTN_FATTNDIALECT_H
