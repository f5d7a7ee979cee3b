// RUN: fattn-opt %s -split-input-file --fattn-tile-attention -verify-diagnostics

func.func @dynamic_tokens(%q: memref<?x2x64xf32>, %k: memref<?x2x64xf32>, %v: memref<?x2x64xf32>, %o: memref<?x2x64xf32>, %l: memref<?x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op fattn-tile-attention needs static shapes, got 'memref<?x2x64xf32>'}}
  fattn.attention ins(%q, %k, %v : memref<?x2x64xf32>, memref<?x2x64xf32>, memref<?x2x64xf32>) outs(%o, %l : memref<?x2x64xf32>, memref<?x2xf32>) mask <causal [0:16, 0:16]>
  return
}

// -----

func.func @not_bufferized(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) -> (tensor<16x2x64xf32>, tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op must be bufferized before fattn-tile-attention}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <causal [0:16, 0:16]> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return %r#0, %r#1 : tensor<16x2x64xf32>, tensor<16x2xf32>
}


// -----

// A mask given as ranges operands has no tiling yet: refused by name, never
// tiled with some other mask.
func.func @runtime_mask(%q: memref<64x2x64xbf16>, %k: memref<64x2x64xbf16>, %v: memref<64x2x64xbf16>, %o: memref<64x2x64xbf16>, %l: memref<64x2xf32>, %qr: memref<?x2xi32>, %kr: memref<?x2xi32>, %kinds: memref<?xi32>) {
  // expected-error @+1 {{'fattn.attention' op fattn-tile-attention needs the mask as an attribute: masks given as ranges operands are not tiled yet}}
  fattn.attention ins(%q, %k, %v : memref<64x2x64xbf16>, memref<64x2x64xbf16>, memref<64x2x64xbf16>) outs(%o, %l : memref<64x2x64xbf16>, memref<64x2xf32>) ranges(%qr, %kr, %kinds : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32>)
  return
}
