// fattn-run on fattn.attention_grad programs: dQ, dK and dV computed on the
// CPU and checked against the fp64 reference gradients, with the mask as an
// attribute (this file's @grad) or as ranges operands (@grad_ranges, split
// out below), and the problems refused before anything is compiled.
// RUN: rm -rf %t && mkdir -p %t
// RUN: fattn-run %s --block-q=16 --block-k=16 | FileCheck %s --check-prefix=STATIC
// RUN: not fattn-run %s --target=gpu 2>&1 | FileCheck %s --check-prefix=GPU
//
// The run-time form: one program for every mask and length.
// RUN: sed -n '/^\/\/ RANGES-PROGRAM/,$s|^// P ||p' %s > %t/ranges.mlir
// RUN: printf 'tokens 90 70\n0 40 0 40 1\n40 90 0 70 0\n50 60 20 30 3\n' > %t/mixed.ranges
// RUN: printf 'tokens 33 1\n0 33 0 1 0\n0 33 0 1 0\n' > %t/overlap.ranges
// RUN: printf 'tokens 20 20\n' > %t/none.ranges
// RUN: not fattn-run %s --ranges %t/none.ranges 2>&1 | FileCheck %s --check-prefix=NOT-RANGES
// RUN: printf 'tokens 90 70\n0 40 -9223372036854775808 40 2\n' > %t/wide.ranges
// RUN: not fattn-run %t/ranges.mlir --ranges %t/wide.ranges 2>&1 | FileCheck %s --check-prefix=WIDE
// RUN: printf 'tokens 90 70\n0 40 0 80 1\n' > %t/past-the-end.ranges
// RUN: printf 'tokens 40 40\nheads 8 2\n0 40 0 40 1\n' > %t/other-heads.ranges
// RUN: fattn-run %t/ranges.mlir --ranges %t/mixed.ranges | FileCheck %s --check-prefix=RANGES
// RUN: fattn-run %t/ranges.mlir --ranges %t/overlap.ranges --block-q=8 --block-k=8 | FileCheck %s --check-prefix=PASS
// RUN: fattn-run %t/ranges.mlir --ranges %t/none.ranges | FileCheck %s --check-prefix=PASS
// RUN: not fattn-run %t/ranges.mlir --ranges %t/past-the-end.ranges 2>&1 | FileCheck %s --check-prefix=REFUSED
// RUN: not fattn-run %t/ranges.mlir --ranges %t/other-heads.ranges 2>&1 | FileCheck %s --check-prefix=HEADS
// RUN: not fattn-run %t/ranges.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
//
// A function that does not return the op's results is refused by name.
// RUN: sed -n '/^\/\/ UNUSED-PROGRAM/,$s|^// U ||p' %s > %t/unused.mlir
// RUN: not fattn-run %t/unused.mlir 2>&1 | FileCheck %s --check-prefix=CONVENTION
// So is a program holding a forward op beside the gradient's.
// RUN: cat %t/unused.mlir %fattn_src_root/examples/causal.mlir > %t/both.mlir
// RUN: not fattn-run %t/both.mlir 2>&1 | FileCheck %s --check-prefix=BOTH
//
// STATIC: @grad Sq=64 Sk=48 Hq=4 Hk=2 D=16 f32
// inv_causal: row i of 16 attends 48 - i keys; causal: row i of 48 attends
// i + 1: sum_{i<16} (48 - i) + sum_{i<48} (i + 1) = 648 + 1176
// STATIC-NEXT: attended pairs 1824 of 3072
// STATIC: gradients: dq, dk, dv (deterministic)
// STATIC: dq: PASS
// STATIC: dk: PASS
// STATIC: dv: PASS
// STATIC-NEXT: PASS
// GPU: fattn.attention_grad has no GPU kernels yet
// NOT-RANGES: --ranges is for programs whose mask is ranges operands
// The call's bi_causal cells are the full slice's too: they weigh twice,
// as docs/spec.md says, in the kernel and the reference alike.
// RANGES: @grad_ranges Sq=? Sk=? Hq=4 Hk=2 D=16 f32
// RANGES-NEXT: mask: given at run time (ranges operands)
// RANGES: gradients: dq, dk, dv
// RANGES: dq: PASS
// RANGES-NEXT: dk: PASS
// RANGES-NEXT: dv: PASS
// RANGES-NEXT: {{^PASS$}}
// PASS: dq: PASS
// PASS: dk: PASS
// PASS: dv: PASS
// REFUSED: past-the-end.ranges: slice 0: k range [0, 80) exceeds key length 70
// WIDE: wide.ranges: slice 0: -9223372036854775808 does not fit int32
// HEADS: other-heads.ranges: the program was compiled for 4 query heads; the call has 8
// MISSING: the program's mask is ranges operands: give the call to run with --ranges FILE
// CONVENTION: expected @f(dout, q, k, v, out, lse) -> (dq, dk, dv)
// BOTH: holds both fattn.attention and fattn.attention_grad; a program runs one of them

func.func @grad(%dout: tensor<64x4x16xf32>, %q: tensor<64x4x16xf32>,
                %k: tensor<48x2x16xf32>, %v: tensor<48x2x16xf32>,
                %out: tensor<64x4x16xf32>, %lse: tensor<64x4xf32>)
    -> (tensor<64x4x16xf32>, tensor<48x2x16xf32>, tensor<48x2x16xf32>) {
  %dq0 = tensor.empty() : tensor<64x4x16xf32>
  %dk0 = tensor.empty() : tensor<48x2x16xf32>
  %dv0 = tensor.empty() : tensor<48x2x16xf32>
  %g:3 = fattn.attention_grad ins(%dout, %q, %k, %v, %out, %lse : tensor<64x4x16xf32>, tensor<64x4x16xf32>, tensor<48x2x16xf32>, tensor<48x2x16xf32>, tensor<64x4x16xf32>, tensor<64x4xf32>)
      outs(%dq0, %dk0, %dv0 : tensor<64x4x16xf32>, tensor<48x2x16xf32>, tensor<48x2x16xf32>)
      mask <inv_causal [0:16, 0:48], causal [16:64, 0:48]> {scale = 0.3 : f32, softcap = 4.0 : f32, deterministic}
      -> tensor<64x4x16xf32>, tensor<48x2x16xf32>, tensor<48x2x16xf32>
  return %g#0, %g#1, %g#2 : tensor<64x4x16xf32>, tensor<48x2x16xf32>, tensor<48x2x16xf32>
}

// RANGES-PROGRAM
// P func.func @grad_ranges(%dout: tensor<?x4x16xf32>, %q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %out: tensor<?x4x16xf32>, %lse: tensor<?x4xf32>, %qr: tensor<?x2xi32>, %kr: tensor<?x2xi32>, %kinds: tensor<?xi32>) -> (tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>) {
// P   %c0 = arith.constant 0 : index
// P   %nq = tensor.dim %q, %c0 : tensor<?x4x16xf32>
// P   %nk = tensor.dim %k, %c0 : tensor<?x2x16xf32>
// P   %dq0 = tensor.empty(%nq) : tensor<?x4x16xf32>
// P   %dk0 = tensor.empty(%nk) : tensor<?x2x16xf32>
// P   %dv0 = tensor.empty(%nk) : tensor<?x2x16xf32>
// P   %g:3 = fattn.attention_grad ins(%dout, %q, %k, %v, %out, %lse : tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>) outs(%dq0, %dk0, %dv0 : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>) ranges(%qr, %kr, %kinds : tensor<?x2xi32>, tensor<?x2xi32>, tensor<?xi32>) -> tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>
// P   return %g#0, %g#1, %g#2 : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>
// P }
// UNUSED-PROGRAM
// U func.func @unused(%dout: tensor<8x1x16xf32>, %q: tensor<8x1x16xf32>, %k: tensor<8x1x16xf32>, %v: tensor<8x1x16xf32>, %out: tensor<8x1x16xf32>, %lse: tensor<8x1xf32>) {
// U   %dq0 = tensor.empty() : tensor<8x1x16xf32>
// U   %dk0 = tensor.empty() : tensor<8x1x16xf32>
// U   %dv0 = tensor.empty() : tensor<8x1x16xf32>
// U   %g:3 = fattn.attention_grad ins(%dout, %q, %k, %v, %out, %lse : tensor<8x1x16xf32>, tensor<8x1x16xf32>, tensor<8x1x16xf32>, tensor<8x1x16xf32>, tensor<8x1x16xf32>, tensor<8x1xf32>) outs(%dq0, %dk0, %dv0 : tensor<8x1x16xf32>, tensor<8x1x16xf32>, tensor<8x1x16xf32>) mask <causal [0:8, 0:8]> -> tensor<8x1x16xf32>, tensor<8x1x16xf32>, tensor<8x1x16xf32>
// U   return
// U }
