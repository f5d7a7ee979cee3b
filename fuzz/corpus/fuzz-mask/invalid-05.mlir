

func.func @integer_elements(%q: tensor<16x2x64xi8>, %k: tensor<16x2x64xi8>, %v: tensor<16x2x64xi8>, %o: tensor<16x2x64xi8>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float values or memref of 16-bit float or bfloat16 type or 32-bit float values}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xi8>, tensor<16x2x64xi8>, tensor<16x2x64xi8>) outs(%o, %l : tensor<16x2x64xi8>, tensor<16x2xf32>) mask <> -> tensor<16x2x64xi8>, tensor<16x2xf32>
  return
}

