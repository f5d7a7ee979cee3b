// RUN: fattn-opt %s -split-input-file -verify-diagnostics

func.func @query_rank(%q: tensor<16x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op query must have rank 3 (tokens, heads, head_dim), got shape 16x64}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @lse_rank(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16xf32>) {
  // expected-error @+1 {{'fattn.attention' op lse must have rank 2 (tokens, heads), got shape 16}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16xf32>) mask <> -> tensor<16x2x64xf32>, tensor<16xf32>
  return
}

// -----

func.func @mixed_element_types(%q: tensor<16x2x64xf16>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf16>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op query, key and value must share one element type, got 'f16', 'f32' and 'f32'}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf16>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf16>, tensor<16x2xf32>) mask <> -> tensor<16x2x64xf16>, tensor<16x2xf32>
  return
}

// -----

func.func @out_element_type(%q: tensor<16x2x64xbf16>, %k: tensor<16x2x64xbf16>, %v: tensor<16x2x64xbf16>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op out element type 'f32' differs from query element type 'bf16'}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xbf16>, tensor<16x2x64xbf16>, tensor<16x2x64xbf16>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @lse_not_f32(%q: tensor<16x2x64xf16>, %k: tensor<16x2x64xf16>, %v: tensor<16x2x64xf16>, %o: tensor<16x2x64xf16>, %l: tensor<16x2xf16>) {
  // expected-error @+1 {{'fattn.attention' op operand #4 must be ranked tensor of 32-bit float values or memref of 32-bit float values}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf16>, tensor<16x2x64xf16>, tensor<16x2x64xf16>) outs(%o, %l : tensor<16x2x64xf16>, tensor<16x2xf16>) mask <> -> tensor<16x2x64xf16>, tensor<16x2xf16>
  return
}

// -----

func.func @integer_elements(%q: tensor<16x2x64xi8>, %k: tensor<16x2x64xi8>, %v: tensor<16x2x64xi8>, %o: tensor<16x2x64xi8>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float values or memref of 16-bit float or bfloat16 type or 32-bit float values}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xi8>, tensor<16x2x64xi8>, tensor<16x2x64xi8>) outs(%o, %l : tensor<16x2x64xi8>, tensor<16x2xf32>) mask <> -> tensor<16x2x64xi8>, tensor<16x2xf32>
  return
}

// -----

func.func @key_value_lengths(%q: tensor<16x2x64xf32>, %k: tensor<32x2x64xf32>, %v: tensor<24x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op key shape 32x2x64 and value shape 24x2x64 must agree in tokens and heads}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<32x2x64xf32>, tensor<24x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @head_dims(%q: tensor<16x2x64xf32>, %k: tensor<16x2x128xf32>, %v: tensor<16x2x128xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op head dims differ: query 64, key 128, value 128}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x128xf32>, tensor<16x2x128xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @gqa_divisibility(%q: tensor<16x6x64xf32>, %k: tensor<16x4x64xf32>, %v: tensor<16x4x64xf32>, %o: tensor<16x6x64xf32>, %l: tensor<16x6xf32>) {
  // expected-error @+1 {{'fattn.attention' op query heads 6 is not a multiple of key/value heads 4}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x6x64xf32>, tensor<16x4x64xf32>, tensor<16x4x64xf32>) outs(%o, %l : tensor<16x6x64xf32>, tensor<16x6xf32>) mask <> -> tensor<16x6x64xf32>, tensor<16x6xf32>
  return
}

// -----

func.func @out_shape(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<8x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op out shape 8x2x64 differs from query shape 16x2x64}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<8x2x64xf32>, tensor<16x2xf32>) mask <> -> tensor<8x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @lse_shape(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<2x16xf32>) {
  // expected-error @+1 {{'fattn.attention' op lse shape 2x16 must be (query tokens, query heads) = 16x2}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<2x16xf32>) mask <> -> tensor<16x2x64xf32>, tensor<2x16xf32>
  return
}

// -----

func.func @q_range_out_of_bounds(%q: tensor<16x2x64xf32>, %k: tensor<32x2x64xf32>, %v: tensor<32x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op mask slice 1: q range [8, 24) exceeds query length 16}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<32x2x64xf32>, tensor<32x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <full [0:8, 0:32], causal [8:24, 0:32]> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @k_range_out_of_bounds(%q: tensor<16x2x64xf32>, %k: tensor<32x2x64xf32>, %v: tensor<32x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op mask slice 0: k range [0, 5000) exceeds key length 32}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<32x2x64xf32>, tensor<32x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <full [0:16, 0:5000]> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @reversed_range(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{slice 0: q range [8, 4) is reversed}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <causal [8:4, 0:16]> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @negative_begin(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{slice 1: k range [-4, 16) starts below 0}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <full [0:1, 0:16], full [1:16, -4:16]> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @unknown_kind(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{unknown slice kind 'casual'; expected full, causal, inv_causal or bi_causal}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <casual [0:16, 0:16]> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @shared_cell(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // Row 8 attends keys 0..8 through the causal slice and 8..15 through the
  // inverse-causal one: they share (8, 8).
  // expected-error @+1 {{'fattn.attention' op mask slices 0 and 1 both attend (q 8, k 8)}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <causal [8:16, 0:16], inv_causal [8:16, 8:16]> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @mixed_tensor_memref(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: memref<16x2x64xf32>, %l: memref<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op operands must be all tensors or all memrefs}}
  fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : memref<16x2x64xf32>, memref<16x2xf32>) mask <>
  return
}

// -----

func.func @memref_with_results(%q: memref<16x2x64xf32>, %k: memref<16x2x64xf32>, %v: memref<16x2x64xf32>, %o: memref<16x2x64xf32>, %l: memref<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op expected 0 results on memrefs, got 2}}
  %r:2 = fattn.attention ins(%q, %k, %v : memref<16x2x64xf32>, memref<16x2x64xf32>, memref<16x2x64xf32>) outs(%o, %l : memref<16x2x64xf32>, memref<16x2xf32>) mask <> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @tensor_without_results(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op expected 2 results on tensors, got 0}}
  fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <>
  return
}

// -----

func.func @result_types(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op result types must match the out and lse operands}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <> -> tensor<16x2x32xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @non_positive_scale(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op scale must be positive, finite and at most 2^64 (fp32 scores stay finite), got -1.250000e-01}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <full [0:16, 0:16]> {scale = -0.125 : f32} -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @non_positive_softcap(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op softcap must be positive, finite and at most 2^64 (fp32 scores stay finite), got 0.000000e+00}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <full [0:16, 0:16]> {softcap = 0.0 : f32} -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @malformed_slice(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{expected ':'}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <full [0, 16, 0:16]> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @slice_table_columns(%s: memref<8x8xf32>, %t: memref<3x4xi32>, %ids: memref<3xi32>, %i: index) {
  // expected-error @+1 {{'fattn.tile_mask' op slice table rows must be (q_begin, q_end, k_begin, k_end, kind), got 4 columns}}
  fattn.tile_mask %s at [%i, %i] slices %t[%ids[%i : %i]] : memref<8x8xf32>, memref<3x4xi32>, memref<3xi32>
  return
}

// -----

func.func @tile_scores_head_dims(%q: memref<8x64xf16>, %k: memref<8x128xf16>, %s: memref<8x8xf32>) {
  // expected-error @+1 {{'fattn.tile_scores' op query dim 1 (64) differs from key dim 1 (128)}}
  fattn.tile_scores %q, %k into %s {scale = 1.0 : f32} : memref<8x64xf16>, memref<8x128xf16>, memref<8x8xf32>
  return
}

// -----

func.func @both_mask_forms(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>, %qr: tensor<?x2xi32>, %kr: tensor<?x2xi32>, %kinds: tensor<?xi32>) {
  // expected-error @+1 {{'fattn.attention' op takes its mask either as the `mask` attribute or as `ranges(q_ranges, k_ranges, kinds)` operands, not both}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <> ranges(%qr, %kr, %kinds : tensor<?x2xi32>, tensor<?x2xi32>, tensor<?xi32>) -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @no_mask(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>, %qr: tensor<?x2xi32>, %kr: tensor<?x2xi32>, %kinds: tensor<?xi32>) {
  // expected-error @+1 {{'fattn.attention' op needs a mask: the `mask` attribute or `ranges(q_ranges, k_ranges, kinds)` operands}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>)  -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @ranges_rank(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>, %qr: tensor<8xi32>, %kr: tensor<4x2xi32>, %kinds: tensor<4xi32>) {
  // expected-error @+1 {{'fattn.attention' op q_ranges must be N x 2 of i32 (begin, end of each slice), got 'tensor<8xi32>'}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) ranges(%qr, %kr, %kinds : tensor<8xi32>, tensor<4x2xi32>, tensor<4xi32>) -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @ranges_width(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>, %qr: tensor<4x2xi32>, %kr: tensor<4x3xi32>, %kinds: tensor<4xi32>) {
  // expected-error @+1 {{'fattn.attention' op k_ranges must be N x 2 of i32 (begin, end of each slice), got 'tensor<4x3xi32>'}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) ranges(%qr, %kr, %kinds : tensor<4x2xi32>, tensor<4x3xi32>, tensor<4xi32>) -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @ranges_element_type(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>, %qr: tensor<4x2xi64>, %kr: tensor<4x2xi32>, %kinds: tensor<4xi32>) {
  // expected-error @+1 {{'fattn.attention' op q_ranges must be N x 2 of i32 (begin, end of each slice), got 'tensor<4x2xi64>'}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) ranges(%qr, %kr, %kinds : tensor<4x2xi64>, tensor<4x2xi32>, tensor<4xi32>) -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @ranges_counts(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>, %qr: tensor<4x2xi32>, %kr: tensor<5x2xi32>, %kinds: tensor<4xi32>) {
  // expected-error @+1 {{'fattn.attention' op q_ranges and k_ranges must hold the same number of slices, got 4x2 and 5x2}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) ranges(%qr, %kr, %kinds : tensor<4x2xi32>, tensor<5x2xi32>, tensor<4xi32>) -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @kinds_type(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>, %qr: tensor<4x2xi32>, %kr: tensor<4x2xi32>, %kinds: tensor<4xf32>) {
  // expected-error @+1 {{'fattn.attention' op kinds must be N of i32 (docs/spec.md §1's codes: 0 full, 1 causal, 2 inv_causal, 3 bi_causal), got 'tensor<4xf32>'}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) ranges(%qr, %kr, %kinds : tensor<4x2xi32>, tensor<4x2xi32>, tensor<4xf32>) -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @kinds_count(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>, %qr: tensor<?x2xi32>, %kr: tensor<4x2xi32>, %kinds: tensor<3xi32>) {
  // expected-error @+1 {{'fattn.attention' op kinds must hold one code per slice: 4 slices, got 3}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) ranges(%qr, %kr, %kinds : tensor<?x2xi32>, tensor<4x2xi32>, tensor<3xi32>) -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @ranges_on_memrefs_with_tensors(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>, %qr: memref<4x2xi32>, %kr: tensor<4x2xi32>, %kinds: tensor<4xi32>) {
  // expected-error @+1 {{'fattn.attention' op operands must be all tensors or all memrefs}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) ranges(%qr, %kr, %kinds : memref<4x2xi32>, tensor<4x2xi32>, tensor<4xi32>) -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @dynamic_heads(%q: tensor<16x?x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op query shape 16x?x64: heads and head dim must be static, only the token count may be dynamic}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x?x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @dynamic_head_dim(%q: tensor<16x2x64xf32>, %k: tensor<?x2x?xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op key shape ?x2x?: heads and head dim must be static, only the token count may be dynamic}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<?x2x?xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

// The generic form can leave out one of the three range operands.
func.func @partial_ranges(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>, %qr: tensor<4x2xi32>, %kr: tensor<4x2xi32>) {
  // expected-error @+1 {{'fattn.attention' op run-time masks take all three of q_ranges, k_ranges and kinds}}
  %r:2 = "fattn.attention"(%q, %k, %v, %o, %l, %qr, %kr) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 0>}> : (tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2xf32>, tensor<4x2xi32>, tensor<4x2xi32>) -> (tensor<16x2x64xf32>, tensor<16x2xf32>)
  return
}

// -----

func.func @schedule_range_width(%qr: memref<?x3xi32>, %kr: memref<?x2xi32>, %kinds: memref<?xi32>, %n: index) {
  // expected-error @+1 {{'fattn.tile_schedule' op q_ranges rows must be (begin, end), got 3 columns}}
  %b, %o, %s, %t, %sl, %c = fattn.tile_schedule %qr, %kr, %kinds tokens(%n, %n) {block_q = 64 : i64, block_k = 64 : i64} : memref<?x3xi32>, memref<?x2xi32>, memref<?xi32> -> memref<?xi32>, memref<?xi32>, memref<?xi32>, memref<?x4xi32>, memref<?x5xi32>
  return
}

// -----

func.func @schedule_kinds_count(%qr: memref<3x2xi32>, %kr: memref<3x2xi32>, %kinds: memref<2xi32>, %n: index) {
  // expected-error @+1 {{'fattn.tile_schedule' op kinds dim 0 (2) differs from q_ranges dim 0 (3)}}
  %b, %o, %s, %t, %sl, %c = fattn.tile_schedule %qr, %kr, %kinds tokens(%n, %n) {block_q = 64 : i64, block_k = 64 : i64} : memref<3x2xi32>, memref<3x2xi32>, memref<2xi32> -> memref<?xi32>, memref<?xi32>, memref<?xi32>, memref<?x4xi32>, memref<?x5xi32>
  return
}

// -----

func.func @schedule_block(%qr: memref<?x2xi32>, %kr: memref<?x2xi32>, %kinds: memref<?xi32>, %n: index) {
  // expected-error @+1 {{'fattn.tile_schedule' op tile sizes must be in [1, 65536], got block_q=0 block_k=64}}
  %b, %o, %s, %t, %sl, %c = fattn.tile_schedule %qr, %kr, %kinds tokens(%n, %n) {block_q = 0 : i64, block_k = 64 : i64} : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32> -> memref<?xi32>, memref<?xi32>, memref<?xi32>, memref<?x4xi32>, memref<?x5xi32>
  return
}

// -----

func.func @schedule_columns(%qr: memref<?x2xi32>, %kr: memref<?x2xi32>, %kinds: memref<?xi32>, %n: index) {
  // expected-error @+1 {{'fattn.kernel_schedule' op slots has 8 columns, its type says 4}}
  %a, %b, %c, %d, %e = fattn.kernel_schedule %qr, %kr, %kinds tokens(%n, %n) {block_q = 64 : i64, block_k = 64 : i64, max_items_per_tile = 1 : i64} : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32> -> memref<?x4xi32>, memref<?x4xi32>, memref<?xi32>, memref<?x5xi32>
  return
}

// -----

func.func @schedule_items(%qr: memref<?x2xi32>, %kr: memref<?x2xi32>, %kinds: memref<?xi32>, %n: index) {
  // expected-error @+1 {{'fattn.kernel_schedule' op max_items_per_tile must be in [1, 67108864], got 0}}
  %a, %b, %c, %d, %e = fattn.kernel_schedule %qr, %kr, %kinds tokens(%n, %n) {block_q = 64 : i64, block_k = 64 : i64, max_items_per_tile = 0 : i64} : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32> -> memref<?x8xi32>, memref<?x4xi32>, memref<?xi32>, memref<?x5xi32>
  return
}
