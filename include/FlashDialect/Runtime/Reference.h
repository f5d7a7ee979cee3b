//===- Reference.h - Attention references computed from the mask -*- C++ -*-=//
//
// Independent of any generated code: a fp64 reference straight from the slice
// semantics of docs/spec.md §1, and the "naive low-precision" attention that
// the correctness yardstick (docs/spec.md §3) compares against. No MLIR
// dependency.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_RUNTIME_REFERENCE_H
#define FATTN_RUNTIME_REFERENCE_H

#include "FlashDialect/Mask/Mask.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fattn::runtime {

enum class ElementType { F32, F16, BF16 };
std::string_view stringifyElementType(ElementType type);
std::optional<ElementType> parseElementType(std::string_view name);

/// Rounds `value` to the nearest value representable in `type` (ties to
/// even), returned as float. F32 is the identity.
float roundTo(ElementType type, float value);

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

struct AttentionParams {
  double scale = 0;   // 0 means 1/sqrt(headDim)
  double softcap = 0; // 0 disables it

  double effectiveScale(const AttentionShape &shape) const;
};

/// Shape problems in words (heads not divisible, non-positive sizes, sizes
/// past FlashDialect/Limits.h), or nullopt.
std::optional<std::string> checkShape(const AttentionShape &shape);

/// Scale and softcap problems in words: each must be 0 (the default: 1/sqrt
/// of the head dim; no softcap) or positive, finite and at most
/// limits::kMaxScoreScale. nullopt when fine.
std::optional<std::string> checkParams(const AttentionParams &params);

/// fp64 accumulation from the slice semantics. Rows with no attended key get
/// out 0 and lse -inf. The mask must be valid for the shape.
void referenceAttention(const mask::Mask &mask, const AttentionShape &shape,
                        const AttentionParams &params, const float *q,
                        const float *k, const float *v, double *out,
                        double *lse);

/// Plain materialized-scores attention as eager PyTorch computes it in
/// `type`: Q@K^T accumulates in fp32 and is rounded to `type`, as is every
/// element-wise result (scaling, each step of the softcap); softmax works in
/// fp32 and its probabilities are rounded; P@V accumulates in fp32 and is
/// rounded once. lse is fp32 log-sum-exp of the rounded scores. Rows with no
/// attended key get out 0 and lse -inf (where eager softmax would give NaN).
void naiveAttention(const mask::Mask &mask, const AttentionShape &shape,
                    const AttentionParams &params, ElementType type,
                    const float *q, const float *k, const float *v,
                    float *out, float *lse);

/// Deterministic standard-normal values rounded to `type`.
std::vector<float> randomTensor(int64_t count, uint64_t seed,
                                ElementType type);

} // namespace fattn::runtime

#endif // FATTN_RUNTIME_REFERENCE_H
