

func.func @memref_with_results(%q: memref<16x2x64xf32>, %k: memref<16x2x64xf32>, %v: memref<16x2x64xf32>, %o: memref<16x2x64xf32>, %l: memref<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op expected 0 results on memrefs, got 2}}
  %r:2 = fattn.attention ins(%q, %k, %v : memref<16x2x64xf32>, memref<16x2x64xf32>, memref<16x2x64xf32>) outs(%o, %l : memref<16x2x64xf32>, memref<16x2xf32>) mask <> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

