// RUN: not fattn-opt %s --fattn-tile-attention='block-q=0' 2>&1 | FileCheck %s

// CHECK: error: 'fattn.attention' op tile sizes must be in [1, 65536], got block-q=0 block-k=64
func.func @zero_rows(%q: memref<16x2x64xf32>, %k: memref<16x2x64xf32>, %v: memref<16x2x64xf32>, %o: memref<16x2x64xf32>, %l: memref<16x2xf32>) {
  fattn.attention ins(%q, %k, %v : memref<16x2x64xf32>, memref<16x2x64xf32>, memref<16x2x64xf32>) outs(%o, %l : memref<16x2x64xf32>, memref<16x2xf32>) mask <causal [0:16, 0:16]>
  return
}
