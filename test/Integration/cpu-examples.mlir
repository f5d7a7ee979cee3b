// The shipped examples compile, run on the CPU and match the fp64
// reference. Pair counts are worked out by hand from the slice semantics.
//
// RUN: fattn-run %fattn_src_root/examples/causal.mlir | FileCheck %s --check-prefix=CAUSAL
// CAUSAL: Sq=1024 Sk=1024 Hq=8 Hk=2 D=64 f32
// 1024 * 1025 / 2
// CAUSAL: attended pairs 524800 of 1048576
// CAUSAL: PASS
//
// RUN: fattn-run %fattn_src_root/examples/varlen_causal.mlir | FileCheck %s --check-prefix=VARLEN
// (100*101 + 300*301 + 24*25 + 400*401 + 200*201) / 2
// VARLEN: attended pairs 150800 of 1048576
// VARLEN: PASS
//
// RUN: fattn-run %fattn_src_root/examples/sliding_window_causal.mlir | FileCheck %s --check-prefix=WINDOW
// 128 * 129 / 2 for the first 128 rows, then 128 keys for each of 896 rows
// WINDOW: D=128
// WINDOW: attended pairs 122944 of 1048576
// WINDOW: PASS
//
// RUN: fattn-run %fattn_src_root/examples/block_causal.mlir | FileCheck %s --check-prefix=BLOCK
// 256 * (256 + 512 + 768 + 1024); written as 7 overlapping slices, merged to 4
// BLOCK: mask: 7 slices (4 after normalization), attended pairs 655360 of 1048576
// Blocks are tile-aligned: every visited 64x64 tile is full.
// BLOCK: tiles 64x64: 160 full, 0 partial, 96 skipped
// BLOCK: PASS
//
// RUN: fattn-run %fattn_src_root/examples/shared_question.mlir --block-q=32 --block-k=48 | FileCheck %s --check-prefix=SHARED
// 256*257/2 + 256*256 + 256*257/2 + 512*256 + 512*513/2
// SHARED: attended pairs 393728 of 1048576
// SHARED: tiles 32x48
// SHARED: PASS
//
// RUN: fattn-run %fattn_src_root/examples/packed_documents_grad.mlir | FileCheck %s --check-prefix=GRAD
// (48*49 + 24*25 + 56*57) / 2
// GRAD: attended pairs 3072 of 16384
// GRAD: gradients: dq, dk, dv
// GRAD: dq: PASS
// GRAD: dk: PASS
// GRAD: dv: PASS
// GRAD: PASS
