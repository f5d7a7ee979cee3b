

func.func @shared_cell(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // Row 8 attends keys 0..8 through the causal slice and 8..15 through the
  // inverse-causal one: they share (8, 8).
  // expected-error @+1 {{'fattn.attention' op mask slices 0 and 1 both attend (q 8, k 8)}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <causal [8:16, 0:16], inv_causal [8:16, 8:16]> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

