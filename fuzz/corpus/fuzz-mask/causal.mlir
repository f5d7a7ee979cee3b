// Causal attention over 1024 tokens, GQA 8:2, head dim 64.
// Run: fattn-run examples/causal.mlir
func.func @attention(%q: tensor<1024x8x64xf32>, %k: tensor<1024x2x64xf32>, %v: tensor<1024x2x64xf32>) -> (tensor<1024x8x64xf32>, tensor<1024x8xf32>) {
  %out = tensor.empty() : tensor<1024x8x64xf32>
  %lse = tensor.empty() : tensor<1024x8xf32>
  %o, %l = fattn.attention
      ins(%q, %k, %v : tensor<1024x8x64xf32>, tensor<1024x2x64xf32>, tensor<1024x2x64xf32>)
      outs(%out, %lse : tensor<1024x8x64xf32>, tensor<1024x8xf32>)
      mask <causal [0:1024, 0:1024]>
      -> tensor<1024x8x64xf32>, tensor<1024x8xf32>
  return %o, %l : tensor<1024x8x64xf32>, tensor<1024x8xf32>
}
