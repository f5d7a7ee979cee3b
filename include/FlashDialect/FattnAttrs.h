//===- FattnAttrs.h - fattn attributes --------------------------*- C++ -*-===//

#ifndef FATTN_FATTNATTRS_H
#define FATTN_FATTNATTRS_H

#include "FlashDialect/Mask/Mask.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/Hashing.h"

namespace fattn::mask {
// Attribute storage uniques slices by value.
inline llvm::hash_code hash_value(const Slice &slice) {
  return llvm::hash_combine(slice.qBegin, slice.qEnd, slice.kBegin, slice.kEnd,
                            static_cast<uint8_t>(slice.kind));
}
} // namespace fattn::mask

#define GET_ATTRDEF_CLASSES
#include "FlashDialect/FattnAttrs.h.inc"

#endif // FATTN_FATTNATTRS_H
