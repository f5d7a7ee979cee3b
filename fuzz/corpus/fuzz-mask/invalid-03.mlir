

func.func @out_element_type(%q: tensor<16x2x64xbf16>, %k: tensor<16x2x64xbf16>, %v: tensor<16x2x64xbf16>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op out element type 'f32' differs from query element type 'bf16'}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xbf16>, tensor<16x2x64xbf16>, tensor<16x2x64xbf16>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

