// RUN: fattn-opt %s -split-input-file --fattn-tile-attention -verify-diagnostics

func.func @dynamic_tokens(%q: memref<?x2x64xf32>, %k: memref<?x2x64xf32>, %v: memref<?x2x64xf32>, %o: memref<?x2x64xf32>, %l: memref<?x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op a mask attribute needs static token counts (its tiles are planned when compiling), got 'memref<?x2x64xf32>'}}
  fattn.attention ins(%q, %k, %v : memref<?x2x64xf32>, memref<?x2x64xf32>, memref<?x2x64xf32>) outs(%o, %l : memref<?x2x64xf32>, memref<?x2xf32>) mask <causal [0:16, 0:16]>
  return
}

// -----

func.func @not_bufferized(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) -> (tensor<16x2x64xf32>, tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op must be bufferized before fattn-tile-attention}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <causal [0:16, 0:16]> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return %r#0, %r#1 : tensor<16x2x64xf32>, tensor<16x2xf32>
}
