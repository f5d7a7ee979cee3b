

func.func @out_shape(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<8x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op out shape 8x2x64 differs from query shape 16x2x64}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<8x2x64xf32>, tensor<16x2xf32>) mask <> -> tensor<8x2x64xf32>, tensor<16x2xf32>
  return
}

