// RUN: fattn-opt %s -split-input-file --fattn-tile-attention='block-q=128 block-k=64 whole-key-tiles=1' --fattn-map-tiles-to-gpu='warps=8' | FileCheck %s

// The tiled loop nest becomes one launch: a CTA per (head, query tile), 8
// warps, the Q tile plus two K buffers and one V buffer in shared memory
// (two stages: (128 + 3 * 64) * 128 * 2 bytes) and each thread's two row sums
// (256 * 2 * 4 bytes). The tile tables move into the kernel
// module; the host keeps none.
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK-NOT: memref.global
// CHECK-LABEL: func.func @causal
// CHECK-SAME: (%[[Q:.+]]: memref<300x8x128xbf16>, %[[K:.+]]: memref<300x2x128xbf16>, %[[V:.+]]: memref<300x2x128xbf16>, %[[O:.+]]: memref<300x8x128xbf16>, %[[L:.+]]: memref<300x8xf32>)
// CHECK-NOT: scf.forall
// CHECK-DAG: %[[QI:.+]] = memref.extract_aligned_pointer_as_index %[[Q]]
// CHECK-DAG: %[[LI:.+]] = memref.extract_aligned_pointer_as_index %[[L]]
// CHECK: gpu.launch_func @fattn_kernels::@fattn_causal_0 blocks in (%c8, %c3, %c1) threads in (%c256, %c1{{.*}}, %c1{{.*}}) dynamic_shared_memory_size %c83968_i32 args(%{{.+}} : !llvm.ptr<1>, %{{.+}} : !llvm.ptr<1>, %{{.+}} : !llvm.ptr<1>, %{{.+}} : !llvm.ptr<1>, %{{.+}} : !llvm.ptr<1>)
// CHECK: gpu.module @fattn_kernels [#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">]
// 300 keys in tiles of 64: query tile 2 sees key tiles 0-3 fully, and key
// tile 4, which crosses the end, partially. The kernel's tables are one
// 16-byte aligned global: the launch slots, most visits first (query
// tiles 2, 1, 0; each: first row, row end, item range, visits, 3 zeros),
// the items (first visit in the tile, key tile begin, full begin, full
// end: one a tile, the full runs [0, 0), [0, 2) and [0, 4)), their slices
// [0, 0, 0], and the slice (0, 300, 0, 300, causal).
// CHECK-DAG: llvm.mlir.global internal constant @fattn_causal_0_tables(dense<[256, 300, 2, 3, 5, 0, 0, 0, 128, 256, 1, 2, 4, 0, 0, 0, 0, 128, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 0, 300, 0, 300, 1]> : tensor<44xi32>) {addr_space = 1 : i32, alignment = 16 : i64}
// CHECK-DAG: llvm.mlir.global external @fattn_shared_memory() {addr_space = 3 : i32, alignment = 128 : i64} : !llvm.array<0 x i8>
// CHECK: gpu.func @fattn_causal_0(%{{.+}}: !llvm.ptr<1>, %{{.+}}: !llvm.ptr<1>, %{{.+}}: !llvm.ptr<1>, %{{.+}}: !llvm.ptr<1>, %{{.+}}: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 256, 1, 1>}
// CHECK: cp.async.cg.shared.global
// CHECK: scf.for
// CHECK: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// Masking sits behind the partial-tile branch.
// CHECK: scf.if
// CHECK: } else {
// CHECK: arith.cmpi ult
// CHECK: shfl.sync.bfly.b32
// CHECK: ex2.approx.ftz.f32
// CHECK: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK: gpu.return
func.func @causal(%q: memref<300x8x128xbf16>, %k: memref<300x2x128xbf16>, %v: memref<300x2x128xbf16>, %o: memref<300x8x128xbf16>, %l: memref<300x8xf32>) {
  fattn.attention ins(%q, %k, %v : memref<300x8x128xbf16>, memref<300x2x128xbf16>, memref<300x2x128xbf16>) outs(%o, %l : memref<300x8x128xbf16>, memref<300x8xf32>) mask <causal [0:300, 0:300]>
  return
}
