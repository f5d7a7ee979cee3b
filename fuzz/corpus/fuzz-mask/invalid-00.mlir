// RUN: fattn-opt %s -split-input-file -verify-diagnostics

func.func @query_rank(%q: tensor<16x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x2x64xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{'fattn.attention' op query must have rank 3 (tokens, heads, head_dim), got shape 16x64}}
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<16x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) outs(%o, %l : tensor<16x2x64xf32>, tensor<16x2xf32>) mask <> -> tensor<16x2x64xf32>, tensor<16x2xf32>
  return
}

