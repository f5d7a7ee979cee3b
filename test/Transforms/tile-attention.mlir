// RUN: fattn-opt %s -split-input-file --fattn-tile-attention='block-q=64 block-k=64' | FileCheck %s

// Causal 128x128 in 64x64 tiles: query tile 0 sees key tile 0 partially;
// query tile 1 sees key tile 0 fully and key tile 1 partially.
// CHECK-DAG: memref.global "private" constant @[[SLICES:.+]] : memref<1x5xi32> = dense<{{\[}}[0, 128, 0, 128, 1]]>
// CHECK-DAG: memref.global "private" constant @[[FULL_OFF:.+_full_offsets]] : memref<3xi32> = dense<[0, 0, 1]>
// CHECK-DAG: memref.global "private" constant @[[FULL_K:.+_full_k_tiles]] : memref<1xi32> = dense<0>
// CHECK-DAG: memref.global "private" constant @[[PART_OFF:.+_partial_offsets]] : memref<3xi32> = dense<[0, 1, 2]>
// CHECK-DAG: memref.global "private" constant @[[PART_K:.+_partial_k_tiles]] : memref<2xi32> = dense<[0, 1]>
// CHECK-LABEL: func.func @causal
// CHECK-SAME: (%[[Q:.+]]: memref<128x8x64xf32>, %[[K:.+]]: memref<128x2x64xf32>, %[[V:.+]]: memref<128x2x64xf32>, %[[O:.+]]: memref<128x8x64xf32>, %[[L:.+]]: memref<128x8xf32>)
// CHECK-NOT: fattn.attention
// CHECK-DAG: %[[FULL_OFFSETS:.+]] = memref.get_global @[[FULL_OFF]]
// CHECK-DAG: %[[PARTIAL_OFFSETS:.+]] = memref.get_global @[[PART_OFF]]
// CHECK: scf.forall (%[[HEAD:.+]], %[[QT:.+]]) in (8, 2)
// CHECK: memref.alloca_scope
// GQA 8:2: query head h reads key/value head h / 4.
// CHECK: %[[KVH:.+]] = arith.divui %[[HEAD]], %c4
// CHECK: %[[ROW0:.+]] = arith.muli %[[QT]], %c64
// CHECK: %[[QTILE:.+]] = memref.subview %[[Q]][%[[ROW0]], %[[HEAD]], 0] [64, 1, 64] [1, 1, 1] : memref<128x8x64xf32> to memref<64x64xf32
// CHECK: %[[ACC:.+]] = memref.alloca() : memref<64x64xf32>
// CHECK: %[[MAX:.+]] = memref.alloca() : memref<64xf32>
// CHECK: %[[SUM:.+]] = memref.alloca() : memref<64xf32>
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[MAX]]
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[SUM]]
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[ACC]]
// CHECK: %[[FB:.+]] = arith.index_cast %{{.+}} : i32 to index
// CHECK: %[[FE:.+]] = arith.index_cast %{{.+}} : i32 to index
// The loop over fully attended key tiles has no mask arithmetic.
// CHECK: scf.for %{{.+}} = %[[FB]] to %[[FE]]
// CHECK:   memref.subview %[[K]][%{{.+}}, %[[KVH]], 0] [64, 1, 64]
// CHECK:   fattn.tile_scores %[[QTILE]], %{{.+}} into %{{.+}} {scale = 1.250000e-01 : f32}
// CHECK-NOT: fattn.tile_mask
// CHECK:   fattn.tile_online_softmax %{{.+}} max %{{.+}} sum %{{.+}} acc %{{.+}}
// CHECK:   fattn.tile_accumulate
// CHECK: }
// Partial tiles: each masked by the slices that touch it.
// CHECK: scf.for
// CHECK:   fattn.tile_scores
// CHECK:   fattn.tile_mask %{{.+}} at [%[[ROW0]], %{{.+}}] slices
// CHECK:   fattn.tile_online_softmax
// CHECK:   fattn.tile_accumulate
// CHECK: }
// CHECK: %[[OTILE:.+]] = memref.subview %[[O]][%[[ROW0]], %[[HEAD]], 0] [64, 1, 64]
// CHECK: %[[LTILE:.+]] = memref.subview %[[L]][%[[ROW0]], %[[HEAD]]] [64, 1] [1, 1] : memref<128x8xf32> to memref<64xf32
// CHECK: fattn.tile_finalize %{{.+}} max %{{.+}} sum %{{.+}} into %[[OTILE]], %[[LTILE]]
func.func @causal(%q: memref<128x8x64xf32>, %k: memref<128x2x64xf32>, %v: memref<128x2x64xf32>, %o: memref<128x8x64xf32>, %l: memref<128x8xf32>) {
  fattn.attention ins(%q, %k, %v : memref<128x8x64xf32>, memref<128x2x64xf32>, memref<128x2x64xf32>) outs(%o, %l : memref<128x8x64xf32>, memref<128x8xf32>) mask <causal [0:128, 0:128]>
  return
}

// -----

// Block-diagonal: every visited tile is full and the off-diagonal tiles are
// never visited; the partial list is empty.
// CHECK-DAG: memref.global "private" constant @{{.+}}_full_offsets : memref<3xi32> = dense<[0, 1, 2]>
// CHECK-DAG: memref.global "private" constant @{{.+}}_full_k_tiles : memref<2xi32> = dense<[0, 1]>
// CHECK-DAG: memref.global "private" constant @{{.+}}_partial_offsets : memref<3xi32> = dense<0>
// CHECK-LABEL: func.func @block_diagonal
// CHECK: fattn.tile_scores {{.+}} {scale = 5.000000e-01 : f32, softcap = 1.000000e+01 : f32}
func.func @block_diagonal(%q: memref<128x1x64xf32>, %k: memref<128x1x64xf32>, %v: memref<128x1x64xf32>, %o: memref<128x1x64xf32>, %l: memref<128x1xf32>) {
  fattn.attention ins(%q, %k, %v : memref<128x1x64xf32>, memref<128x1x64xf32>, memref<128x1x64xf32>) outs(%o, %l : memref<128x1x64xf32>, memref<128x1xf32>) mask <full [0:64, 0:64], full [64:128, 64:128]> {scale = 0.5 : f32, softcap = 10.0 : f32}
  return
}

// -----

// Lengths that are not multiples of the tile: the last tiles are clipped.
// Rows 0..63 see keys 0..39 (tile k0 partial) and nothing in k1 (skipped).
// Rows 64..99 see keys 0..39 and, from row 70 on, keys 40..row-30: k0 and k1
// partial. Each partial tile lists only the slices that touch it.
// CHECK-DAG: memref.global "private" constant @{{.+}}_slices : memref<2x5xi32> = dense<{{\[}}[0, 100, 0, 40, 0], [50, 100, 40, 70, 1]]>
// CHECK-DAG: memref.global "private" constant @{{.+}}_full_offsets : memref<3xi32> = dense<0>
// CHECK-DAG: memref.global "private" constant @{{.+}}_partial_offsets : memref<3xi32> = dense<[0, 1, 3]>
// CHECK-DAG: memref.global "private" constant @{{.+}}_partial_k_tiles : memref<3xi32> = dense<[0, 0, 1]>
// CHECK-DAG: memref.global "private" constant @{{.+}}_partial_slice_offsets : memref<4xi32> = dense<[0, 1, 3, 4]>
// CHECK-DAG: memref.global "private" constant @{{.+}}_partial_slices : memref<4xi32> = dense<[0, 0, 1, 1]>
// CHECK-LABEL: func.func @ragged
// CHECK: %[[ROWS:.+]] = arith.minsi %c64{{.*}}, %{{.+}} : index
// CHECK: memref.subview %{{.+}}[%{{.+}}, %{{.+}}, 0] [%[[ROWS]], 1, 32] [1, 1, 1] : memref<100x2x32xf32> to memref<?x32xf32
func.func @ragged(%q: memref<100x2x32xf32>, %k: memref<70x2x32xf32>, %v: memref<70x2x32xf32>, %o: memref<100x2x32xf32>, %l: memref<100x2xf32>) {
  fattn.attention ins(%q, %k, %v : memref<100x2x32xf32>, memref<70x2x32xf32>, memref<70x2x32xf32>) outs(%o, %l : memref<100x2x32xf32>, memref<100x2xf32>) mask <full [0:100, 0:40], causal [50:100, 40:70]>
  return
}

// -----

// align-query-tiles: tiles start at every document as well, so query tile
// rows come from a table and are dynamic.
// RUN: fattn-opt %s -split-input-file --fattn-tile-attention='block-q=64 block-k=64 align-query-tiles=1' | FileCheck %s --check-prefix=ALIGNED
// ALIGNED-DAG: memref.global "private" constant @[[BEGINS:.+_q_tile_begins]] : memref<4xi32> = dense<[0, 40, 104, 120]>
// ALIGNED-LABEL: func.func @documents
// ALIGNED: %[[TABLE:.+]] = memref.get_global @[[BEGINS]]
// ALIGNED: scf.forall (%{{.+}}, %[[QT:.+]]) in (1, 3)
// ALIGNED: %[[ROW0:.+]] = arith.index_cast %{{.+}} : i32 to index
// ALIGNED: %[[ROWS:.+]] = arith.subi %{{.+}}, %[[ROW0]] : index
// ALIGNED: memref.subview %{{.+}}[%[[ROW0]], %{{.+}}, 0] [%[[ROWS]], 1, 16]
func.func @documents(%q: memref<120x1x16xf32>, %k: memref<120x1x16xf32>, %v: memref<120x1x16xf32>, %o: memref<120x1x16xf32>, %l: memref<120x1xf32>) {
  fattn.attention ins(%q, %k, %v : memref<120x1x16xf32>, memref<120x1x16xf32>, memref<120x1x16xf32>) outs(%o, %l : memref<120x1x16xf32>, memref<120x1xf32>) mask <causal [0:40, 0:40], causal [40:120, 40:120]>
  return
}
