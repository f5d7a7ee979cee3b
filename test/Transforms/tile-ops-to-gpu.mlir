// RUN: fattn-opt %s -split-input-file --fattn-tile-attention='block-q=128 block-k=64 whole-key-tiles=1' --fattn-map-tiles-to-gpu | FileCheck %s

// Each tile op's GPU lowering, in the order the tiled nest states them
// (Gpu/TileOpsToGpu.cpp), with the sm_80 builders at two stages: the key
// loop decides the copies in flight, tile_scores is ldmatrix + mma.sync,
// tile_mask runs on partial visits only, tile_online_softmax reduces over
// the quad and exponentiates, tile_accumulate waits for V and feeds the
// probabilities to mma.sync from registers, tile_finalize writes out and lse.
//
// The launch describes the kernel's parameters for the manifest.
// CHECK: gpu.launch_func @fattn_kernels::@fattn_causal_0
// CHECK-SAME: fattn.kernel_params = [{name = "q", role = "input", type = memref<256x2x64xbf16>}, {name = "k", role = "input", type = memref<256x1x64xbf16>}, {name = "v", role = "input", type = memref<256x1x64xbf16>}, {name = "out", role = "output", type = memref<256x2x64xbf16>}, {name = "lse", role = "output", type = memref<256x2xf32>}]
// CHECK-LABEL: gpu.func @fattn_causal_0
// Before the key loop: the Q tile (128 rows x 8 chunks over 128 threads)
// and K_0 in one copy group, then the running sums zeroed.
// CHECK-COUNT-8: cp.async.cg.shared.global
// CHECK: scf.if
// CHECK: cp.async.commit_group
// CHECK: st.shared.f32
// CHECK: scf.for {{.*}} iter_args
// Key loop: K_i visible to every warp, then V_i and K_{i+1} issued.
// CHECK: cp.async.wait_group 0;
// CHECK-NEXT: bar.sync 0;
// CHECK: cp.async.commit_group
// CHECK: cp.async.commit_group
// tile_scores, soft-capped.
// CHECK: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK: tanh.approx.f32
// tile_mask: a full tile of its work item keeps its scores; a partial one
// is masked by the item's slice alone, one unsigned compare a score.
// CHECK: scf.if %{{.+}} -> (f32,
// CHECK-NEXT: scf.yield
// CHECK-NEXT: } else {
// CHECK-COUNT-64: arith.cmpi ult
// CHECK: scf.yield
// tile_online_softmax: row maxima over the quad, exponentials, sums.
// CHECK: arith.maximumf
// CHECK: shfl.sync.bfly.b32
// CHECK: ex2.approx.ftz.f32
// CHECK: ld.shared.f32
// CHECK: st.shared.f32
// tile_accumulate: V_i visible, P packed into A fragments, V transposed.
// CHECK: cp.async.wait_group 1;
// CHECK-NEXT: bar.sync 0;
// CHECK: cvt.rn.bf16x2.f32
// CHECK: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK: scf.yield
// After the loop nothing is in flight; tile_finalize stores out and lse.
// CHECK: cp.async.wait_group 0;
// CHECK: lg2.approx.f32
// CHECK: llvm.store {{.*}} : i32, !llvm.ptr<1>
// CHECK: llvm.store {{.*}} : f32, !llvm.ptr<1>
// CHECK: gpu.return
func.func @causal(%q: memref<256x2x64xbf16>, %k: memref<256x1x64xbf16>, %v: memref<256x1x64xbf16>, %o: memref<256x2x64xbf16>, %l: memref<256x2xf32>) {
  fattn.attention ins(%q, %k, %v : memref<256x2x64xbf16>, memref<256x1x64xbf16>, memref<256x1x64xbf16>) outs(%o, %l : memref<256x2x64xbf16>, memref<256x2xf32>) mask <causal [0:256, 0:256]> {softcap = 30.0 : f32}
  return
}

// -----

// Without a softcap the scores stay raw (the scale meets them in the
// exponent), and a mask of only full tiles still has the partial branch
// (the schedule is data), never taken.
// CHECK-LABEL: gpu.func @fattn_plain_0
// CHECK: scf.for
// CHECK-NOT: tanh.approx
// CHECK: ex2.approx.ftz.f32
// CHECK: gpu.return
func.func @plain(%q: memref<256x2x64xf16>, %k: memref<256x1x64xf16>, %v: memref<256x1x64xf16>, %o: memref<256x2x64xf16>, %l: memref<256x2xf32>) {
  fattn.attention ins(%q, %k, %v : memref<256x2x64xf16>, memref<256x1x64xf16>, memref<256x1x64xf16>) outs(%o, %l : memref<256x2x64xf16>, memref<256x2xf32>) mask <full [0:256, 0:256]>
  return
}
