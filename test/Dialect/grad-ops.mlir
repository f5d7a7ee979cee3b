// fattn.attention_grad: the gradients of fattn.attention, with the same mask
// forms, scale and softcap; round-trips in the custom and generic forms.
// RUN: fattn-opt %s | FileCheck %s
// RUN: fattn-opt %s | fattn-opt | FileCheck %s
// RUN: fattn-opt %s --mlir-print-op-generic | fattn-opt | FileCheck %s

// CHECK-LABEL: func.func @causal_gqa_grad
// CHECK: %{{.+}}:3 = fattn.attention_grad ins(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : tensor<256x8x64xbf16>, tensor<256x8x64xbf16>, tensor<256x2x64xbf16>, tensor<256x2x64xbf16>, tensor<256x8x64xbf16>, tensor<256x8xf32>) outs(%{{.+}}, %{{.+}}, %{{.+}} : tensor<256x8x64xbf16>, tensor<256x2x64xbf16>, tensor<256x2x64xbf16>)
// CHECK-SAME: mask <causal [0:256, 0:256]> {deterministic, softcap = 3.000000e+01 : f32} -> tensor<256x8x64xbf16>, tensor<256x2x64xbf16>, tensor<256x2x64xbf16>
func.func @causal_gqa_grad(%do: tensor<256x8x64xbf16>, %q: tensor<256x8x64xbf16>, %k: tensor<256x2x64xbf16>, %v: tensor<256x2x64xbf16>, %o: tensor<256x8x64xbf16>, %l: tensor<256x8xf32>) -> (tensor<256x8x64xbf16>, tensor<256x2x64xbf16>, tensor<256x2x64xbf16>) {
  %dq = tensor.empty() : tensor<256x8x64xbf16>
  %dk = tensor.empty() : tensor<256x2x64xbf16>
  %dv = tensor.empty() : tensor<256x2x64xbf16>
  %g:3 = fattn.attention_grad ins(%do, %q, %k, %v, %o, %l : tensor<256x8x64xbf16>, tensor<256x8x64xbf16>, tensor<256x2x64xbf16>, tensor<256x2x64xbf16>, tensor<256x8x64xbf16>, tensor<256x8xf32>) outs(%dq, %dk, %dv : tensor<256x8x64xbf16>, tensor<256x2x64xbf16>, tensor<256x2x64xbf16>) mask <causal [0:256, 0:256]> {softcap = 30.0 : f32, deterministic} -> tensor<256x8x64xbf16>, tensor<256x2x64xbf16>, tensor<256x2x64xbf16>
  return %g#0, %g#1, %g#2 : tensor<256x8x64xbf16>, tensor<256x2x64xbf16>, tensor<256x2x64xbf16>
}

// On memrefs the gradients are written in place; the mask may come as
// range operands and the token counts be dynamic.
// CHECK-LABEL: func.func @ranges_grad
// CHECK: fattn.attention_grad ins({{.*}}) outs({{.*}} : memref<?x4x32xf32>, memref<?x4x32xf32>, memref<?x4x32xf32>) ranges(%{{.+}}, %{{.+}}, %{{.+}} : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32>) {scale = 1.250000e-01 : f32}
// CHECK-NOT: ->
func.func @ranges_grad(%do: memref<?x4x32xf32>, %q: memref<?x4x32xf32>, %k: memref<?x4x32xf32>, %v: memref<?x4x32xf32>, %o: memref<?x4x32xf32>, %l: memref<?x4xf32>, %dq: memref<?x4x32xf32>, %dk: memref<?x4x32xf32>, %dv: memref<?x4x32xf32>, %qr: memref<?x2xi32>, %kr: memref<?x2xi32>, %kinds: memref<?xi32>) {
  fattn.attention_grad ins(%do, %q, %k, %v, %o, %l : memref<?x4x32xf32>, memref<?x4x32xf32>, memref<?x4x32xf32>, memref<?x4x32xf32>, memref<?x4x32xf32>, memref<?x4xf32>) outs(%dq, %dk, %dv : memref<?x4x32xf32>, memref<?x4x32xf32>, memref<?x4x32xf32>) ranges(%qr, %kr, %kinds : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32>) {scale = 0.125 : f32}
  return
}
