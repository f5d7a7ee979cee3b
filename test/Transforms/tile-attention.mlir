// RUN: fattn-opt %s -split-input-file --fattn-tile-attention='block-q=64 block-k=64' | FileCheck %s

// Causal 128x128 in 64x64 tiles, one work item per query tile: query tile
// 0 sees key tile 0 partially (key tiles [0, 1), no full run); query tile 1
// sees key tile 0 fully and key tile 1 partially (key tiles [0, 2), full
// run [0, 1)).
// CHECK-DAG: memref.global "private" constant @[[SLICES:.+]] : memref<1x5xi32> = dense<{{\[}}[0, 128, 0, 128, 1]]>
// CHECK-DAG: memref.global "private" constant @[[ITEM_OFF:.+_item_offsets]] : memref<3xi32> = dense<[0, 1, 2]>
// CHECK-DAG: memref.global "private" constant @[[ITEM_SLICES:.+_item_slices]] : memref<2xi32> = dense<0>
// CHECK-DAG: memref.global "private" constant @[[ITEM_K:.+_item_k_tiles]] : memref<2x4xi32> = dense<{{\[}}[0, 0, 0, 1], [0, 0, 1, 2]]>
// CHECK-DAG: memref.global "private" constant @{{.+}}_item_visit_offsets : memref<3xi32> = dense<[0, 1, 3]>
// CHECK-LABEL: func.func @causal
// CHECK-SAME: (%[[Q:.+]]: memref<128x8x64xf32>, %[[K:.+]]: memref<128x2x64xf32>, %[[V:.+]]: memref<128x2x64xf32>, %[[O:.+]]: memref<128x8x64xf32>, %[[L:.+]]: memref<128x8xf32>)
// CHECK-NOT: fattn.attention
// CHECK-DAG: %[[ITEM_OFFSETS:.+]] = memref.get_global @[[ITEM_OFF]]
// CHECK-DAG: %[[ITEM_SLICE_IDS:.+]] = memref.get_global @[[ITEM_SLICES]]
// CHECK-DAG: %[[ITEM_KTILES:.+]] = memref.get_global @[[ITEM_K]]
// CHECK-DAG: %[[SLICE_TABLE:.+]] = memref.get_global @[[SLICES]]
// CHECK: scf.forall (%[[HEAD:.+]], %[[QT:.+]]) in (8, 2)
// CHECK: memref.alloca_scope
// CHECK: %[[KVH:.+]] = arith.divui %[[HEAD]], %c4
// CHECK: %[[ROW0:.+]] = arith.muli %[[QT]], %c64
// CHECK: %[[QTILE:.+]] = memref.subview %[[Q]][%[[ROW0]], %[[HEAD]], 0] [64, 1, 64] [1, 1, 1] : memref<128x8x64xf32> to memref<64x64xf32
// CHECK: %[[ACC:.+]] = memref.alloca() : memref<64x64xf32>
// CHECK: %[[MAX:.+]] = memref.alloca() : memref<64xf32>
// CHECK: %[[SUM:.+]] = memref.alloca() : memref<64xf32>
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[MAX]]
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[SUM]]
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[ACC]]
// CHECK: memref.load %[[ITEM_OFFSETS]][%[[QT]]]
// CHECK: %[[IB:.+]] = arith.index_cast %{{.+}} : i32 to index
// CHECK: %[[IE:.+]] = arith.index_cast %{{.+}} : i32 to index
// CHECK: scf.for %[[ITEM:.+]] = %[[IB]] to %[[IE]]
// CHECK:   memref.load %[[ITEM_KTILES]][%[[ITEM]], %c0]
// CHECK:   %[[KB:.+]] = arith.index_cast
// CHECK:   memref.load %[[ITEM_KTILES]][%[[ITEM]], %c1
// CHECK:   %[[FB:.+]] = arith.index_cast
// CHECK:   memref.load %[[ITEM_KTILES]][%[[ITEM]], %c2]
// CHECK:   %[[FE:.+]] = arith.index_cast
// CHECK:   memref.load %[[ITEM_KTILES]][%[[ITEM]], %c3]
// CHECK:   %[[KE:.+]] = arith.index_cast
// Full tiles: no mask arithmetic at all.
// CHECK:   scf.for %{{.+}} = %[[FB]] to %[[FE]]
// CHECK:     memref.subview %[[K]][%{{.+}}, %[[KVH]], 0] [64, 1, 64]
// CHECK:     fattn.tile_scores %[[QTILE]], %{{.+}} into %{{.+}} {scale = 1.250000e-01 : f32}
// CHECK-NOT: fattn.tile_mask
// CHECK:     fattn.tile_online_softmax %{{.+}} max %{{.+}} sum %{{.+}} acc %{{.+}}
// CHECK:     fattn.tile_accumulate
// CHECK:   }
// Partial tiles: the item's visits after the full ones, masked by its slice.
// CHECK:   %[[NFULL:.+]] = arith.subi %[[FE]], %[[FB]]
// CHECK:   %[[NALL:.+]] = arith.subi %[[KE]], %[[KB]]
// CHECK:   scf.for %{{.+}} = %[[NFULL]] to %[[NALL]]
// CHECK:     %[[NEXT:.+]] = arith.addi %[[ITEM]], %c1
// CHECK:     fattn.tile_scores
// CHECK:     fattn.tile_mask %{{.+}} at [%[[ROW0]], %{{.+}}] slices %[[SLICE_TABLE]][%[[ITEM_SLICE_IDS]][%[[ITEM]] : %[[NEXT]]]]
// CHECK:     fattn.tile_online_softmax
// CHECK:     fattn.tile_accumulate
// CHECK:   }
// CHECK: }
// CHECK: %[[OTILE:.+]] = memref.subview %[[O]][%[[ROW0]], %[[HEAD]], 0] [64, 1, 64]
// CHECK: %[[LTILE:.+]] = memref.subview %[[L]][%[[ROW0]], %[[HEAD]]] [64, 1] [1, 1] : memref<128x8xf32> to memref<64xf32
// CHECK: fattn.tile_finalize %{{.+}} max %{{.+}} sum %{{.+}} into %[[OTILE]], %[[LTILE]]
func.func @causal(%q: memref<128x8x64xf32>, %k: memref<128x2x64xf32>, %v: memref<128x2x64xf32>, %o: memref<128x8x64xf32>, %l: memref<128x8xf32>) {
  fattn.attention ins(%q, %k, %v : memref<128x8x64xf32>, memref<128x2x64xf32>, memref<128x2x64xf32>) outs(%o, %l : memref<128x8x64xf32>, memref<128x8xf32>) mask <causal [0:128, 0:128]>
  return
}

// -----

// Block-diagonal: one item per query tile, its one key tile full; the
// off-diagonal tiles are never visited.
// CHECK-DAG: memref.global "private" constant @{{.+}}_item_offsets : memref<3xi32> = dense<[0, 1, 2]>
// CHECK-DAG: memref.global "private" constant @{{.+}}_item_slices : memref<2xi32> = dense<[0, 1]>
// CHECK-DAG: memref.global "private" constant @{{.+}}_item_k_tiles : memref<2x4xi32> = dense<{{\[}}[0, 0, 1, 1], [1, 1, 2, 2]]>
// CHECK-DAG: memref.global "private" constant @{{.+}}_item_visit_offsets : memref<3xi32> = dense<[0, 1, 2]>
// CHECK-LABEL: func.func @block_diagonal
// CHECK: fattn.tile_scores {{.+}} {scale = 5.000000e-01 : f32, softcap = 1.000000e+01 : f32}
func.func @block_diagonal(%q: memref<128x1x64xf32>, %k: memref<128x1x64xf32>, %v: memref<128x1x64xf32>, %o: memref<128x1x64xf32>, %l: memref<128x1xf32>) {
  fattn.attention ins(%q, %k, %v : memref<128x1x64xf32>, memref<128x1x64xf32>, memref<128x1x64xf32>) outs(%o, %l : memref<128x1x64xf32>, memref<128x1xf32>) mask <full [0:64, 0:64], full [64:128, 64:128]> {scale = 0.5 : f32, softcap = 10.0 : f32}
  return
}

// -----

// Lengths that are not multiples of the tile: the last tiles are clipped.
// Rows 0..63 see keys 0..39 (tile k0 partial) and nothing in k1 (skipped).
// Rows 64..99 see keys 0..39 through slice 0 (k0 partial) and, from row 70
// on, keys 40..row-30 through slice 1 (k0 and k1 partial, no row of the
// tile before 70 attends): key tile 0 of query tile 1 is visited once per
// slice.
// CHECK-DAG: memref.global "private" constant @{{.+}}_slices : memref<2x5xi32> = dense<{{\[}}[0, 100, 0, 40, 0], [50, 100, 40, 70, 1]]>
// CHECK-DAG: memref.global "private" constant @{{.+}}_item_offsets : memref<3xi32> = dense<[0, 1, 3]>
// CHECK-DAG: memref.global "private" constant @{{.+}}_item_slices : memref<3xi32> = dense<[0, 0, 1]>
// CHECK-DAG: memref.global "private" constant @{{.+}}_item_k_tiles : memref<3x4xi32> = dense<{{\[}}[0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 2]]>
// CHECK-DAG: memref.global "private" constant @{{.+}}_item_visit_offsets : memref<4xi32> = dense<[0, 1, 2, 4]>
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
