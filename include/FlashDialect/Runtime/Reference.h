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
#include "FlashDialect/Runtime/Problem.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fattn::runtime {

/// fp64 accumulation from the slice semantics. Rows with no attended key get
/// out 0 and lse -inf. The mask must be valid for the shape.
void referenceAttention(const mask::Mask &mask, const AttentionShape &shape,
                        const AttentionParams &params, const float *q,
                        const float *k, const float *v, double *out,
                        double *lse);

/// The gradients of referenceAttention's out with respect to q, k and v
/// for an upstream gradient `dout` (shaped as out), in fp64 from the slice
/// semantics: probabilities recomputed exactly (nothing taken from a
/// kernel's lse), delta = sum_j P * dP, the softcap's derivative
/// 1 - tanh^2, dK and dV summed over each key/value head's group of query
/// heads. Rows with no attended key contribute nothing (dq 0, no NaN); a
/// cell several slices share counts once per slice, as in the forward. dq
/// is shaped as q, dk and dv as k.
void referenceAttentionGrad(const mask::Mask &mask, const AttentionShape &shape,
                            const AttentionParams &params, const float *q,
                            const float *k, const float *v, const float *dout,
                            double *dq, double *dk, double *dv);

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
