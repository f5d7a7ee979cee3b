

func.func @k_range_out_of_bounds(%q: tensor<16x2x64xf32>, %k: tensor<32x2x64xf32>, %v: tensor<32x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op mask slice 0: k range [0, 5000) exceeds key length 32}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<32x2x64xf32>, tensor<32x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <full [0:16, 0:5000]> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

