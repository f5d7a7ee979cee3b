

func.func @lse_shape(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<2x16xf32>) {
  // expected-error @+1 {{'fattn.attention' op lse shape 2x16 must be (query tokens, query heads) = 16x2}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<2x16xf32>) mask <> -> tensor<16x2x64xf32>, tensor<2x16xf32>
  return
}

