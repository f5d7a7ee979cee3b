//===- FattnOps.td - fattn operations -----------------------*- tablegen -*-===//

#ifndef FATTN_OPS_TD
#define FATTN_OPS_TD

include "FlashDialect/FattnBase.td"
include "FlashDialect/FattnAttrs.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributes.td"

def Fattn_AttnElementType : AnyTypeOf<[F16, BF16, F32]>;
// Range operands: any ranked shape, so that the verifier can name what is
// wrong with one (rank, element type, extents) instead of a generic
// constraint message.
def Fattn_RangeOperand : AnyTypeOf<[AnyRankedTensor, AnyMemRef]>;
def Fattn_TensorOrMemRef :
    AnyTypeOf<[RankedTensorOf<[Fattn_AttnElementType]>,
               MemRefOf<[Fattn_AttnElementType]>]>;

//===----------------------------------------------------------------------===//
// fattn.attention
//===----------------------------------------------------------------------===//

def Fattn_AttentionOp : Fattn_Op<"attention", [
    DestinationStyleOpInterface, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Attention of Q over K/V restricted to a range mask";
  let description = [{
    Computes, for every query row `r` and query head `h`,

        out[r, h]  = sum_j softmax_j(s[r, h, j]) * V[j, h / g]
        lse[r, h]  = log sum_j exp(s[r, h, j])
        s[r, h, j] = softcap(scale * <Q[r, h], K[j, h / g]>)

    over the keys `j` that the mask attends for row `r`, where `g = Hq / Hk`
    (GQA/MQA). Layout is packed "thd": Q and out are `(Sq, Hq, D)`, K and V
    `(Sk, Hk, D)`, lse `(Sq, Hq)` in f32. `scale` defaults to `1/sqrt(D)`;
    `softcap = c` replaces a score `s` by `c * tanh(s / c)`. A row with no
    attended key yields out 0 and lse -inf.

    Destination-passing style: `out` and `lse` are overwritten, never read.
    On tensors the op returns the new `out` and `lse`; on memrefs it writes
    them in place and returns nothing.

    ```mlir
    %o, %l = fattn.attention ins(%q, %k, %v : tensor<256x8x64xf32>,
                                 tensor<256x2x64xf32>, tensor<256x2x64xf32>)
                             outs(%out, %lse : tensor<256x8x64xf32>,
                                  tensor<256x8xf32>)
                             mask <causal [0:256, 0:256]>
                             -> tensor<256x8x64xf32>, tensor<256x8xf32>
    ```

    The mask is either the `mask` attribute, fixed when the program is
    compiled, or given when it runs as three operands in MagiAttention's
    form: `q_ranges` and `k_ranges` (N x 2, i32: begin, end of each slice)
    and `kinds` (N, i32: docs/spec.md §1's codes), exactly one of the two.
    Token dimensions (of Q, K, V, out and lse, and N) may be dynamic; heads
    and the head dim are static. Run-time slices are checked before a
    launch (ranges inside the lengths, begin <= end, kinds 0..3); a cell
    two of them share counts once per slice.

    ```mlir
    %o, %l = fattn.attention ins(%q, %k, %v : tensor<?x8x64xbf16>,
                                 tensor<?x2x64xbf16>, tensor<?x2x64xbf16>)
                             outs(%out, %lse : tensor<?x8x64xbf16>,
                                  tensor<?x8xf32>)
                             ranges(%qr, %kr, %kinds : tensor<?x2xi32>,
                                    tensor<?x2xi32>, tensor<?xi32>)
                             -> tensor<?x8x64xbf16>, tensor<?x8xf32>
    ```
  }];

  let arguments = (ins
    Fattn_TensorOrMemRef:$query,
    Fattn_TensorOrMemRef:$key,
    Fattn_TensorOrMemRef:$value,
    Fattn_TensorOrMemRef:$out,
    AnyTypeOf<[RankedTensorOf<[F32]>, MemRefOf<[F32]>]>:$lse,
    Optional<Fattn_RangeOperand>:$q_ranges,
    Optional<Fattn_RangeOperand>:$k_ranges,
    Optional<Fattn_RangeOperand>:$kinds,
    OptionalAttr<Fattn_MaskAttr>:$mask,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<F32Attr>:$softcap
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);

  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,`
      type($value) `)`
    `outs` `(` $out `,` $lse `:` type($out) `,` type($lse) `)`
    (`mask` $mask^)?
    (`ranges` `(` $q_ranges^ `,` $k_ranges `,` $kinds `:` type($q_ranges) `,`
      type($k_ranges) `,` type($kinds) `)`)?
    `` custom<AttrDictWithoutMask>(attr-dict) (`->` type($results)^)?
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// The scale actually applied: the attribute, or 1/sqrt(D).
    double getEffectiveScale();
    /// 0 when no softcap is set.
    double getSoftcapValue();
    bool hasPureTensorSemantics() {
      return ::llvm::isa<::mlir::RankedTensorType>(getQuery().getType());
    }
    /// out and lse, operands 3 and 4.
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(getOperation(), /*start=*/3,
                                         /*length=*/2);
    }
    /// Whether the mask comes as q_ranges / k_ranges / kinds operands.
    bool hasRuntimeMask() { return static_cast<bool>(getQRanges()); }
  }];
}

//===----------------------------------------------------------------------===//
// fattn.attention_grad
//===----------------------------------------------------------------------===//

def Fattn_AttentionGradOp : Fattn_Op<"attention_grad", [
    DestinationStyleOpInterface, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Gradients of fattn.attention with respect to Q, K and V";
  let description = [{
    For the attention `out = fattn.attention(Q, K, V)` with the same mask,
    scale and softcap, and `lse` its log-sum-exp, computes from the gradient
    `dout` of a loss with respect to `out`:

        P[r, h, j]  = exp(s[r, h, j] - lse[r, h])          (attended j)
        dV[j, g]    = sum over r, h in group g of P[r, h, j] * dout[r, h]
        dP[r, h, j] = <dout[r, h], V[j, h / g]>
        delta[r, h] = <dout[r, h], out[r, h]> = sum_j P * dP
        dS[r, h, j] = P[r, h, j] * (dP[r, h, j] - delta[r, h])
        dQ[r, h]    = scale * sum_j dS' * K[j, h / g]
        dK[j, g]    = scale * sum over r, h in group g of dS' * Q[r, h]

    where `dS' = dS * (1 - tanh^2(scale * <Q, K> / c))` under `softcap =
    c` (the derivative of `c * tanh(x / c)`), else `dS' = dS`. With GQA, dK
    and dV sum over the query heads of each key/value group. Rows with no
    attended key (lse -inf) contribute nothing: their dQ is 0, and nothing
    is NaN. A cell that several run-time slices share counts once per slice,
    as in the forward.

    Operands: `dout` and `out` (Sq, Hq, D) and `lse` (Sq, Hq, f32) as the
    forward returned them, Q, K, V as the forward took them; results `dq`
    like Q, `dk` and `dv` like K and V (destination-passing style). The mask
    is the `mask` attribute or `ranges(q_ranges, k_ranges, kinds)` operands,
    exactly as for fattn.attention. `deterministic` asks for gradients that
    are bitwise identical from run to run (a fixed reduction order).

    ```mlir
    %dq, %dk, %dv = fattn.attention_grad
        ins(%dout, %q, %k, %v, %out, %lse : tensor<256x8x64xf32>,
            tensor<256x8x64xf32>, tensor<256x2x64xf32>, tensor<256x2x64xf32>,
            tensor<256x8x64xf32>, tensor<256x8xf32>)
        outs(%dq0, %dk0, %dv0 : tensor<256x8x64xf32>, tensor<256x2x64xf32>,
             tensor<256x2x64xf32>)
        mask <causal [0:256, 0:256]>
        -> tensor<256x8x64xf32>, tensor<256x2x64xf32>, tensor<256x2x64xf32>
    ```
  }];

  let arguments = (ins
    Fattn_TensorOrMemRef:$dout,
    Fattn_TensorOrMemRef:$query,
    Fattn_TensorOrMemRef:$key,
    Fattn_TensorOrMemRef:$value,
    Fattn_TensorOrMemRef:$out,
    AnyTypeOf<[RankedTensorOf<[F32]>, MemRefOf<[F32]>]>:$lse,
    Fattn_TensorOrMemRef:$dq,
    Fattn_TensorOrMemRef:$dk,
    Fattn_TensorOrMemRef:$dv,
    Optional<Fattn_RangeOperand>:$q_ranges,
    Optional<Fattn_RangeOperand>:$k_ranges,
    Optional<Fattn_RangeOperand>:$kinds,
    OptionalAttr<Fattn_MaskAttr>:$mask,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<F32Attr>:$softcap,
    UnitAttr:$deterministic
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);

  let assemblyFormat = [{
    `ins` `(` $dout `,` $query `,` $key `,` $value `,` $out `,` $lse `:`
      type($dout) `,` type($query) `,` type($key) `,` type($value) `,`
      type($out) `,` type($lse) `)`
    `outs` `(` $dq `,` $dk `,` $dv `:` type($dq) `,` type($dk) `,` type($dv)
      `)`
    (`mask` $mask^)?
    (`ranges` `(` $q_ranges^ `,` $k_ranges `,` $kinds `:` type($q_ranges) `,`
      type($k_ranges) `,` type($kinds) `)`)?
    `` custom<AttrDictWithoutMask>(attr-dict) (`->` type($results)^)?
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// The scale actually applied: the attribute, or 1/sqrt(D).
    double getEffectiveScale();
    /// 0 when no softcap is set.
    double getSoftcapValue();
    bool hasPureTensorSemantics() {
      return ::llvm::isa<::mlir::RankedTensorType>(getQuery().getType());
    }
    /// dq, dk and dv, operands 6 to 8.
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(getOperation(), /*start=*/6,
                                         /*length=*/3);
    }
    bool hasRuntimeMask() { return static_cast<bool>(getQRanges()); }
  }];
}

//===----------------------------------------------------------------------===//
// Tile operations: one (query tile, key tile) step of the online softmax
//===----------------------------------------------------------------------===//
//
// `fattn-tile-attention` rewrites a bufferized fattn.attention into loops over
// the key tiles each query tile must visit, keeping the online-softmax state
// (running max, running sum, accumulator) in explicit buffers and calling the
// ops below once per tile. They name the steps of the algorithm and nothing
// about the target: `fattn-lower-tiles-to-loops` turns them into scalar loops
// for the CPU, and a GPU lowering maps the same steps onto warps and tensor
// cores. Scores are kept in base 2 (multiplied by log2(e)) so that the
// softmax uses exp2.

def Fattn_TileMemRef2D : MemRefRankOf<[Fattn_AttnElementType], [2]>;
def Fattn_TileF32MemRef2D : MemRefRankOf<[F32], [2]>;
def Fattn_TileF32MemRef1D : MemRefRankOf<[F32], [1]>;

def Fattn_TileScoresOp : Fattn_Op<"tile_scores", [
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Base-2 scores of a query tile against a key tile";
  let description = [{
    `scores[i, j] = log2(e) * softcap(scale * <query[i, :], key[j, :]>)`,
    accumulated in f32. `query` is `(rows, D)`, `key` is `(cols, D)`,
    `scores` is `(rows, cols)`.
  }];
  let arguments = (ins Fattn_TileMemRef2D:$query, Fattn_TileMemRef2D:$key,
                       Fattn_TileF32MemRef2D:$scores, F32Attr:$scale,
                       OptionalAttr<F32Attr>:$softcap);
  let assemblyFormat = [{
    $query `,` $key `into` $scores attr-dict `:` type($query) `,` type($key)
      `,` type($scores)
  }];
  let hasVerifier = 1;
}

def Fattn_TileMaskOp : Fattn_Op<"tile_mask", [
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Sets scores of unattended cells of a partial tile to -inf";
  let description = [{
    The tile's cell `(i, j)` is global cell `(row_offset + i, col_offset + j)`.
    It stays when one of the slices `slice_ids[ids_begin .. ids_end)` of
    `slice_table` attends it; otherwise its score becomes -inf. Each row of
    `slice_table` is `(q_begin, q_end, k_begin, k_end, kind)` with the kind's
    integer code. Only partial tiles carry this op: full tiles are visited
    without any mask arithmetic.
  }];
  let arguments = (ins Fattn_TileF32MemRef2D:$scores, Index:$row_offset,
                       Index:$col_offset, MemRefRankOf<[I32], [2]>:$slice_table,
                       MemRefRankOf<[I32], [1]>:$slice_ids, Index:$ids_begin,
                       Index:$ids_end);
  let assemblyFormat = [{
    $scores `at` ` ` `[` $row_offset `,` $col_offset `]` `slices` $slice_table
      `[` $slice_ids `[` $ids_begin `:` $ids_end `]` `]` attr-dict `:`
      type($scores) `,` type($slice_table) `,` type($slice_ids)
  }];
  let hasVerifier = 1;
}

def Fattn_TileOnlineSoftmaxOp : Fattn_Op<"tile_online_softmax", [
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Online-softmax update: running max, running sum, rescale";
  let description = [{
    For each row `i` with base-2 scores `s`:

        m'      = max(max[i], max_j s[i, j])
        alpha   = exp2(max[i] - m')
        s[i, j] = exp2(s[i, j] - m')            (the probabilities, in place)
        sum[i]  = alpha * sum[i] + sum_j s[i, j]
        acc[i]  = alpha * acc[i]
        max[i]  = m'

    Rows whose scores are all -inf so far keep max -inf, sum 0 and a zero
    accumulator, with no NaN.
  }];
  let arguments = (ins Fattn_TileF32MemRef2D:$scores,
                       Fattn_TileF32MemRef1D:$max, Fattn_TileF32MemRef1D:$sum,
                       Fattn_TileF32MemRef2D:$acc);
  let assemblyFormat = [{
    $scores `max` $max `sum` $sum `acc` $acc attr-dict `:` type($scores) `,`
      type($max) `,` type($sum) `,` type($acc)
  }];
  let hasVerifier = 1;
}

def Fattn_TileAccumulateOp : Fattn_Op<"tile_accumulate", [
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "acc += probabilities x value tile";
  let arguments = (ins Fattn_TileF32MemRef2D:$probs, Fattn_TileMemRef2D:$value,
                       Fattn_TileF32MemRef2D:$acc);
  let assemblyFormat = [{
    $probs `,` $value `into` $acc attr-dict `:` type($probs) `,` type($value)
      `,` type($acc)
  }];
  let hasVerifier = 1;
}

def Fattn_TileFinalizeOp : Fattn_Op<"tile_finalize", [
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Normalizes the accumulator and writes out and lse";
  let description = [{
    `out[i] = acc[i] / sum[i]` and `lse[i] = ln(2) * (max[i] + log2(sum[i]))`;
    a row with `sum[i] == 0` attended nothing and gets out 0, lse -inf.
  }];
  let arguments = (ins Fattn_TileF32MemRef2D:$acc, Fattn_TileF32MemRef1D:$max,
                       Fattn_TileF32MemRef1D:$sum, Fattn_TileMemRef2D:$out,
                       Fattn_TileF32MemRef1D:$lse);
  let assemblyFormat = [{
    $acc `max` $max `sum` $sum `into` $out `,` $lse attr-dict `:` type($acc)
      `,` type($max) `,` type($sum) `,` type($out) `,` type($lse)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Backward tile operations: one (key tile, query tile) step of the gradients
//===----------------------------------------------------------------------===//
//
// The backward runs key-major (docs/backward.md): a tile's rows are keys and
// its columns queries. Scores come from tile_scores with the key tile as its
// first operand (so `scores[i, j]` is key i against query j, in base 2);
// dV and dK accumulate with tile_accumulate, dQ with
// tile_accumulate_transposed.

def Fattn_TileProbabilitiesOp : Fattn_Op<"tile_probabilities", [
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Probabilities of a key-major score tile from the queries' lse";
  let description = [{
    `probs[i, j] = exp2(scores[i, j] - log2(e) * lse[j])`, with base-2
    `scores` (rows: keys, columns: queries) and the forward's natural-log
    `lse` of each query. A masked score (-inf), or a query that attended
    nothing (lse -inf), gives 0.
  }];
  let arguments = (ins Fattn_TileF32MemRef2D:$scores,
                       Fattn_TileF32MemRef1D:$lse,
                       Fattn_TileF32MemRef2D:$probs);
  let assemblyFormat = [{
    $scores `lse` $lse `into` $probs attr-dict `:` type($scores) `,`
      type($lse) `,` type($probs)
  }];
  let hasVerifier = 1;
}

def Fattn_TileDotsOp : Fattn_Op<"tile_dots", [
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Raw dot products of the rows of two tiles";
  let description = [{
    `out[i, j] = <a[i, :], b[j, :]>`, accumulated in f32; with `diagonal`,
    `out` is 1-D and `out[i] = <a[i, :], b[i, :]>` (the backward's
    `delta = rowsum(dO * O)`).
  }];
  let arguments = (ins Fattn_TileMemRef2D:$a, Fattn_TileMemRef2D:$b,
                       AnyTypeOf<[Fattn_TileF32MemRef2D,
                                  Fattn_TileF32MemRef1D]>:$out,
                       UnitAttr:$diagonal);
  let assemblyFormat = [{
    $a `,` $b `into` $out attr-dict `:` type($a) `,` type($b) `,` type($out)
  }];
  let hasVerifier = 1;
}

def Fattn_TileScoreGradsOp : Fattn_Op<"tile_score_grads", [
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Gradients of the raw scores of a key-major tile";
  let description = [{
    `dscores[i, j] = scale * probs[i, j] * (dprobs[i, j] - delta[j]) * g`,
    where under `softcap = c` `g = 1 - (scores[i, j] / (log2(e) * c))^2`
    (the derivative of `c * tanh(x / c)`, from the capped base-2 score) and
    otherwise `g = 1`; a cell of probability 0 (masked) gets 0. `dprobs[i, j]` is key i's value
    row against query j's upstream gradient, `delta[j]` query j's `<dout,
    out>`. The result is the gradient of the loss with respect to the
    unscaled dot product `<q, k>`, so that dK and dQ are its products with Q
    and K.
  }];
  let arguments = (ins Fattn_TileF32MemRef2D:$scores,
                       Fattn_TileF32MemRef2D:$probs,
                       Fattn_TileF32MemRef2D:$dprobs,
                       Fattn_TileF32MemRef1D:$delta,
                       Fattn_TileF32MemRef2D:$dscores, F32Attr:$scale,
                       OptionalAttr<F32Attr>:$softcap);
  let assemblyFormat = [{
    $scores `,` $probs `,` $dprobs `delta` $delta `into` $dscores attr-dict
      `:` type($scores) `,` type($probs) `,` type($dprobs) `,` type($delta)
      `,` type($dscores)
  }];
  let hasVerifier = 1;
}

def Fattn_TileAccumulateTransposedOp : Fattn_Op<"tile_accumulate_transposed",
    [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "acc += transposed weights x value tile";
  let description = [{
    `acc[j, d] += sum_i weights[i, j] * value[i, d]`: the backward's dQ of a
    query tile from a key-major weight tile and the key tile.
  }];
  let arguments = (ins Fattn_TileF32MemRef2D:$weights,
                       Fattn_TileMemRef2D:$value, Fattn_TileF32MemRef2D:$acc);
  let assemblyFormat = [{
    $weights `,` $value `into` $acc attr-dict `:` type($weights) `,`
      type($value) `,` type($acc)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Work schedules of masks given at run time
//===----------------------------------------------------------------------===//
//
// A mask attribute's schedule is known when the program is compiled and is
// written as constant tables; a mask given as range operands is planned when
// the program runs, by the mask library's buildWorkSchedule (docs/spec.md
// §5), in one of two layouts: the tiled loops' (fattn.tile_schedule) or the
// GPU kernels' records (fattn.kernel_schedule). The planner checks the
// ranges first (mask::maskFromRanges); a launch never sees ranges that fail.

class Fattn_ScheduleOp<string mnemonic> : Fattn_Op<mnemonic, [
    MemoryEffects<[MemRead, MemAlloc]>]> {
  let hasVerifier = 1;
}

def Fattn_TileScheduleOp : Fattn_ScheduleOp<"tile_schedule"> {
  let summary = "The work schedule of run-time ranges, as the tiled loops read it";
  let description = [{
    Plans the mask the ranges give (each row of `q_ranges`/`k_ranges` a
    slice's begin and end, `kinds` its kind code) over `num_q` x `num_k`
    tokens in `block_q` x `block_k` tiles, with the key edge and query-tile
    policy of fattn-tile-attention, and returns the schedule's tables:
    `q_tile_begins` (query tiles + 1), `item_offsets` (query tiles + 1, CSR
    into the items), `item_slices` (one slice index per item),
    `item_k_tiles` (items x 4: key-tile begin, full begin, full end, key-tile
    end), `slices` (N x 5: q begin, q end, k begin, k end, kind) and the
    number of query tiles. The tables are allocated by the op and live until
    the end of the enclosing function.

    With `key_major`, the backward's schedule instead: the mask seen from
    the keys (mask::transposeMask, mask::buildKeyMajorSchedule), whose rows
    are key tiles of `block_k` keys and whose visits are query tiles of
    `block_q` queries; `q_tile_begins` and the count then describe key
    tiles, `item_k_tiles` runs of query tiles, and `slices` the transposed
    slices (clipped key edge, uniform tiles).
  }];
  let arguments = (ins MemRefRankOf<[I32], [2]>:$q_ranges,
                       MemRefRankOf<[I32], [2]>:$k_ranges,
                       MemRefRankOf<[I32], [1]>:$kinds, Index:$num_q,
                       Index:$num_k, I64Attr:$block_q, I64Attr:$block_k,
                       UnitAttr:$whole_key_tiles, UnitAttr:$align_query_tiles,
                       UnitAttr:$key_major);
  let results = (outs MemRefRankOf<[I32], [1]>:$q_tile_begins,
                      MemRefRankOf<[I32], [1]>:$item_offsets,
                      MemRefRankOf<[I32], [1]>:$item_slices,
                      MemRefRankOf<[I32], [2]>:$item_k_tiles,
                      MemRefRankOf<[I32], [2]>:$slices, Index:$num_q_tiles);
  let assemblyFormat = [{
    $q_ranges `,` $k_ranges `,` $kinds `tokens` `(` $num_q `,` $num_k `)`
      attr-dict `:` type($q_ranges) `,` type($k_ranges) `,` type($kinds)
      `->` type($q_tile_begins) `,` type($item_offsets) `,`
      type($item_slices) `,` type($item_k_tiles) `,` type($slices)
  }];
}

def Fattn_KernelScheduleOp : Fattn_ScheduleOp<"kernel_schedule"> {
  let summary = "The work schedule of run-time ranges, as GPU kernels read it";
  let description = [{
    The schedule fattn.tile_schedule plans, laid out by
    mask::kernelScheduleTables: `slots` (launch slots x 8, longest first:
    first row, row end, items begin, items end, visits), `items` (items x 4:
    first visit in its tile, key-tile begin, full begin, full end),
    `item_slices`, `slices` (N x 5) and the number of launch slots. A
    kernel searches a tile's items in a fixed number of steps, so the plan
    fails when a query tile has more than `max_items_per_tile` items.
    fattn-map-tiles-to-gpu puts this op on the host side of a run-time
    kernel's launch; the fattn runtime computes the same records with the
    mask library before it launches the kernel.
  }];
  let arguments = (ins MemRefRankOf<[I32], [2]>:$q_ranges,
                       MemRefRankOf<[I32], [2]>:$k_ranges,
                       MemRefRankOf<[I32], [1]>:$kinds, Index:$num_q,
                       Index:$num_k, I64Attr:$block_q, I64Attr:$block_k,
                       UnitAttr:$whole_key_tiles, UnitAttr:$align_query_tiles,
                       I64Attr:$max_items_per_tile);
  let results = (outs MemRefRankOf<[I32], [2]>:$slots,
                      MemRefRankOf<[I32], [2]>:$items,
                      MemRefRankOf<[I32], [1]>:$item_slices,
                      MemRefRankOf<[I32], [2]>:$slices, Index:$num_slots);
  let assemblyFormat = [{
    $q_ranges `,` $k_ranges `,` $kinds `tokens` `(` $num_q `,` $num_k `)`
      attr-dict `:` type($q_ranges) `,` type($k_ranges) `,` type($kinds)
      `->` type($slots) `,` type($items) `,` type($item_slices) `,`
      type($slices)
  }];
}

#endif // FATTN_OPS_TD
