

func.func @q_range_out_of_bounds(%q: tensor<16x2x64xf32>, %k: tensor<32x2x64xf32>, %v: tensor<32x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op mask slice 1: q range [8, 24) exceeds query length 16}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<32x2x64xf32>, tensor<32x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <full [0:8, 0:32], causal [8:24, 0:32]> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

