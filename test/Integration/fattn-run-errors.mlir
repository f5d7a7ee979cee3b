// fattn-run names the problem and exits with status 2 on bad input.
//
// RUN: not fattn-run %s.missing 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: fattn-run: cannot open input file
//
// RUN: split-file %s %t
// RUN: not fattn-run %t/swapped.mlir 2>&1 | FileCheck %s --check-prefix=SWAPPED
// SWAPPED: error: expected @f(q, k, v) -> (out, lse) or @f(q, k, v, out, lse)
//
// RUN: not fattn-run %t/two.mlir 2>&1 | FileCheck %s --check-prefix=TWO
// TWO: error: expected exactly one fattn.attention, found 2
//
// RUN: not fattn-run %t/bf16.mlir 2>&1 | FileCheck %s --check-prefix=BF16
// BF16: error: CPU execution runs f32 programs; this one is bf16
//
// RUN: not fattn-run %t/overlap.mlir 2>&1 | FileCheck %s --check-prefix=OVERLAP
// OVERLAP: error: 'fattn.attention' op mask slices 0 and 1 both attend (q 4, k 0)

//--- swapped.mlir
func.func @f(%k: tensor<8x1x8xf32>, %q: tensor<8x1x8xf32>, %v: tensor<8x1x8xf32>) -> (tensor<8x1x8xf32>, tensor<8x1xf32>) {
  %o = tensor.empty() : tensor<8x1x8xf32>
  %l = tensor.empty() : tensor<8x1xf32>
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<8x1x8xf32>, tensor<8x1x8xf32>, tensor<8x1x8xf32>) outs(%o, %l : tensor<8x1x8xf32>, tensor<8x1xf32>) mask <causal [0:8, 0:8]> -> tensor<8x1x8xf32>, tensor<8x1xf32>
  return %r#0, %r#1 : tensor<8x1x8xf32>, tensor<8x1xf32>
}

//--- two.mlir
func.func @f(%q: tensor<8x1x8xf32>, %k: tensor<8x1x8xf32>, %v: tensor<8x1x8xf32>) -> (tensor<8x1x8xf32>, tensor<8x1xf32>) {
  %o = tensor.empty() : tensor<8x1x8xf32>
  %l = tensor.empty() : tensor<8x1xf32>
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<8x1x8xf32>, tensor<8x1x8xf32>, tensor<8x1x8xf32>) outs(%o, %l : tensor<8x1x8xf32>, tensor<8x1xf32>) mask <causal [0:8, 0:8]> -> tensor<8x1x8xf32>, tensor<8x1xf32>
  %s:2 = fattn.attention ins(%q, %k, %v : tensor<8x1x8xf32>, tensor<8x1x8xf32>, tensor<8x1x8xf32>) outs(%o, %l : tensor<8x1x8xf32>, tensor<8x1xf32>) mask <full [0:8, 0:8]> -> tensor<8x1x8xf32>, tensor<8x1xf32>
  return %r#0, %s#1 : tensor<8x1x8xf32>, tensor<8x1xf32>
}

//--- bf16.mlir
func.func @f(%q: tensor<8x1x8xbf16>, %k: tensor<8x1x8xbf16>, %v: tensor<8x1x8xbf16>) -> (tensor<8x1x8xbf16>, tensor<8x1xf32>) {
  %o = tensor.empty() : tensor<8x1x8xbf16>
  %l = tensor.empty() : tensor<8x1xf32>
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<8x1x8xbf16>, tensor<8x1x8xbf16>, tensor<8x1x8xbf16>) outs(%o, %l : tensor<8x1x8xbf16>, tensor<8x1xf32>) mask <causal [0:8, 0:8]> -> tensor<8x1x8xbf16>, tensor<8x1xf32>
  return %r#0, %r#1 : tensor<8x1x8xbf16>, tensor<8x1xf32>
}

//--- overlap.mlir
func.func @f(%q: tensor<8x1x8xf32>, %k: tensor<8x1x8xf32>, %v: tensor<8x1x8xf32>) -> (tensor<8x1x8xf32>, tensor<8x1xf32>) {
  %o = tensor.empty() : tensor<8x1x8xf32>
  %l = tensor.empty() : tensor<8x1xf32>
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<8x1x8xf32>, tensor<8x1x8xf32>, tensor<8x1x8xf32>) outs(%o, %l : tensor<8x1x8xf32>, tensor<8x1xf32>) mask <causal [0:8, 0:8], full [4:8, 0:2]> -> tensor<8x1x8xf32>, tensor<8x1xf32>
  return %r#0, %r#1 : tensor<8x1x8xf32>, tensor<8x1xf32>
}
