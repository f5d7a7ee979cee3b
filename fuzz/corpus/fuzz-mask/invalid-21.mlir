

func.func @non_positive_scale(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op scale must be positive, finite and at most 2^64 (fp32 scores stay finite), got -1.250000e-01}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <full [0:16, 0:16]> {scale = -0.125 : f32} -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

