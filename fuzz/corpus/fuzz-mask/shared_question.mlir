// Shared question: a 256-token question, causal over itself, followed by two answers (256 and 512 tokens) that each see the whole question and are causal over themselves.
// Run: fattn-run examples/shared_question.mlir
func.func @attention(%q: tensor<1024x8x64xf32>, %k: tensor<1024x2x64xf32>, %v: tensor<1024x2x64xf32>) -> (tensor<1024x8x64xf32>, tensor<1024x8xf32>) {
  %out = tensor.empty() : tensor<1024x8x64xf32>
  %lse = tensor.empty() : tensor<1024x8xf32>
  %o, %l = fattn.attention
      ins(%q, %k, %v : tensor<1024x8x64xf32>, tensor<1024x2x64xf32>, tensor<1024x2x64xf32>)
      outs(%out, %lse : tensor<1024x8x64xf32>, tensor<1024x8xf32>)
      mask <causal [0:256, 0:256], full [256:512, 0:256], causal [256:512, 256:512], full [512:1024, 0:256], causal [512:1024, 512:1024]>
      -> tensor<1024x8x64xf32>, tensor<1024x8xf32>
  return %o, %l : tensor<1024x8x64xf32>, tensor<1024x8xf32>
}
