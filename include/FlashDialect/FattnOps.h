//===- FattnOps.h - fattn operations ----------------------------*- C++ -*-===//

#ifndef FATTN_FATTNOPS_H
#define FATTN_FATTNOPS_H

#include "FlashDialect/FattnAttrs.h"
#include "FlashDialect/FattnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "FlashDialect/FattnOps.h.inc"

#endif // FATTN_FATTNOPS_H
