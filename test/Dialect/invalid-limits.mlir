// RUN: fattn-opt %s -split-input-file -verify-diagnostics
//
// Every size and number the kernels cannot take is refused where the
// program enters, with the limit named (FlashDialect/Limits.h).

func.func @zero_head_dim(%q: tensor<16x2x0xf32>, %k: tensor<16x2x0xf32>, %v: tensor<16x2x0xf32>, %o: tensor<16x2x0xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op head dim must be positive, got 0}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x0xf32>, tensor<16x2x0xf32>, tensor<16x2x0xf32>) outs(%o, %l : tensor<16x2x0xf32>, tensor<16x2xf32>) mask <full [0:16, 0:16]> -> tensor<16x2x0xf32>, tensor<16x2xf32>
  return
}

// -----

// 2^31 query tokens: one more than int32 indexes.
func.func @query_tokens_past_int32(%q: tensor<2147483648x1x8xbf16>, %k: tensor<16x1x8xbf16>, %v: tensor<16x1x8xbf16>, %o: tensor<2147483648x1x8xbf16>, %l: tensor<2147483648x1xf32>) {
  // expected-error @+1 {{'fattn.attention' op query length 2147483648 exceeds 2147483647 (2^31 - 1), the most tokens kernels index}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<2147483648x1x8xbf16>, tensor<16x1x8xbf16>, tensor<16x1x8xbf16>) outs(%o, %l : tensor<2147483648x1x8xbf16>, tensor<2147483648x1xf32>) mask <full [0:16, 0:16]> -> tensor<2147483648x1x8xbf16>, tensor<2147483648x1xf32>
  return
}

// -----

// A key length of 2^62 is refused here, long before any tile is classified.
func.func @key_tokens_2_62(%q: tensor<16x1x8xbf16>, %k: tensor<4611686018427387904x1x8xbf16>, %v: tensor<4611686018427387904x1x8xbf16>, %o: tensor<16x1x8xbf16>, %l: tensor<16x1xf32>) {
  // expected-error @+1 {{'fattn.attention' op key length 4611686018427387904 exceeds 2147483647 (2^31 - 1), the most tokens kernels index}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x1x8xbf16>, tensor<4611686018427387904x1x8xbf16>, tensor<4611686018427387904x1x8xbf16>) outs(%o, %l : tensor<16x1x8xbf16>, tensor<16x1xf32>) mask <full [0:16, 0:16]> -> tensor<16x1x8xbf16>, tensor<16x1xf32>
  return
}

// -----

func.func @too_many_heads(%q: tensor<16x65536x8xbf16>, %k: tensor<16x1x8xbf16>, %v: tensor<16x1x8xbf16>, %o: tensor<16x65536x8xbf16>, %l: tensor<16x65536xf32>) {
  // expected-error @+1 {{'fattn.attention' op query heads 65536 exceed the limit of 65535}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x65536x8xbf16>, tensor<16x1x8xbf16>, tensor<16x1x8xbf16>) outs(%o, %l : tensor<16x65536x8xbf16>, tensor<16x65536xf32>) mask <full [0:16, 0:16]> -> tensor<16x65536x8xbf16>, tensor<16x65536xf32>
  return
}

// -----

// 2^31 - 1 tokens x 1024 heads x 1024: 2^51 elements, beyond any memory.
func.func @too_many_elements(%q: tensor<2147483647x1024x1024xbf16>, %k: tensor<16x1x1024xbf16>, %v: tensor<16x1x1024xbf16>, %o: tensor<2147483647x1024x1024xbf16>, %l: tensor<2147483647x1024xf32>) {
  // expected-error @+1 {{'fattn.attention' op query has 2147483647 x 1024 x 1024 elements, more than 2^40 (beyond any device's memory)}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<2147483647x1024x1024xbf16>, tensor<16x1x1024xbf16>, tensor<16x1x1024xbf16>) outs(%o, %l : tensor<2147483647x1024x1024xbf16>, tensor<2147483647x1024xf32>) mask <full [0:16, 0:16]> -> tensor<2147483647x1024x1024xbf16>, tensor<2147483647x1024xf32>
  return
}

// -----

// 3e38 is a finite f32, but scores scaled by it overflow fp32.
func.func @scale_past_2_64(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op scale must be positive, finite and at most 2^64 (fp32 scores stay finite), got 3.000000e+38}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <full [0:16, 0:16]> {scale = 3.0e38 : f32} -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @softcap_infinite(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op softcap must be positive, finite and at most 2^64 (fp32 scores stay finite), got INF}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <full [0:16, 0:16]> {softcap = 0x7F800000 : f32} -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @bound_past_2_62(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{slice 0: q range [0, 4611686018427387905) exceeds the largest index a mask may hold, 2^62}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <full [0:4611686018427387905, 0:16]> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

// The mask attribute has no type; one written after it is not dropped.
func.func @typed_mask(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{the mask attribute takes no type, got 'i32'}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask #fattn.mask<full [0:16, 0:16]> : i32 -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

// A mask in the attribute dictionary would replace the one written before it.
func.func @mask_in_attr_dict(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{the mask is written after `mask`, not in the attribute dictionary}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <causal [0:16, 0:16]> {mask = #fattn.mask<full [0:1, 0:1]>} -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

// -----

func.func @tile_scores_nan_scale(%q: memref<32x64xbf16>, %k: memref<16x64xbf16>, %s: memref<32x16xf32>) {
  // expected-error @+1 {{'fattn.tile_scores' op scale must be positive, finite and at most 2^64, got nan}}
  fattn.tile_scores %q, %k into %s {scale = 0x7FC00000 : f32} : memref<32x64xbf16>, memref<16x64xbf16>, memref<32x16xf32>
  return
}
