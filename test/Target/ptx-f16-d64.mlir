// f16 with head dim 64 and a softcap: f16 tensor-core instructions, tanh,
// and no spills.
//
// RUN: rm -rf %t && fattn-run %s --target=gpu --emit-dir %t --warps=4
// RUN: FileCheck %s --input-file=%t/ptx-f16-d64.ptx
// CHECK-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// CHECK-DAG: cvt.rn.f16x2.f32
// CHECK-DAG: tanh.approx.f32
// CHECK-NOT: bf16
//
// REQUIRES: ptxas
// RUN: %ptxas -arch=sm_90a -v %t/ptx-f16-d64.ptx -o %t/k.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS
// PTXAS: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
func.func @attention(%q: tensor<256x4x64xf16>, %k: tensor<256x4x64xf16>, %v: tensor<256x4x64xf16>) -> (tensor<256x4x64xf16>, tensor<256x4xf32>) {
  %out = tensor.empty() : tensor<256x4x64xf16>
  %lse = tensor.empty() : tensor<256x4xf32>
  %o, %l = fattn.attention ins(%q, %k, %v : tensor<256x4x64xf16>, tensor<256x4x64xf16>, tensor<256x4x64xf16>) outs(%out, %lse : tensor<256x4x64xf16>, tensor<256x4xf32>) mask <full [0:128, 0:128], causal [128:256, 0:256]> {softcap = 30.0 : f32} -> tensor<256x4x64xf16>, tensor<256x4xf32>
  return %o, %l : tensor<256x4x64xf16>, tensor<256x4xf32>
}
