//===- FattnDialect.cpp - The fattn dialect -------------------------------===//

#include "FlashDialect/FattnDialect.h"
#include "FlashDialect/FattnAttrs.h"
#include "FlashDialect/FattnOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::fattn;

#include "FlashDialect/FattnOpsDialect.cpp.inc"

void FattnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "FlashDialect/FattnOps.cpp.inc"
      >();
  registerAttributes();
}
