//===- MlirMaskFuzzer.cpp - libFuzzer target: parser and verifier ---------===//
//
// Any text goes to the MLIR parser with the fattn dialect, whose verifier
// runs on what parses. Every fattn.attention it accepts must print and parse
// again, and its mask must pass MaskOracle's checks (normalization and tile
// classification included) at tile sizes drawn from the input.
//
//===----------------------------------------------------------------------===//

#include "MaskOracle.h"

#include "FlashDialect/FattnDialect.h"
#include "FlashDialect/FattnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

using namespace mlir;

static MLIRContext &context() {
  static MLIRContext *ctx = [] {
    DialectRegistry registry;
    registry.insert<mlir::fattn::FattnDialect, func::FuncDialect,
                    tensor::TensorDialect, memref::MemRefDialect,
                    arith::ArithDialect>();
    auto *created = new MLIRContext(registry);
    created->loadAllAvailableDialects();
    // Diagnostics are the expected outcome of most inputs; keep them quiet.
    created->getDiagEngine().registerHandler([](Diagnostic &) {});
    return created;
  }();
  return *ctx;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(text, ParserConfig(&context()));
  if (!module)
    return 0;
  std::string printed;
  llvm::raw_string_ostream os(printed);
  module->print(os);
  if (!parseSourceString<ModuleOp>(printed, ParserConfig(&context())))
    ::fattn::fuzz::violated("a verified program does not parse as printed", {});
  ::fattn::mask::TileSizes tile{int64_t(size % 13) + 1, int64_t(size % 7) + 1};
  module->walk([&](mlir::fattn::AttentionOp op) {
    auto query = cast<ShapedType>(op.getQuery().getType());
    auto key = cast<ShapedType>(op.getKey().getType());
    if (!query.hasStaticShape() || !key.hasStaticShape() || !op.getMaskAttr())
      return;
    ::fattn::fuzz::checkMask(op.getMaskAttr().getMask(), query.getShape()[0],
                           key.getShape()[0], tile);
  });
  return 0;
}
