

func.func @lse_not_f32(%q: tensor<16x2x64xf16>, %k: tensor<16x2x64xf16>, %v: tensor<16x2x64xf16>, %o: tensor<16x2x64xf16>, %l: tensor<16x2xf16>) {
  // expected-error @+1 {{'fattn.attention' op operand #4 must be ranked tensor of 32-bit float values or memref of 32-bit float values}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf16>, tensor<16x2x64xf16>, tensor<16x2x64xf16>) outs(%o, %l : tensor<16x2x64xf16>, tensor<16x2xf16>) mask <> -> tensor<16x2x64xf16>, tensor<16x2xf16>
  return
}

