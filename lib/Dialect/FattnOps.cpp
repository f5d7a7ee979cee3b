//===- FattnOps.cpp - fattn operations and their verifiers ----------------===//

#include "FlashDialect/FattnOps.h"

#include "FlashDialect/Limits.h"
#include "FlashDialect/Mask/Schedule.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>
#include <tuple>

using namespace mlir;
using namespace mlir::fattn;
namespace mask = ::fattn::mask;

/// The attribute dictionary after `mask <...>`: scale, softcap and the
/// discardable attributes. A `mask` entry there would silently replace the
/// mask written before it, so it is an error.
static ParseResult parseAttrDictWithoutMask(OpAsmParser &parser,
                                            NamedAttrList &attributes) {
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseOptionalAttrDict(attributes))
    return failure();
  if (attributes.get("mask"))
    return parser.emitError(loc, "the mask is written after `mask`, not in "
                                 "the attribute dictionary");
  return success();
}

static void printAttrDictWithoutMask(OpAsmPrinter &printer, Operation *op,
                                     DictionaryAttr attributes) {
  printer.printOptionalAttrDict(attributes.getValue(),
                                {"mask", "operandSegmentSizes"});
}

#define GET_OP_CLASSES
#include "FlashDialect/FattnOps.cpp.inc"

/// Compares two possibly-dynamic extents; dynamic matches anything.
static bool extentsAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

static std::string formatShape(ShapedType type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::interleave(
      type.getShape(), os,
      [&](int64_t extent) {
        if (ShapedType::isDynamic(extent))
          os << '?';
        else
          os << extent;
      },
      "x");
  return text;
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

/// The scale attribute, or 1/sqrt(D) of the query.
static double effectiveScale(std::optional<APFloat> scale, Value query) {
  if (scale)
    return scale->convertToDouble();
  int64_t headDim = cast<ShapedType>(query.getType()).getShape()[2];
  return 1.0 / std::sqrt(static_cast<double>(headDim));
}

static double softcapValue(std::optional<APFloat> softcap) {
  return softcap ? softcap->convertToDouble() : 0.0;
}

double AttentionOp::getEffectiveScale() {
  return effectiveScale(getScale(), getQuery());
}

double AttentionOp::getSoftcapValue() { return softcapValue(getSoftcap()); }

namespace {
/// What fattn.attention and fattn.attention_grad share: the forward's
/// operands, its mask and its parameters, verified by one function.
struct AttentionSignature {
  Operation *op;
  Value query, key, value, out, lse, qRanges, kRanges, kinds;
  MaskAttr mask;
  std::optional<APFloat> scale, softcap;

  InFlightDiagnostic emitOpError(const Twine &message = {}) const {
    return op->emitOpError(message);
  }
};

template <typename Op> AttentionSignature signatureOf(Op op) {
  return {op.getOperation(), op.getQuery(),   op.getKey(),
          op.getValue(),     op.getOut(),     op.getLse(),
          op.getQRanges(),   op.getKRanges(), op.getKinds(),
          op.getMaskAttr(),  op.getScale(),   op.getSoftcap()};
}
} // namespace

/// Static sizes past what the kernels index (FlashDialect/Limits.h). Every
/// extent is checked here, where the program enters, so that no later step
/// meets them.
static LogicalResult verifyLimits(const AttentionSignature &op,
                                  ShapedType query, ShapedType key) {
  namespace limits = ::fattn::limits;
  int64_t headDim = query.getShape()[2];
  if (!ShapedType::isDynamic(headDim) && headDim <= 0)
    return op.emitOpError("head dim must be positive, got ") << headDim;
  for (auto [name, type] : {std::pair{"query", query}, std::pair{"key", key}}) {
    int64_t tokens = type.getShape()[0], heads = type.getShape()[1];
    if (!ShapedType::isDynamic(tokens) && tokens > limits::kMaxTokens)
      return op.emitOpError() << name << " length " << tokens << " exceeds "
                              << limits::kMaxTokens
                              << " (2^31 - 1), the most tokens kernels index";
    if (!ShapedType::isDynamic(heads) && heads > limits::kMaxHeads)
      return op.emitOpError() << name << " heads " << heads
                              << " exceed the limit of " << limits::kMaxHeads;
    // Tokens and heads are bounded by now, so their product is too; the
    // quotient keeps the head dim's factor from overflowing.
    if (type.hasStaticShape() && tokens * heads > 0 &&
        headDim > limits::kMaxTensorElements / (tokens * heads))
      return op.emitOpError()
             << name << " has " << tokens << " x " << heads << " x "
             << headDim << " elements, more than 2^40 (beyond any device's "
             << "memory)";
  }
  return success();
}

/// The run-time mask operands: both range operands N x 2 of i32, kinds N of
/// i32, one N.
static LogicalResult verifyRangeOperands(const AttentionSignature &op) {
  Value qRanges = op.qRanges, kRanges = op.kRanges, kinds = op.kinds;
  if (!qRanges || !kRanges || !kinds)
    return op.emitOpError("run-time masks take all three of q_ranges, "
                          "k_ranges and kinds");
  int64_t slices = ShapedType::kDynamic;
  for (auto [name, value] :
       {std::pair{"q_ranges", qRanges}, std::pair{"k_ranges", kRanges}}) {
    auto type = cast<ShapedType>(value.getType());
    if (type.getRank() != 2 || !type.getElementType().isInteger(32) ||
        !extentsAgree(type.getShape()[1], 2))
      return op.emitOpError() << name << " must be N x 2 of i32 (begin, end "
                              << "of each slice), got " << value.getType();
    if (!extentsAgree(slices, type.getShape()[0]))
      return op.emitOpError("q_ranges and k_ranges must hold the same number "
                            "of slices, got ")
             << formatShape(cast<ShapedType>(qRanges.getType())) << " and "
             << formatShape(type);
    if (!ShapedType::isDynamic(type.getShape()[0]))
      slices = type.getShape()[0];
  }
  auto kindsType = cast<ShapedType>(kinds.getType());
  if (kindsType.getRank() != 1 || !kindsType.getElementType().isInteger(32))
    return op.emitOpError("kinds must be N of i32 (docs/spec.md §1's codes: "
                          "0 full, 1 causal, 2 inv_causal, 3 bi_causal), got ")
           << kinds.getType();
  if (!extentsAgree(slices, kindsType.getShape()[0]))
    return op.emitOpError("kinds must hold one code per slice: ")
           << slices << " slices, got " << formatShape(kindsType);
  return success();
}

/// The attribute or the operands, exactly one.
static LogicalResult verifyMaskForm(const AttentionSignature &op) {
  bool anyRange = op.qRanges || op.kRanges || op.kinds;
  if (op.mask && anyRange)
    return op.emitOpError("takes its mask either as the `mask` attribute or "
                          "as `ranges(q_ranges, k_ranges, kinds)` operands, "
                          "not both");
  if (!op.mask && !anyRange)
    return op.emitOpError("needs a mask: the `mask` attribute or "
                          "`ranges(q_ranges, k_ranges, kinds)` operands");
  return anyRange ? verifyRangeOperands(op) : success();
}

/// Tensors and memrefs do not mix (the op is either value-semantic or
/// in-place), and on tensors the results are the destinations' types.
static LogicalResult verifyDestinationStyle(Operation *op,
                                            ValueRange destinations,
                                            StringRef names) {
  bool onTensors = isa<RankedTensorType>(op->getOperand(0).getType());
  for (Value operand : op->getOperands())
    if (isa<RankedTensorType>(operand.getType()) != onTensors)
      return op->emitOpError("operands must be all tensors or all memrefs");
  size_t expectedResults = onTensors ? destinations.size() : 0;
  if (op->getNumResults() != expectedResults)
    return op->emitOpError("expected ")
           << expectedResults << " results on "
           << (onTensors ? "tensors" : "memrefs") << ", got "
           << op->getNumResults();
  for (auto [result, destination] :
       llvm::zip(op->getResults(), destinations))
    if (result.getType() != destination.getType())
      return op->emitOpError("result types must match the ")
             << names << " operands";
  return success();
}

/// The forward's operands, mask and parameters.
static LogicalResult verifySignature(const AttentionSignature &signature) {
  const AttentionSignature &op = signature;
  auto emitOpError = [&](const Twine &message = {}) {
    return op.emitOpError(message);
  };
  auto queryType = cast<ShapedType>(op.query.getType());
  auto keyType = cast<ShapedType>(op.key.getType());
  auto valueType = cast<ShapedType>(op.value.getType());
  auto outType = cast<ShapedType>(op.out.getType());
  auto lseType = cast<ShapedType>(op.lse.getType());
  for (auto [name, type] :
       {std::pair<StringRef, ShapedType>{"query", queryType},
        {"key", keyType},
        {"value", valueType},
        {"out", outType}})
    if (type.getRank() != 3)
      return emitOpError() << name
                           << " must have rank 3 (tokens, heads, head_dim), "
                              "got shape "
                           << formatShape(type);
  if (lseType.getRank() != 2)
    return emitOpError("lse must have rank 2 (tokens, heads), got shape ")
           << formatShape(lseType);
  // Only token counts are run-time values: heads and the head dim decide
  // the kernel.
  for (auto [name, type] :
       {std::pair<StringRef, ShapedType>{"query", queryType},
        {"key", keyType},
        {"value", valueType},
        {"out", outType},
        {"lse", lseType}})
    for (int64_t dim = 1; dim < type.getRank(); ++dim)
      if (ShapedType::isDynamic(type.getShape()[dim]))
        return emitOpError() << name << " shape " << formatShape(type)
                             << ": heads and head dim must be static, only "
                                "the token count may be dynamic";
  if (failed(verifyMaskForm(op)))
    return failure();

  Type elementType = queryType.getElementType();
  if (keyType.getElementType() != elementType ||
      valueType.getElementType() != elementType)
    return emitOpError("query, key and value must share one element type, got ")
           << elementType << ", " << keyType.getElementType() << " and "
           << valueType.getElementType();
  if (outType.getElementType() != elementType)
    return emitOpError("out element type ")
           << outType.getElementType() << " differs from query element type "
           << elementType;

  ArrayRef<int64_t> q = queryType.getShape(), k = keyType.getShape(),
                    v = valueType.getShape();
  if (!extentsAgree(k[0], v[0]) || !extentsAgree(k[1], v[1]))
    return emitOpError("key shape ")
           << formatShape(keyType) << " and value shape "
           << formatShape(valueType)
           << " must agree in tokens and heads";
  if (!extentsAgree(q[2], k[2]) || !extentsAgree(q[2], v[2]))
    return emitOpError("head dims differ: query ")
           << q[2] << ", key " << k[2] << ", value " << v[2];
  if (!ShapedType::isDynamic(q[1]) && !ShapedType::isDynamic(k[1])) {
    if (k[1] <= 0 || q[1] <= 0)
      return emitOpError("head counts must be positive, got query ")
             << q[1] << " and key/value " << k[1];
    if (q[1] % k[1] != 0)
      return emitOpError("query heads ")
             << q[1] << " is not a multiple of key/value heads " << k[1];
  }
  for (int64_t dim = 0; dim < 3; ++dim)
    if (!extentsAgree(outType.getShape()[dim], q[dim]))
      return emitOpError("out shape ")
             << formatShape(outType) << " differs from query shape "
             << formatShape(queryType);
  if (!extentsAgree(lseType.getShape()[0], q[0]) ||
      !extentsAgree(lseType.getShape()[1], q[1]))
    return emitOpError("lse shape ")
           << formatShape(lseType) << " must be (query tokens, query heads) = "
           << (ShapedType::isDynamic(q[0]) ? std::string("?")
                                           : std::to_string(q[0]))
           << "x"
           << (ShapedType::isDynamic(q[1]) ? std::string("?")
                                           : std::to_string(q[1]));

  if (failed(verifyLimits(op, queryType, keyType)))
    return failure();
  for (auto [name, attr] : {std::pair{"scale", op.scale},
                            std::pair{"softcap", op.softcap}}) {
    if (!attr)
      continue;
    double value = attr->convertToDouble();
    if (!std::isfinite(value) || value <= 0 ||
        value > ::fattn::limits::kMaxScoreScale)
      return emitOpError() << name << " must be positive, finite and at most "
                           << "2^64 (fp32 scores stay finite), got " << value;
  }

  auto knownOrUnknown = [](int64_t extent) {
    return ShapedType::isDynamic(extent) ? int64_t(-1) : extent;
  };
  if (MaskAttr maskAttr = op.mask)
    if (std::optional<std::string> problem = mask::validate(
            maskAttr.getMask(), knownOrUnknown(q[0]), knownOrUnknown(k[0])))
      return emitOpError("mask ") << *problem;
  return success();
}

LogicalResult AttentionOp::verify() {
  if (failed(verifyDestinationStyle(*this, {getOut(), getLse()}, "out and lse")))
    return failure();
  return verifySignature(signatureOf(*this));
}

/// On memrefs: the destinations are written, every other operand read.
static void destinationStyleEffects(
    DestinationStyleOpInterface op,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  if (op.hasPureTensorSemantics())
    return;
  for (OpOperand &operand : op->getOpOperands()) {
    if (op.isDpsInit(&operand))
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

void AttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  destinationStyleEffects(*this, effects);
}

//===----------------------------------------------------------------------===//
// AttentionGradOp
//===----------------------------------------------------------------------===//

double AttentionGradOp::getEffectiveScale() {
  return effectiveScale(getScale(), getQuery());
}

double AttentionGradOp::getSoftcapValue() {
  return softcapValue(getSoftcap());
}

LogicalResult AttentionGradOp::verify() {
  if (failed(verifyDestinationStyle(*this, {getDq(), getDk(), getDv()},
                                    "dq, dk and dv")) ||
      failed(verifySignature(signatureOf(*this))))
    return failure();
  // Each gradient is shaped as what it is the gradient of.
  const std::tuple<const char *, Value, const char *, Value> pairs[] = {
      {"dout", getDout(), "out", getOut()},
      {"dq", getDq(), "query", getQuery()},
      {"dk", getDk(), "key", getKey()},
      {"dv", getDv(), "value", getValue()}};
  for (auto [name, gradient, ofName, of] : pairs) {
    auto type = cast<ShapedType>(gradient.getType());
    auto expected = cast<ShapedType>(of.getType());
    bool agree = type.getRank() == expected.getRank() &&
                 type.getElementType() == expected.getElementType();
    for (int64_t dim = 0; agree && dim < type.getRank(); ++dim)
      agree = extentsAgree(type.getShape()[dim], expected.getShape()[dim]);
    if (!agree)
      return emitOpError() << name << " must have the " << ofName
                           << "'s shape and element type " << of.getType()
                           << ", got " << gradient.getType();
  }
  return success();
}

void AttentionGradOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  destinationStyleEffects(*this, effects);
}

//===----------------------------------------------------------------------===//
// Tile operations
//===----------------------------------------------------------------------===//

/// Checks that dimension `dimA` of `a` and `dimB` of `b` can be equal.
static LogicalResult checkSameExtent(Operation *op, StringRef nameA,
                                     MemRefType a, unsigned dimA,
                                     StringRef nameB, MemRefType b,
                                     unsigned dimB) {
  if (extentsAgree(a.getShape()[dimA], b.getShape()[dimB]))
    return success();
  return op->emitOpError() << nameA << " dim " << dimA << " ("
                           << a.getShape()[dimA] << ") differs from " << nameB
                           << " dim " << dimB << " (" << b.getShape()[dimB]
                           << ")";
}

LogicalResult TileScoresOp::verify() {
  auto query = getQuery().getType(), key = getKey().getType();
  auto scores = getScores().getType();
  if (query.getElementType() != key.getElementType())
    return emitOpError("query and key element types differ");
  if (failed(checkSameExtent(*this, "query", query, 1, "key", key, 1)) ||
      failed(checkSameExtent(*this, "scores", scores, 0, "query", query, 0)) ||
      failed(checkSameExtent(*this, "scores", scores, 1, "key", key, 0)))
    return failure();
  double scale = getScale().convertToDouble();
  if (!(scale > 0 && scale <= ::fattn::limits::kMaxScoreScale))
    return emitOpError("scale must be positive, finite and at most 2^64, got ")
           << scale;
  if (std::optional<APFloat> softcap = getSoftcap()) {
    double value = softcap->convertToDouble();
    if (!(value > 0 && value <= ::fattn::limits::kMaxScoreScale))
      return emitOpError("softcap must be positive and at most 2^64, got ")
             << value;
  }
  return success();
}

LogicalResult TileMaskOp::verify() {
  int64_t columns = getSliceTable().getType().getShape()[1];
  if (!ShapedType::isDynamic(columns) && columns != 5)
    return emitOpError("slice table rows must be (q_begin, q_end, k_begin, "
                       "k_end, kind), got ")
           << columns << " columns";
  return success();
}

LogicalResult TileOnlineSoftmaxOp::verify() {
  auto scores = getScores().getType(), acc = getAcc().getType();
  auto max = getMax().getType(), sum = getSum().getType();
  return success(
      succeeded(checkSameExtent(*this, "max", max, 0, "scores", scores, 0)) &&
      succeeded(checkSameExtent(*this, "sum", sum, 0, "scores", scores, 0)) &&
      succeeded(checkSameExtent(*this, "acc", acc, 0, "scores", scores, 0)));
}

LogicalResult TileAccumulateOp::verify() {
  auto probs = getProbs().getType(), value = getValue().getType();
  auto acc = getAcc().getType();
  return success(
      succeeded(checkSameExtent(*this, "probs", probs, 1, "value", value, 0)) &&
      succeeded(checkSameExtent(*this, "acc", acc, 0, "probs", probs, 0)) &&
      succeeded(checkSameExtent(*this, "acc", acc, 1, "value", value, 1)));
}

LogicalResult TileProbabilitiesOp::verify() {
  auto scores = getScores().getType(), probs = getProbs().getType();
  return success(
      succeeded(checkSameExtent(*this, "lse", getLse().getType(), 0, "scores",
                                scores, 1)) &&
      succeeded(checkSameExtent(*this, "probs", probs, 0, "scores", scores,
                                0)) &&
      succeeded(checkSameExtent(*this, "probs", probs, 1, "scores", scores,
                                1)));
}

LogicalResult TileDotsOp::verify() {
  auto a = getA().getType(), b = getB().getType();
  auto out = cast<MemRefType>(getOut().getType());
  if (out.getRank() != (getDiagonal() ? 1 : 2))
    return emitOpError(getDiagonal() ? "with diagonal writes a 1-D out"
                                     : "writes a 2-D out (or give diagonal)");
  if (failed(checkSameExtent(*this, "a", a, 1, "b", b, 1)) ||
      failed(checkSameExtent(*this, "out", out, 0, "a", a, 0)))
    return failure();
  return getDiagonal() ? checkSameExtent(*this, "b", b, 0, "a", a, 0)
                       : checkSameExtent(*this, "out", out, 1, "b", b, 0);
}

LogicalResult TileScoreGradsOp::verify() {
  auto scores = getScores().getType();
  for (auto [name, type] : {std::pair{"probs", getProbs().getType()},
                            std::pair{"dprobs", getDprobs().getType()},
                            std::pair{"dscores", getDscores().getType()}})
    for (unsigned dim = 0; dim < 2; ++dim)
      if (failed(checkSameExtent(*this, name, type, dim, "scores", scores,
                                 dim)))
        return failure();
  return checkSameExtent(*this, "delta", getDelta().getType(), 0, "scores",
                         scores, 1);
}

LogicalResult TileAccumulateTransposedOp::verify() {
  auto weights = getWeights().getType(), value = getValue().getType();
  auto acc = getAcc().getType();
  return success(
      succeeded(checkSameExtent(*this, "weights", weights, 0, "value", value,
                                0)) &&
      succeeded(checkSameExtent(*this, "acc", acc, 0, "weights", weights,
                                1)) &&
      succeeded(checkSameExtent(*this, "acc", acc, 1, "value", value, 1)));
}

LogicalResult TileFinalizeOp::verify() {
  auto acc = getAcc().getType(), out = getOut().getType();
  auto max = getMax().getType(), sum = getSum().getType();
  auto lse = getLse().getType();
  return success(
      succeeded(checkSameExtent(*this, "out", out, 0, "acc", acc, 0)) &&
      succeeded(checkSameExtent(*this, "out", out, 1, "acc", acc, 1)) &&
      succeeded(checkSameExtent(*this, "max", max, 0, "acc", acc, 0)) &&
      succeeded(checkSameExtent(*this, "sum", sum, 0, "acc", acc, 0)) &&
      succeeded(checkSameExtent(*this, "lse", lse, 0, "acc", acc, 0)));
}

//===----------------------------------------------------------------------===//
// Run-time schedules
//===----------------------------------------------------------------------===//

/// What both schedule layouts require of their operands and tile sizes.
template <typename ScheduleOp>
static LogicalResult verifyScheduleOperands(ScheduleOp op) {
  MemRefType qRanges = op.getQRanges().getType();
  MemRefType kRanges = op.getKRanges().getType();
  MemRefType kinds = op.getKinds().getType();
  for (auto [name, type] : {std::pair{"q_ranges", qRanges}, {"k_ranges", kRanges}})
    if (!extentsAgree(type.getShape()[1], 2))
      return op.emitOpError() << name << " rows must be (begin, end), got "
                              << type.getShape()[1] << " columns";
  if (failed(checkSameExtent(op, "k_ranges", kRanges, 0, "q_ranges", qRanges,
                             0)) ||
      failed(checkSameExtent(op, "kinds", kinds, 0, "q_ranges", qRanges, 0)))
    return failure();
  constexpr int64_t kMaxBlock = ::fattn::limits::kMaxTileSize;
  int64_t blockQ = op.getBlockQ(), blockK = op.getBlockK();
  if (blockQ <= 0 || blockK <= 0 || blockQ > kMaxBlock || blockK > kMaxBlock)
    return op.emitOpError("tile sizes must be in [1, ")
           << kMaxBlock << "], got block_q=" << blockQ
           << " block_k=" << blockK;
  return success();
}

/// A table's column count, where its type states one.
static LogicalResult verifyColumns(Operation *op, StringRef name,
                                   MemRefType table, int64_t columns) {
  if (extentsAgree(table.getShape()[1], columns))
    return success();
  return op->emitOpError() << name << " has " << columns
                           << " columns, its type says "
                           << table.getShape()[1];
}

LogicalResult TileScheduleOp::verify() {
  if (getKeyMajor() && (getWholeKeyTiles() || getAlignQueryTiles()))
    return emitOpError("key_major schedules clip the query edge and tile "
                       "uniformly: no whole_key_tiles or align_query_tiles");
  if (failed(verifyScheduleOperands(*this)) ||
      failed(verifyColumns(*this, "item_k_tiles", getItemKTiles().getType(),
                           4)) ||
      failed(verifyColumns(*this, "slices", getSlices().getType(),
                           ::fattn::mask::kSliceFields)))
    return failure();
  return success();
}

LogicalResult KernelScheduleOp::verify() {
  if (failed(verifyScheduleOperands(*this)) ||
      failed(verifyColumns(*this, "slots", getSlots().getType(),
                           ::fattn::mask::KernelScheduleTables::kSlotFields)) ||
      failed(verifyColumns(*this, "items", getItems().getType(),
                           ::fattn::mask::KernelScheduleTables::kItemFields)) ||
      failed(verifyColumns(*this, "slices", getSlices().getType(),
                           ::fattn::mask::kSliceFields)))
    return failure();
  if (getMaxItemsPerTile() < 1 ||
      getMaxItemsPerTile() > ::fattn::mask::kMaxTileMapEntries)
    return emitOpError("max_items_per_tile must be in [1, ")
           << ::fattn::mask::kMaxTileMapEntries << "], got "
           << getMaxItemsPerTile();
  return success();
}
