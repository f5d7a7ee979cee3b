// Sliding-window causal attention, window 128 (each token sees itself and the 127 before it), head dim 128.
// Run: fattn-run examples/sliding_window_causal.mlir
func.func @attention(%q: tensor<1024x8x128xf32>, %k: tensor<1024x2x128xf32>, %v: tensor<1024x2x128xf32>) -> (tensor<1024x8x128xf32>, tensor<1024x8xf32>) {
  %out = tensor.empty() : tensor<1024x8x128xf32>
  %lse = tensor.empty() : tensor<1024x8xf32>
  %o, %l = fattn.attention
      ins(%q, %k, %v : tensor<1024x8x128xf32>, tensor<1024x2x128xf32>, tensor<1024x2x128xf32>)
      outs(%out, %lse : tensor<1024x8x128xf32>, tensor<1024x8xf32>)
      mask <causal [0:128, 0:128], bi_causal [128:1024, 1:1024]>
      -> tensor<1024x8x128xf32>, tensor<1024x8xf32>
  return %o, %l : tensor<1024x8x128xf32>, tensor<1024x8xf32>
}
