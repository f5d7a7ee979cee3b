// RUN: fattn-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(fattn-normalize-mask))' | FileCheck %s

// Block-causal written with overlapping q ranges (earlier blocks, own block)
// merges into one full slice per block.
// CHECK-LABEL: func.func @block_causal
// CHECK: mask <full [0:64, 0:64], full [64:128, 0:128], full [128:192, 0:192]>
func.func @block_causal(%q: tensor<192x2x64xf32>, %k: tensor<192x2x64xf32>, %v: tensor<192x2x64xf32>, %o: tensor<192x2x64xf32>, %l: tensor<192x2xf32>) -> (tensor<192x2x64xf32>, tensor<192x2xf32>) {
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<192x2x64xf32>, tensor<192x2x64xf32>, tensor<192x2x64xf32>) outs(%o, %l : tensor<192x2x64xf32>, tensor<192x2xf32>) mask <full [128:192, 128:192], full [0:64, 0:64], full [64:128, 0:64], full [64:128, 64:128], full [128:192, 0:128]> -> tensor<192x2x64xf32>, tensor<192x2xf32>
  return %r#0, %r#1 : tensor<192x2x64xf32>, tensor<192x2xf32>
}

// -----

// Slices that attend nothing disappear; a causal slice taller than it is
// wide loses the rows that see no key.
// CHECK-LABEL: func.func @drop_and_tighten
// CHECK: mask <causal [32:64, 0:32]>
func.func @drop_and_tighten(%q: tensor<64x1x64xf32>, %k: tensor<32x1x64xf32>, %v: tensor<32x1x64xf32>, %o: tensor<64x1x64xf32>, %l: tensor<64x1xf32>) -> (tensor<64x1x64xf32>, tensor<64x1xf32>) {
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<64x1x64xf32>, tensor<32x1x64xf32>, tensor<32x1x64xf32>) outs(%o, %l : tensor<64x1x64xf32>, tensor<64x1xf32>) mask <full [0:16, 5:5], causal [0:64, 0:32], bi_causal [0:8, 16:20]> -> tensor<64x1x64xf32>, tensor<64x1xf32>
  return %r#0, %r#1 : tensor<64x1x64xf32>, tensor<64x1xf32>
}

// -----

// A causal slice whose every row sees all its keys is a full slice; an
// inverse-causal slice loses the rows whose keys run out.
// CHECK-LABEL: func.func @simplest_kind
// CHECK: mask <full [0:1, 0:49], inv_causal [1:9, 49:57]>
func.func @simplest_kind(%q: tensor<16x1x64xf32>, %k: tensor<64x1x64xf32>, %v: tensor<64x1x64xf32>, %o: tensor<16x1x64xf32>, %l: tensor<16x1xf32>) -> (tensor<16x1x64xf32>, tensor<16x1xf32>) {
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x1x64xf32>, tensor<64x1x64xf32>, tensor<64x1x64xf32>) outs(%o, %l : tensor<16x1x64xf32>, tensor<16x1xf32>) mask <causal [0:1, 0:49], inv_causal [1:16, 49:57]> -> tensor<16x1x64xf32>, tensor<16x1xf32>
  return %r#0, %r#1 : tensor<16x1x64xf32>, tensor<16x1xf32>
}

// -----

// Already canonical masks are left as they are, and so are the other
// attributes.
// CHECK-LABEL: func.func @canonical
// CHECK: mask <causal [0:128, 0:128]> {softcap = 2.000000e+01 : f32}
func.func @canonical(%q: tensor<128x4x64xf32>, %k: tensor<128x4x64xf32>, %v: tensor<128x4x64xf32>, %o: tensor<128x4x64xf32>, %l: tensor<128x4xf32>) -> (tensor<128x4x64xf32>, tensor<128x4xf32>) {
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<128x4x64xf32>, tensor<128x4x64xf32>, tensor<128x4x64xf32>) outs(%o, %l : tensor<128x4x64xf32>, tensor<128x4xf32>) mask <causal [0:128, 0:128]> {softcap = 20.0 : f32} -> tensor<128x4x64xf32>, tensor<128x4xf32>
  return %r#0, %r#1 : tensor<128x4x64xf32>, tensor<128x4xf32>
}

// -----

// A run-time mask is left as it is.
// CHECK-LABEL: func.func @runtime_mask
// CHECK: ranges(%{{.+}}, %{{.+}}, %{{.+}} : tensor<?x2xi32>, tensor<?x2xi32>, tensor<?xi32>)
// CHECK-NOT: mask <
func.func @runtime_mask(%q: tensor<64x2x64xbf16>, %k: tensor<64x2x64xbf16>, %v: tensor<64x2x64xbf16>, %o: tensor<64x2x64xbf16>, %l: tensor<64x2xf32>, %qr: tensor<?x2xi32>, %kr: tensor<?x2xi32>, %kinds: tensor<?xi32>) -> (tensor<64x2x64xbf16>, tensor<64x2xf32>) {
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<64x2x64xbf16>, tensor<64x2x64xbf16>, tensor<64x2x64xbf16>) outs(%o, %l : tensor<64x2x64xbf16>, tensor<64x2xf32>) ranges(%qr, %kr, %kinds : tensor<?x2xi32>, tensor<?x2xi32>, tensor<?xi32>) -> tensor<64x2x64xbf16>, tensor<64x2xf32>
  return %r#0, %r#1 : tensor<64x2x64xbf16>, tensor<64x2xf32>
}
