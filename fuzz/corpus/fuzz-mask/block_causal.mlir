// Block-causal attention, blocks of 256: every token sees its own block and all earlier ones. Written with overlapping q ranges (earlier blocks, own block) as range-mask libraries do; fattn-normalize-mask merges them.
// Run: fattn-run examples/block_causal.mlir
func.func @attention(%q: tensor<1024x8x64xf32>, %k: tensor<1024x2x64xf32>, %v: tensor<1024x2x64xf32>) -> (tensor<1024x8x64xf32>, tensor<1024x8xf32>) {
  %out = tensor.empty() : tensor<1024x8x64xf32>
  %lse = tensor.empty() : tensor<1024x8xf32>
  %o, %l = fattn.attention
      ins(%q, %k, %v : tensor<1024x8x64xf32>, tensor<1024x2x64xf32>, tensor<1024x2x64xf32>)
      outs(%out, %lse : tensor<1024x8x64xf32>, tensor<1024x8xf32>)
      mask <full [0:256, 0:256], full [256:512, 0:256], full [256:512, 256:512], full [512:768, 0:512], full [512:768, 512:768], full [768:1024, 0:768], full [768:1024, 768:1024]>
      -> tensor<1024x8x64xf32>, tensor<1024x8xf32>
  return %o, %l : tensor<1024x8x64xf32>, tensor<1024x8xf32>
}
