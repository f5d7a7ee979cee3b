

func.func @head_dims(%q: tensor<16x2x64xf32>, %k: tensor<16x2x128xf32>, %v: tensor<16x2x128xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op head dims differ: query 64, key 128, value 128}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x2x64xf32>, tensor<16x2x128xf32>, tensor<16x2x128xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

