//===- ArithRowKeys.h - The slice rule as IR --------------------*- C++ -*-===//
//
// The IR domain of mask::rowKeys (FlashDialect/Mask/RowKeys.h): the same
// formula the mask library and the reference kernel evaluate, emitted as
// arith ops on integer or index values by the CPU and the GPU lowerings.
// Operations fold where their operands are constants.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_ARITHROWKEYS_H
#define FATTN_ARITHROWKEYS_H

#include "FlashDialect/Mask/RowKeys.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

namespace mlir::fattn {

class ArithRowKeys {
public:
  ArithRowKeys(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value add(Value x, Value y) const {
    return b.createOrFold<arith::AddIOp>(loc, x, y);
  }
  Value sub(Value x, Value y) const {
    return b.createOrFold<arith::SubIOp>(loc, x, y);
  }
  Value min(Value x, Value y) const {
    return b.createOrFold<arith::MinSIOp>(loc, x, y);
  }
  Value max(Value x, Value y) const {
    return b.createOrFold<arith::MaxSIOp>(loc, x, y);
  }
  Value one(Value like) const { return constant(like.getType(), 1); }
  Value select(Value condition, Value x, Value y) const {
    return b.createOrFold<arith::SelectOp>(loc, condition, x, y);
  }
  Value either(Value x, Value y) const {
    return b.createOrFold<arith::OrIOp>(loc, x, y);
  }
  Value less(Value x, Value y) const {
    return b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, x, y);
  }
  Value isKind(Value kind, ::fattn::mask::SliceKind expected) const {
    return b.createOrFold<arith::CmpIOp>(
        loc, arith::CmpIPredicate::eq, kind,
        constant(kind.getType(), static_cast<int64_t>(expected)));
  }

private:
  Value constant(Type type, int64_t value) const {
    if (type.isIndex())
      return b.createOrFold<arith::ConstantIndexOp>(loc, value);
    return b.createOrFold<arith::ConstantIntOp>(loc, type, value);
  }

  OpBuilder &b;
  Location loc;
};

} // namespace mlir::fattn

#endif // FATTN_ARITHROWKEYS_H
