

func.func @gqa_divisibility(%q: tensor<16x6x64xf32>, %k: tensor<16x4x64xf32>, %v: tensor<16x4x64xf32>, %o: tensor<16x6x64xf32>, %l: tensor<16x6xf32>) {
  // expected-error @+1 {{'fattn.attention' op query heads 6 is not a multiple of key/value heads 4}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x6x64xf32>, tensor<16x4x64xf32>, tensor<16x4x64xf32>) outs(%o, %l : tensor<16x6x64xf32>, tensor<16x6xf32>) mask <> -> tensor<16x6x64xf32>, tensor<16x6xf32>
  return
}

