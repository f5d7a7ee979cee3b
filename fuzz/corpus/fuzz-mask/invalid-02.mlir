

func.func @mixed_element_types(%q: tensor<16x2x64xf16>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf16>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op query, key and value must share one element type, got 'f16', 'f32' and 'f32'}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf16>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf16>, tensor<16x2xf32>) mask <> -> tensor<16x2x64xf16>, tensor<16x2xf32>
  return
}

