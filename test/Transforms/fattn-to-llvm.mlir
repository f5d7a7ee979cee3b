// RUN: fattn-opt %s --fattn-to-llvm='block-q=32 block-k=32' | FileCheck %s

// The registered pipeline leaves nothing but the LLVM dialect: tile tables
// become constant globals, and exp2, log2 and the softcap's tanh LLVM
// intrinsics.
// CHECK-DAG: llvm.mlir.global private constant @{{.+}}_item_offsets
// CHECK-LABEL: llvm.func @attention
// CHECK-NOT: fattn.
// CHECK-NOT: scf.
// CHECK-NOT: memref.
// CHECK: llvm.intr.tanh
// CHECK: llvm.intr.exp2
// CHECK: llvm.intr.log2
func.func @attention(%q: tensor<64x2x16xf32>, %k: tensor<64x2x16xf32>, %v: tensor<64x2x16xf32>) -> (tensor<64x2x16xf32>, tensor<64x2xf32>) {
  %out = tensor.empty() : tensor<64x2x16xf32>
  %lse = tensor.empty() : tensor<64x2xf32>
  %o, %l = fattn.attention ins(%q, %k, %v : tensor<64x2x16xf32>, tensor<64x2x16xf32>, tensor<64x2x16xf32>) outs(%out, %lse : tensor<64x2x16xf32>, tensor<64x2xf32>) mask <causal [0:64, 0:64]> {softcap = 20.0 : f32} -> tensor<64x2x16xf32>, tensor<64x2xf32>
  return %o, %l : tensor<64x2x16xf32>, tensor<64x2xf32>
}
