// The backward of a packed batch: three documents of 48, 24 and 56 tokens,
// causal inside each, GQA 4:2, with a softcap. fattn-run computes dQ, dK
// and dV on the CPU (the key-major schedule of the mask library) and checks
// them against the fp64 reference gradients.
func.func @packed_documents_grad(
    %dout: tensor<128x4x32xf32>, %q: tensor<128x4x32xf32>,
    %k: tensor<128x2x32xf32>, %v: tensor<128x2x32xf32>,
    %out: tensor<128x4x32xf32>, %lse: tensor<128x4xf32>)
    -> (tensor<128x4x32xf32>, tensor<128x2x32xf32>, tensor<128x2x32xf32>) {
  %dq0 = tensor.empty() : tensor<128x4x32xf32>
  %dk0 = tensor.empty() : tensor<128x2x32xf32>
  %dv0 = tensor.empty() : tensor<128x2x32xf32>
  %g:3 = fattn.attention_grad
      ins(%dout, %q, %k, %v, %out, %lse : tensor<128x4x32xf32>,
          tensor<128x4x32xf32>, tensor<128x2x32xf32>, tensor<128x2x32xf32>,
          tensor<128x4x32xf32>, tensor<128x4xf32>)
      outs(%dq0, %dk0, %dv0 : tensor<128x4x32xf32>, tensor<128x2x32xf32>,
           tensor<128x2x32xf32>)
      mask <causal [0:48, 0:48], causal [48:72, 48:72], causal [72:128, 72:128]>
      {softcap = 30.0 : f32}
      -> tensor<128x4x32xf32>, tensor<128x2x32xf32>, tensor<128x2x32xf32>
  return %g#0, %g#1, %g#2
      : tensor<128x4x32xf32>, tensor<128x2x32xf32>, tensor<128x2x32xf32>
}
