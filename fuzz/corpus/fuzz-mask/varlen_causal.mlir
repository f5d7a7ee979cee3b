// Five packed documents (100, 300, 24, 400, 200 tokens), each causal over itself: flash_attn_varlen_func with cu_seqlens [0, 100, 400, 424, 824, 1024].
// Run: fattn-run examples/varlen_causal.mlir
func.func @attention(%q: tensor<1024x8x64xf32>, %k: tensor<1024x2x64xf32>, %v: tensor<1024x2x64xf32>) -> (tensor<1024x8x64xf32>, tensor<1024x8xf32>) {
  %out = tensor.empty() : tensor<1024x8x64xf32>
  %lse = tensor.empty() : tensor<1024x8xf32>
  %o, %l = fattn.attention
      ins(%q, %k, %v : tensor<1024x8x64xf32>, tensor<1024x2x64xf32>, tensor<1024x2x64xf32>)
      outs(%out, %lse : tensor<1024x8x64xf32>, tensor<1024x8xf32>)
      mask <causal [0:100, 0:100], causal [100:400, 100:400], causal [400:424, 400:424], causal [424:824, 424:824], causal [824:1024, 824:1024]>
      -> tensor<1024x8x64xf32>, tensor<1024x8xf32>
  return %o, %l : tensor<1024x8x64xf32>, tensor<1024x8xf32>
}
