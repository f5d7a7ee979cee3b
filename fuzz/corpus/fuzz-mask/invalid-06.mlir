

func.func @key_value_lengths(%q: tensor<16x2x64xf32>, %k: tensor<32x2x64xf32>, %v: tensor<24x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op key shape 32x2x64 and value shape 24x2x64 must agree in tokens and heads}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<32x2x64xf32>, tensor<24x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

