

func.func @lse_rank(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16xf32>) {
  // expected-error @+1 {{'fattn.attention' op lse must have rank 2 (tokens, heads), got shape 16}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16xf32>) mask <> -> tensor<16x2x64xf32>, tensor<16xf32>
  return
}

