//===- TargetBuilders.cpp - The builders of each chip family --------------===//
//
// The one place that maps a chip family to its builders; a new family adds
// its factory here and its builders in files of its own.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Gpu/TargetBuilders.h"

#include "Targets.h"

using namespace mlir;
using namespace mlir::fattn;
using namespace mlir::fattn::codegen;

KeyTilePipeline::~KeyTilePipeline() = default;
TargetBuilders::~TargetBuilders() = default;

Value &RegisterTile::at(int64_t rowSlot, int64_t colSlot) {
  return values[target->storageIndex(colSlots, rowSlot, colSlot)];
}

Value RegisterTile::at(int64_t rowSlot, int64_t colSlot) const {
  return values[target->storageIndex(colSlots, rowSlot, colSlot)];
}

std::unique_ptr<TargetBuilders>
mlir::fattn::codegen::createTargetBuilders(OpBuilder &b, Location loc,
                                       const FlashKernelSpec &spec) {
  switch (spec.target.family) {
  case GpuKernelFamily::MmaSync:
    return createSm80Builders(b, loc, spec);
  }
  llvm_unreachable("a chip family without builders");
}
