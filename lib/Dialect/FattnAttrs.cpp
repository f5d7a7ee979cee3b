//===- FattnAttrs.cpp - The mask attribute --------------------------------===//

#include "FlashDialect/FattnAttrs.h"
#include "FlashDialect/FattnDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::fattn;
namespace mask = ::fattn::mask;

#define GET_ATTRDEF_CLASSES
#include "FlashDialect/FattnAttrs.cpp.inc"

void FattnDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "FlashDialect/FattnAttrs.cpp.inc"
      >();
}

/// Parses `kind [q_begin:q_end, k_begin:k_end]`.
static ParseResult parseSlice(AsmParser &parser, mask::Slice &slice) {
  SMLoc kindLoc = parser.getCurrentLocation();
  StringRef kindName;
  if (parser.parseKeyword(&kindName))
    return failure();
  std::optional<mask::SliceKind> kind =
      mask::symbolizeSliceKind({kindName.data(), kindName.size()});
  if (!kind)
    return parser.emitError(kindLoc, "unknown slice kind '")
           << kindName << "'; expected full, causal, inv_causal or bi_causal";
  slice.kind = *kind;
  if (parser.parseLSquare() || parser.parseInteger(slice.qBegin) ||
      parser.parseColon() || parser.parseInteger(slice.qEnd) ||
      parser.parseComma() || parser.parseInteger(slice.kBegin) ||
      parser.parseColon() || parser.parseInteger(slice.kEnd) ||
      parser.parseRSquare())
    return failure();
  return success();
}

Attribute MaskAttr::parse(AsmParser &parser, Type type) {
  SMLoc loc = parser.getCurrentLocation();
  // `#fattn.mask<...> : i32` would otherwise parse and drop the type.
  if (type) {
    parser.emitError(loc, "the mask attribute takes no type, got ") << type;
    return {};
  }
  SmallVector<mask::Slice> slices;
  if (parser.parseLess())
    return {};
  if (failed(parser.parseOptionalGreater())) {
    if (parser.parseCommaSeparatedList([&]() {
          return parseSlice(parser, slices.emplace_back());
        }) ||
        parser.parseGreater())
      return {};
  }
  return parser.getChecked<MaskAttr>(loc, parser.getContext(), slices);
}

void MaskAttr::print(AsmPrinter &printer) const {
  printer << '<';
  llvm::interleaveComma(getSlices(), printer, [&](const mask::Slice &slice) {
    printer << mask::formatSlice(slice);
  });
  printer << '>';
}

LogicalResult MaskAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               ArrayRef<mask::Slice> slices) {
  // Bounds that need the operand shapes are checked by the ops using the
  // mask; here only what is wrong in any context.
  for (auto [index, slice] : llvm::enumerate(slices))
    if (std::optional<std::string> problem =
            mask::checkSlice(slice, /*numQ=*/-1, /*numK=*/-1))
      return emitError() << "slice " << index << ": " << *problem;
  return success();
}
