// One CPU program for every mask and length: the mask as ranges operands,
// the token counts dynamic, each call planned by the mask library. fattn-run
// runs a call given with --ranges against the fp64 reference, and refuses a
// bad call (naming the slice) or a missing one before running anything.
// RUN: rm -rf %t && mkdir -p %t
// RUN: printf 'tokens 300 280\n0 100 0 100 1\n100 300 50 280 0\n120 130 0 10 3\n200 300 0 40 2\n' > %t/mixed.ranges
// RUN: printf 'tokens 77 1\n0 77 0 1 0\n0 77 0 1 0\n' > %t/overlap.ranges
// RUN: printf 'tokens 40 40\n' > %t/none.ranges
// RUN: printf 'tokens 300 280\n0 100 0 300 1\n' > %t/past-the-end.ranges
// RUN: fattn-run %s --ranges %t/mixed.ranges | FileCheck %s --check-prefix=MIXED
// RUN: fattn-run %s --ranges %t/overlap.ranges --block-q=16 --block-k=16 | FileCheck %s --check-prefix=PASS
// RUN: fattn-run %s --ranges %t/none.ranges | FileCheck %s --check-prefix=PASS
// RUN: not fattn-run %s --ranges %t/past-the-end.ranges 2>&1 | FileCheck %s --check-prefix=REFUSED
// RUN: not fattn-run %s 2>&1 | FileCheck %s --check-prefix=MISSING
// A call file may repeat the program's heads and scale; on the CPU it may
// not change them (the GPU kernel takes them per call).
// RUN: printf 'tokens 50 50\nheads 4 2\nscale 0.1767767\n0 50 0 50 1\n' > %t/same-heads.ranges
// RUN: printf 'tokens 50 50\nheads 8 2\n0 50 0 50 1\n' > %t/other-heads.ranges
// RUN: printf 'tokens 50 50\nheads 4\n' > %t/garbled.ranges
// RUN: fattn-run %s --ranges %t/same-heads.ranges | FileCheck %s --check-prefix=PASS
// RUN: not fattn-run %s --ranges %t/other-heads.ranges 2>&1 | FileCheck %s --check-prefix=HEADS
// RUN: not fattn-run %s --ranges %t/garbled.ranges 2>&1 | FileCheck %s --check-prefix=GARBLED
//
// MIXED: Sq=? Sk=? Hq=4 Hk=2 D=32 f32
// MIXED-NEXT: mask: given at run time (ranges operands)
// MIXED: out: PASS
// MIXED: lse: PASS
// MIXED: PASS
// PASS: out: PASS
// PASS: lse: PASS
// REFUSED: past-the-end.ranges: slice 0: k range [0, 300) exceeds key length 280
// MISSING: the program's mask is ranges operands: give the call to run with --ranges FILE
// HEADS: other-heads.ranges: the program was compiled for 4 query heads; the call has 8
// GARBLED: garbled.ranges: line 2: expected 'heads HQ HK', 'scale S', 'softcap C' or a slice

func.func @attention(%q: tensor<?x4x32xf32>, %k: tensor<?x2x32xf32>, %v: tensor<?x2x32xf32>,
                     %qr: tensor<?x2xi32>, %kr: tensor<?x2xi32>, %kinds: tensor<?xi32>) -> (tensor<?x4x32xf32>, tensor<?x4xf32>) {
  %c0 = arith.constant 0 : index
  %nq = tensor.dim %q, %c0 : tensor<?x4x32xf32>
  %out = tensor.empty(%nq) : tensor<?x4x32xf32>
  %lse = tensor.empty(%nq) : tensor<?x4xf32>
  %o, %l = fattn.attention ins(%q, %k, %v : tensor<?x4x32xf32>, tensor<?x2x32xf32>, tensor<?x2x32xf32>)
                  outs(%out, %lse : tensor<?x4x32xf32>, tensor<?x4xf32>)
                  ranges(%qr, %kr, %kinds : tensor<?x2xi32>, tensor<?x2xi32>, tensor<?xi32>) -> tensor<?x4x32xf32>, tensor<?x4xf32>
  return %o, %l : tensor<?x4x32xf32>, tensor<?x4xf32>
}
