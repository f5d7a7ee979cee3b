

func.func @mixed_tensor_memref(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: memref<16x2x64xf32>, %l: memref<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op operands must be all tensors or all memrefs}}
  fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : memref<16x2x64xf32>, memref<16x2xf32>) mask <>
  return
}

