// fattn.attention_grad is verified as strictly as fattn.attention (the same
// checks of the forward's operands, mask and parameters) and each gradient
// against what it is the gradient of.
// RUN: fattn-opt %s -split-input-file -verify-diagnostics

func.func @dq_shape(%do: tensor<16x4x64xf32>, %q: tensor<16x4x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x4x64xf32>, %l: tensor<16x4xf32>, %dq: tensor<16x2x64xf32>, %dk: tensor<16x2x64xf32>, %dv: tensor<16x2x64xf32>) {
  // expected-error @+1 {{'fattn.attention_grad' op dq must have the query's shape and element type 'tensor<16x4x64xf32>', got 'tensor<16x2x64xf32>'}}
  %g:3 = fattn.attention_grad ins(%do, %q, %k, %v, %o, %l : tensor<16x4x64xf32>, tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x4x64xf32>, tensor<16x4xf32>) outs(%dq, %dk, %dv : tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) mask <causal [0:16, 0:16]> -> tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>
  return
}

// -----

func.func @dout_dtype(%do: tensor<16x4x64xbf16>, %q: tensor<16x4x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x4x64xf32>, %l: tensor<16x4xf32>, %dq: tensor<16x4x64xf32>, %dk: tensor<16x2x64xf32>, %dv: tensor<16x2x64xf32>) {
  // expected-error @+1 {{'fattn.attention_grad' op dout must have the out's shape and element type 'tensor<16x4x64xf32>', got 'tensor<16x4x64xbf16>'}}
  %g:3 = fattn.attention_grad ins(%do, %q, %k, %v, %o, %l : tensor<16x4x64xbf16>, tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x4x64xf32>, tensor<16x4xf32>) outs(%dq, %dk, %dv : tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) mask <causal [0:16, 0:16]> -> tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>
  return
}

// -----

func.func @dv_tokens(%do: tensor<16x4x64xf32>, %q: tensor<16x4x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x4x64xf32>, %l: tensor<16x4xf32>, %dq: tensor<16x4x64xf32>, %dk: tensor<16x2x64xf32>, %dv: tensor<8x2x64xf32>) {
  // expected-error @+1 {{'fattn.attention_grad' op dv must have the value's shape and element type 'tensor<16x2x64xf32>', got 'tensor<8x2x64xf32>'}}
  %g:3 = fattn.attention_grad ins(%do, %q, %k, %v, %o, %l : tensor<16x4x64xf32>, tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x4x64xf32>, tensor<16x4xf32>) outs(%dq, %dk, %dv : tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<8x2x64xf32>) mask <causal [0:16, 0:16]> -> tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<8x2x64xf32>
  return
}

// -----

// The forward's checks apply: here a mask past the key length.
func.func @mask_bounds(%do: tensor<16x4x64xf32>, %q: tensor<16x4x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x4x64xf32>, %l: tensor<16x4xf32>, %dq: tensor<16x4x64xf32>, %dk: tensor<16x2x64xf32>, %dv: tensor<16x2x64xf32>) {
  // expected-error @+1 {{'fattn.attention_grad' op mask slice 0: k range [0, 20) exceeds key length 16}}
  %g:3 = fattn.attention_grad ins(%do, %q, %k, %v, %o, %l : tensor<16x4x64xf32>, tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x4x64xf32>, tensor<16x4xf32>) outs(%dq, %dk, %dv : tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) mask <full [0:16, 0:20]> -> tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>
  return
}

// -----

func.func @both_masks(%do: memref<16x4x64xf32>, %q: memref<16x4x64xf32>, %k: memref<16x2x64xf32>, %v: memref<16x2x64xf32>, %o: memref<16x4x64xf32>, %l: memref<16x4xf32>, %dq: memref<16x4x64xf32>, %dk: memref<16x2x64xf32>, %dv: memref<16x2x64xf32>, %qr: memref<1x2xi32>, %kinds: memref<1xi32>) {
  // expected-error @+1 {{'fattn.attention_grad' op takes its mask either as the `mask` attribute or as `ranges(q_ranges, k_ranges, kinds)` operands, not both}}
  fattn.attention_grad ins(%do, %q, %k, %v, %o, %l : memref<16x4x64xf32>, memref<16x4x64xf32>, memref<16x2x64xf32>, memref<16x2x64xf32>, memref<16x4x64xf32>, memref<16x4xf32>) outs(%dq, %dk, %dv : memref<16x4x64xf32>, memref<16x2x64xf32>, memref<16x2x64xf32>) mask <causal [0:16, 0:16]> ranges(%qr, %qr, %kinds : memref<1x2xi32>, memref<1x2xi32>, memref<1xi32>)
  return
}

// -----

func.func @results_on_memrefs(%do: memref<16x4x64xf32>, %q: memref<16x4x64xf32>, %k: memref<16x2x64xf32>, %v: memref<16x2x64xf32>, %o: memref<16x4x64xf32>, %l: memref<16x4xf32>, %dq: memref<16x4x64xf32>, %dk: memref<16x2x64xf32>, %dv: memref<16x2x64xf32>) {
  // expected-error @+1 {{'fattn.attention_grad' op expected 0 results on memrefs, got 3}}
  %g:3 = fattn.attention_grad ins(%do, %q, %k, %v, %o, %l : memref<16x4x64xf32>, memref<16x4x64xf32>, memref<16x2x64xf32>, memref<16x2x64xf32>, memref<16x4x64xf32>, memref<16x4xf32>) outs(%dq, %dk, %dv : memref<16x4x64xf32>, memref<16x2x64xf32>, memref<16x2x64xf32>) mask <causal [0:16, 0:16]> -> tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>
  return
}

// -----

func.func @tensor_results(%do: tensor<16x4x64xf32>, %q: tensor<16x4x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x4x64xf32>, %l: tensor<16x4xf32>, %dq: tensor<16x4x64xf32>, %dk: tensor<16x2x64xf32>, %dv: tensor<16x2x64xf32>) {
  // expected-error @+1 {{'fattn.attention_grad' op result types must match the dq, dk and dv operands}}
  %g:3 = fattn.attention_grad ins(%do, %q, %k, %v, %o, %l : tensor<16x4x64xf32>, tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x4x64xf32>, tensor<16x4xf32>) outs(%dq, %dk, %dv : tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) mask <causal [0:16, 0:16]> -> tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x4x64xf32>
  return
}

// -----

func.func @bad_softcap(%do: tensor<16x4x64xf32>, %q: tensor<16x4x64xf32>, %k: tensor<16x2x64xf32>, %v: tensor<16x2x64xf32>, %o: tensor<16x4x64xf32>, %l: tensor<16x4xf32>, %dq: tensor<16x4x64xf32>, %dk: tensor<16x2x64xf32>, %dv: tensor<16x2x64xf32>) {
  // expected-error @+1 {{'fattn.attention_grad' op softcap must be positive, finite and at most 2^64 (fp32 scores stay finite), got -1}}
  %g:3 = fattn.attention_grad ins(%do, %q, %k, %v, %o, %l : tensor<16x4x64xf32>, tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>, tensor<16x4x64xf32>, tensor<16x4xf32>) outs(%dq, %dk, %dv : tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>) mask <causal [0:16, 0:16]> {softcap = -1.0 : f32} -> tensor<16x4x64xf32>, tensor<16x2x64xf32>, tensor<16x2x64xf32>
  return
}
