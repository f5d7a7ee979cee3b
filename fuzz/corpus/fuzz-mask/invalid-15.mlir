

func.func @unknown_kind(%q: tensor<16x2x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{unknown slice kind 'casual'; expected full, causal, inv_causal or bi_causal}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <casual [0:16, 0:16]> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

