// What the backward's tiling does not take yet says so.
// RUN: fattn-opt %s -split-input-file --fattn-tile-attention -verify-diagnostics

func.func @bf16_gradients(%do: memref<32x2x8xbf16>, %q: memref<32x2x8xbf16>, %k: memref<32x2x8xbf16>, %o: memref<32x2x8xbf16>, %lse: memref<32x2xf32>, %dq: memref<32x2x8xbf16>) {
  // expected-error @+1 {{gradients are accumulated in place, in f32: bf16 and f16 gradients need the GPU lowering, not written yet}}
  fattn.attention_grad ins(%do, %q, %k, %k, %o, %lse : memref<32x2x8xbf16>, memref<32x2x8xbf16>, memref<32x2x8xbf16>, memref<32x2x8xbf16>, memref<32x2x8xbf16>, memref<32x2xf32>) outs(%dq, %k, %k : memref<32x2x8xbf16>, memref<32x2x8xbf16>, memref<32x2x8xbf16>) mask <causal [0:32, 0:32]>
  return
}

// -----

func.func @runtime_mask(%t: memref<?x2x8xf32>, %lse: memref<?x2xf32>, %r: memref<?x2xi32>, %kinds: memref<?xi32>) {
  // expected-error @+1 {{with a run-time mask is not tiled yet}}
  fattn.attention_grad ins(%t, %t, %t, %t, %t, %lse : memref<?x2x8xf32>, memref<?x2x8xf32>, memref<?x2x8xf32>, memref<?x2x8xf32>, memref<?x2x8xf32>, memref<?x2xf32>) outs(%t, %t, %t : memref<?x2x8xf32>, memref<?x2x8xf32>, memref<?x2x8xf32>) ranges(%r, %r, %kinds : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32>)
  return
}
