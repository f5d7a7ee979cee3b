// RUN: fattn-opt %s | FileCheck %s
// RUN: fattn-opt %s | fattn-opt | FileCheck %s
// RUN: fattn-opt %s --mlir-print-op-generic | fattn-opt | FileCheck %s

// CHECK-LABEL: func.func @causal_gqa
// CHECK: %{{.+}}:2 = fattn.attention ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<256x8x64xbf16>, tensor<256x2x64xbf16>, tensor<256x2x64xbf16>) outs(%{{.+}}, %{{.+}} : tensor<256x8x64xbf16>, tensor<256x8xf32>)
// CHECK-SAME: mask <causal [0:256, 0:256]> -> tensor<256x8x64xbf16>, tensor<256x8xf32>
func.func @causal_gqa(%q: tensor<256x8x64xbf16>, %k: tensor<256x2x64xbf16>, %v: tensor<256x2x64xbf16>) -> (tensor<256x8x64xbf16>, tensor<256x8xf32>) {
  %o = tensor.empty() : tensor<256x8x64xbf16>
  %l = tensor.empty() : tensor<256x8xf32>
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<256x8x64xbf16>, tensor<256x2x64xbf16>, tensor<256x2x64xbf16>) outs(%o, %l : tensor<256x8x64xbf16>, tensor<256x8xf32>) mask <causal [0:256, 0:256]> -> tensor<256x8x64xbf16>, tensor<256x8xf32>
  return %r#0, %r#1 : tensor<256x8x64xbf16>, tensor<256x8xf32>
}

// The four kinds, overlapping q ranges with disjoint keys, an empty mask
// slot, a scale and a softcap; the full attribute form parses too.
// CHECK-LABEL: func.func @every_kind
// CHECK: mask <full [0:64, 0:32], causal [0:64, 32:96], inv_causal [64:128, 0:64], bi_causal [64:128, 64:128]>
// CHECK-SAME: {scale = 1.000000e-01 : f32, softcap = 5.000000e+01 : f32}
func.func @every_kind(%q: tensor<128x4x128xf16>, %k: tensor<128x4x128xf16>, %v: tensor<128x4x128xf16>, %o: tensor<128x4x128xf16>, %l: tensor<128x4xf32>) -> (tensor<128x4x128xf16>, tensor<128x4xf32>) {
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<128x4x128xf16>, tensor<128x4x128xf16>, tensor<128x4x128xf16>) outs(%o, %l : tensor<128x4x128xf16>, tensor<128x4xf32>) mask #fattn.mask<full [0:64, 0:32], causal [0:64, 32:96], inv_causal [64:128, 0:64], bi_causal [64:128, 64:128]> {scale = 0.1 : f32, softcap = 50.0 : f32} -> tensor<128x4x128xf16>, tensor<128x4xf32>
  return %r#0, %r#1 : tensor<128x4x128xf16>, tensor<128x4xf32>
}

// CHECK-LABEL: func.func @empty_mask_on_memrefs
// CHECK: fattn.attention ins(%{{.+}}, %{{.+}}, %{{.+}} : memref<16x1x64xf32>, memref<32x1x64xf32>, memref<32x1x64xf32>) outs(%{{.+}}, %{{.+}} : memref<16x1x64xf32>, memref<16x1xf32>) mask <>
// CHECK-NOT: ->
func.func @empty_mask_on_memrefs(%q: memref<16x1x64xf32>, %k: memref<32x1x64xf32>, %v: memref<32x1x64xf32>, %o: memref<16x1x64xf32>, %l: memref<16x1xf32>) {
  fattn.attention ins(%q, %k, %v : memref<16x1x64xf32>, memref<32x1x64xf32>, memref<32x1x64xf32>) outs(%o, %l : memref<16x1x64xf32>, memref<16x1xf32>) mask <>
  return
}

// Dynamic token counts verify; the bounds they hide are checked later.
// CHECK-LABEL: func.func @dynamic_tokens
// CHECK: mask <causal [0:4096, 0:4096]> -> tensor<?x16x128xbf16>, tensor<?x16xf32>
func.func @dynamic_tokens(%q: tensor<?x16x128xbf16>, %k: tensor<?x16x128xbf16>, %v: tensor<?x16x128xbf16>, %o: tensor<?x16x128xbf16>, %l: tensor<?x16xf32>) -> (tensor<?x16x128xbf16>, tensor<?x16xf32>) {
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<?x16x128xbf16>, tensor<?x16x128xbf16>, tensor<?x16x128xbf16>) outs(%o, %l : tensor<?x16x128xbf16>, tensor<?x16xf32>) mask <causal [0:4096, 0:4096]> -> tensor<?x16x128xbf16>, tensor<?x16xf32>
  return %r#0, %r#1 : tensor<?x16x128xbf16>, tensor<?x16xf32>
}

// CHECK-LABEL: func.func @tile_ops
// CHECK: fattn.tile_scores %{{.+}}, %{{.+}} into %{{.+}} {scale = 1.250000e-01 : f32, softcap = 3.000000e+01 : f32}
// CHECK: fattn.tile_mask %{{.+}} at [%{{.+}}, %{{.+}}] slices %{{.+}}[%{{.+}}[%{{.+}} : %{{.+}}]]
// CHECK: fattn.tile_online_softmax %{{.+}} max %{{.+}} sum %{{.+}} acc %{{.+}}
// CHECK: fattn.tile_accumulate %{{.+}}, %{{.+}} into %{{.+}}
// CHECK: fattn.tile_finalize %{{.+}} max %{{.+}} sum %{{.+}} into %{{.+}}, %{{.+}}
func.func @tile_ops(%q: memref<32x64xbf16>, %k: memref<16x64xbf16>, %v: memref<16x64xbf16>, %s: memref<32x16xf32>, %m: memref<32xf32>, %sum: memref<32xf32>, %acc: memref<32x64xf32>, %o: memref<32x64xbf16>, %lse: memref<32xf32>, %t: memref<2x5xi32>, %ids: memref<2xi32>, %i: index, %j: index) {
  fattn.tile_scores %q, %k into %s {scale = 0.125 : f32, softcap = 30.0 : f32} : memref<32x64xbf16>, memref<16x64xbf16>, memref<32x16xf32>
  fattn.tile_mask %s at [%i, %j] slices %t[%ids[%i : %j]] : memref<32x16xf32>, memref<2x5xi32>, memref<2xi32>
  fattn.tile_online_softmax %s max %m sum %sum acc %acc : memref<32x16xf32>, memref<32xf32>, memref<32xf32>, memref<32x64xf32>
  fattn.tile_accumulate %s, %v into %acc : memref<32x16xf32>, memref<16x64xbf16>, memref<32x64xf32>
  fattn.tile_finalize %acc max %m sum %sum into %o, %lse : memref<32x64xf32>, memref<32xf32>, memref<32xf32>, memref<32x64xbf16>, memref<32xf32>
  return
}

// A mask given when the program runs: q_ranges, k_ranges and kinds as
// operands (MagiAttention's form), with dynamic token counts.
// CHECK-LABEL: func.func @runtime_mask
// CHECK: fattn.attention ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<?x8x64xbf16>, tensor<?x2x64xbf16>, tensor<?x2x64xbf16>) outs(%{{.+}}, %{{.+}} : tensor<?x8x64xbf16>, tensor<?x8xf32>)
// CHECK-SAME: ranges(%[[QR:.+]], %[[KR:.+]], %[[KINDS:.+]] : tensor<?x2xi32>, tensor<?x2xi32>, tensor<?xi32>) {softcap = 3.000000e+01 : f32} -> tensor<?x8x64xbf16>, tensor<?x8xf32>
func.func @runtime_mask(%q: tensor<?x8x64xbf16>, %k: tensor<?x2x64xbf16>, %v: tensor<?x2x64xbf16>, %o: tensor<?x8x64xbf16>, %l: tensor<?x8xf32>, %qr: tensor<?x2xi32>, %kr: tensor<?x2xi32>, %kinds: tensor<?xi32>) -> (tensor<?x8x64xbf16>, tensor<?x8xf32>) {
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<?x8x64xbf16>, tensor<?x2x64xbf16>, tensor<?x2x64xbf16>) outs(%o, %l : tensor<?x8x64xbf16>, tensor<?x8xf32>) ranges(%qr, %kr, %kinds : tensor<?x2xi32>, tensor<?x2xi32>, tensor<?xi32>) {softcap = 30.0 : f32} -> tensor<?x8x64xbf16>, tensor<?x8xf32>
  return %r#0, %r#1 : tensor<?x8x64xbf16>, tensor<?x8xf32>
}

// Static ranges on memrefs.
// CHECK-LABEL: func.func @runtime_mask_on_memrefs
// CHECK: ranges(%{{.+}}, %{{.+}}, %{{.+}} : memref<3x2xi32>, memref<3x2xi32>, memref<3xi32>)
// CHECK-NOT: ->
func.func @runtime_mask_on_memrefs(%q: memref<64x2x64xf16>, %k: memref<64x2x64xf16>, %v: memref<64x2x64xf16>, %o: memref<64x2x64xf16>, %l: memref<64x2xf32>, %qr: memref<3x2xi32>, %kr: memref<3x2xi32>, %kinds: memref<3xi32>) {
  fattn.attention ins(%q, %k, %v : memref<64x2x64xf16>, memref<64x2x64xf16>, memref<64x2x64xf16>) outs(%o, %l : memref<64x2x64xf16>, memref<64x2xf32>) ranges(%qr, %kr, %kinds : memref<3x2xi32>, memref<3x2xi32>, memref<3xi32>)
  return
}

// The two layouts of a run-time plan.
// CHECK-LABEL: func.func @schedules
// CHECK: fattn.tile_schedule %{{.+}}, %{{.+}}, %{{.+}} tokens(%{{.+}}, %{{.+}}) {align_query_tiles, block_k = 64 : i64, block_q = 128 : i64, whole_key_tiles} : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32> -> memref<?xi32>, memref<?xi32>, memref<?xi32>, memref<?x4xi32>, memref<?x5xi32>
// CHECK: fattn.kernel_schedule %{{.+}}, %{{.+}}, %{{.+}} tokens(%{{.+}}, %{{.+}}) {block_k = 64 : i64, block_q = 128 : i64, max_items_per_tile = 8 : i64} : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32> -> memref<?x8xi32>, memref<?x4xi32>, memref<?xi32>, memref<?x5xi32>
func.func @schedules(%qr: memref<?x2xi32>, %kr: memref<?x2xi32>, %kinds: memref<?xi32>, %nq: index, %nk: index) -> (index, index) {
  %b, %o, %s, %t, %sl, %n = fattn.tile_schedule %qr, %kr, %kinds tokens(%nq, %nk) {block_q = 128 : i64, block_k = 64 : i64, whole_key_tiles, align_query_tiles} : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32> -> memref<?xi32>, memref<?xi32>, memref<?xi32>, memref<?x4xi32>, memref<?x5xi32>
  %slots, %items, %is, %slices, %m = fattn.kernel_schedule %qr, %kr, %kinds tokens(%nq, %nk) {block_q = 128 : i64, block_k = 64 : i64, max_items_per_tile = 8 : i64} : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32> -> memref<?x8xi32>, memref<?x4xi32>, memref<?xi32>, memref<?x5xi32>
  return %n, %m : index, index
}
