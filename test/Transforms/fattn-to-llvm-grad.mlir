// A tensor-level fattn.attention_grad bufferizes (dq, dk and dv are written
// whole, so empty destinations cost nothing) and lowers to the LLVM dialect
// through the CPU pipeline.
// RUN: fattn-opt %s --fattn-to-llvm='block-q=16 block-k=8' | FileCheck %s
// CHECK-NOT: fattn.
// CHECK: llvm.func @grad(
// CHECK-NOT: fattn.

func.func @grad(%do: tensor<32x4x8xf32>, %q: tensor<32x4x8xf32>, %k: tensor<32x2x8xf32>, %v: tensor<32x2x8xf32>, %o: tensor<32x4x8xf32>, %lse: tensor<32x4xf32>) -> (tensor<32x4x8xf32>, tensor<32x2x8xf32>, tensor<32x2x8xf32>) {
  %dq0 = tensor.empty() : tensor<32x4x8xf32>
  %dk0 = tensor.empty() : tensor<32x2x8xf32>
  %dv0 = tensor.empty() : tensor<32x2x8xf32>
  %g:3 = fattn.attention_grad ins(%do, %q, %k, %v, %o, %lse : tensor<32x4x8xf32>, tensor<32x4x8xf32>, tensor<32x2x8xf32>, tensor<32x2x8xf32>, tensor<32x4x8xf32>, tensor<32x4xf32>) outs(%dq0, %dk0, %dv0 : tensor<32x4x8xf32>, tensor<32x2x8xf32>, tensor<32x2x8xf32>) mask <causal [0:32, 0:32]> -> tensor<32x4x8xf32>, tensor<32x2x8xf32>, tensor<32x2x8xf32>
  return %g#0, %g#1, %g#2 : tensor<32x4x8xf32>, tensor<32x2x8xf32>, tensor<32x2x8xf32>
}
