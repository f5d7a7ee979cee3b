// What the backward's tiling does not take yet says so.
// RUN: fattn-opt %s -split-input-file --fattn-tile-attention -verify-diagnostics

func.func @bf16_gradients(%do: memref<32x2x8xbf16>, %q: memref<32x2x8xbf16>, %k: memref<32x2x8xbf16>, %o: memref<32x2x8xbf16>, %lse: memref<32x2xf32>, %dq: memref<32x2x8xbf16>) {
  // expected-error @+1 {{gradients are accumulated in place, in f32: bf16 and f16 gradients need the GPU lowering, not written yet}}
  fattn.attention_grad ins(%do, %q, %k, %k, %o, %lse : memref<32x2x8xbf16>, memref<32x2x8xbf16>, memref<32x2x8xbf16>, memref<32x2x8xbf16>, memref<32x2x8xbf16>, memref<32x2xf32>) outs(%dq, %k, %k : memref<32x2x8xbf16>, memref<32x2x8xbf16>, memref<32x2x8xbf16>) mask <causal [0:32, 0:32]>
  return
}

// -----

func.func @key_major_policy(%r: memref<?x2xi32>, %kinds: memref<?xi32>, %n: index) {
  // expected-error @+1 {{key_major schedules clip the query edge and tile uniformly: no whole_key_tiles or align_query_tiles}}
  %a, %b, %c, %d, %e, %f = fattn.tile_schedule %r, %r, %kinds tokens(%n, %n) {block_q = 16 : i64, block_k = 16 : i64, key_major, whole_key_tiles} : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32> -> memref<?xi32>, memref<?xi32>, memref<?xi32>, memref<?x4xi32>, memref<?x5xi32>
  return
}
