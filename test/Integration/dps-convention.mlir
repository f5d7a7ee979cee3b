// The destination-passing convention @f(q, k, v, out, lse) runs too, and a
// GQA 32:4 program with a softcap matches the reference.
// RUN: fattn-run %s --block-q=16 --block-k=16 | FileCheck %s
// CHECK: Sq=48 Sk=64 Hq=32 Hk=4 D=16 f32
// 48 rows of 64 - 48 + 1 .. 64 keys: sum_{i=0}^{47} (17 + i)
// CHECK: attended pairs 1944 of 3072
// CHECK: PASS
func.func @dps(%q: tensor<48x32x16xf32>, %k: tensor<64x4x16xf32>, %v: tensor<64x4x16xf32>, %out: tensor<48x32x16xf32>, %lse: tensor<48x32xf32>) -> (tensor<48x32x16xf32>, tensor<48x32xf32>) {
  %o, %l = fattn.attention ins(%q, %k, %v : tensor<48x32x16xf32>, tensor<64x4x16xf32>, tensor<64x4x16xf32>) outs(%out, %lse : tensor<48x32x16xf32>, tensor<48x32xf32>) mask <causal [0:48, 0:64]> {softcap = 5.0 : f32} -> tensor<48x32x16xf32>, tensor<48x32xf32>
  return %o, %l : tensor<48x32x16xf32>, tensor<48x32xf32>
}
