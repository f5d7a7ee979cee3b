//===- Problem.h - What one attention call is, and its checks --*- C++ -*-===//
//
// Element types, the packed "thd" shape, scale and softcap, and the checks
// every entry point applies to them (FlashDialect/Limits.h): the launch path's
// vocabulary, shared by the manifest, the kernels, the C API and the oracle.
// No MLIR dependency.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_RUNTIME_PROBLEM_H
#define FATTN_RUNTIME_PROBLEM_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fattn::runtime {

enum class ElementType { F32, F16, BF16 };
std::string_view stringifyElementType(ElementType type);
std::optional<ElementType> parseElementType(std::string_view name);

/// Rounds `value` to the nearest value representable in `type` (ties to
/// even), returned as float. F32 is the identity.
float roundTo(ElementType type, float value);

/// An extent (a token count, a grid's y) that each launch decides.
constexpr int64_t kDynamicExtent = -1;

/// Packed "thd" layout: Q and O are (numQ, headsQ, headDim), K and V are
/// (numK, headsK, headDim), lse is (numQ, headsQ); all contiguous.
struct AttentionShape {
  int64_t numQ = 0, numK = 0;
  int64_t headsQ = 1, headsK = 1;
  int64_t headDim = 64;

  int64_t qElements() const { return numQ * headsQ * headDim; }
  int64_t kvElements() const { return numK * headsK * headDim; }
  int64_t lseElements() const { return numQ * headsQ; }
};

/// A scale or softcap that each launch gives (manifests write '?').
constexpr double kCallParam = -1;

struct AttentionParams {
  double scale = 0;   // 0 means 1/sqrt(headDim)
  double softcap = 0; // 0 disables it

  double effectiveScale(const AttentionShape &shape) const;
};

/// Shape problems in words (heads not divisible, non-positive sizes, sizes
/// past FlashDialect/Limits.h), or nullopt.
std::optional<std::string> checkShape(const AttentionShape &shape);

/// Why a call of numQ x numK tokens does not fit `compiled`, whose token
/// counts are fixed unless kDynamicExtent ("compiled for 128 query tokens;
/// the call has 200"), or nullopt.
std::optional<std::string> checkCallTokens(const AttentionShape &compiled,
                                           int64_t numQ, int64_t numK);

/// Why a call of `call` and `callParams` does not fit a kernel compiled for
/// `compiled` and `compiledParams`: its shape or parameters are invalid
/// (checkShape, with token counts of 0 allowed; checkParams), or a token or
/// head count, or the head dim,
/// other than a fixed one (counts are fixed unless kDynamicExtent), a scale
/// other than a fixed effective one, a softcap other than a fixed one, or
/// none where the kernel takes one per call (kCallParam: compiled with a
/// softcap) or one where it has none. nullopt when it fits.
std::optional<std::string> checkCall(const AttentionShape &compiled,
                                     const AttentionParams &compiledParams,
                                     const AttentionShape &call,
                                     const AttentionParams &callParams);

/// Scale and softcap problems in words: each must be 0 (the default: 1/sqrt
/// of the head dim; no softcap) or positive, finite and at most
/// limits::kMaxScoreScale. nullopt when fine.
std::optional<std::string> checkParams(const AttentionParams &params);

} // namespace fattn::runtime

#endif // FATTN_RUNTIME_PROBLEM_H
