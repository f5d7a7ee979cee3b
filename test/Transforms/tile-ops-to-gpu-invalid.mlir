// RUN: fattn-opt %s -split-input-file --fattn-map-tiles-to-gpu -verify-diagnostics

// The tiled nest of fattn-tile-attention with one op added to the partial
// key loop: an op with no GPU lowering is named, never dropped.
module {
  memref.global "private" constant @__fattn_tiles_stray_0_slices : memref<1x5xi32> = dense<[[0, 128, 0, 128, 1]]> {fattn.tile_table = "slices"}
  memref.global "private" constant @__fattn_tiles_stray_0_item_visit_offsets : memref<2xi32> = dense<[0, 2]> {fattn.tile_table = "item_visit_offsets"}
  memref.global "private" constant @__fattn_tiles_stray_0_item_k_tiles : memref<1x4xi32> = dense<[[0, 0, 0, 2]]> {fattn.tile_table = "item_k_tiles"}
  memref.global "private" constant @__fattn_tiles_stray_0_item_slices : memref<1xi32> = dense<0> {fattn.tile_table = "item_slices"}
  memref.global "private" constant @__fattn_tiles_stray_0_item_offsets : memref<2xi32> = dense<[0, 1]> {fattn.tile_table = "item_offsets"}
  memref.global "private" constant @__fattn_tiles_stray_0_q_tile_begins : memref<2xi32> = dense<[0, 128]> {fattn.tile_table = "q_tile_begins"}
  func.func @stray(%arg0: memref<128x1x64xbf16>, %arg1: memref<128x1x64xbf16>, %arg2: memref<128x1x64xbf16>, %arg3: memref<128x1x64xbf16>, %arg4: memref<128x1xf32>) {
    %0 = memref.get_global @__fattn_tiles_stray_0_q_tile_begins : memref<2xi32>
    %1 = memref.get_global @__fattn_tiles_stray_0_item_offsets : memref<2xi32>
    %2 = memref.get_global @__fattn_tiles_stray_0_item_slices : memref<1xi32>
    %3 = memref.get_global @__fattn_tiles_stray_0_item_k_tiles : memref<1x4xi32>
    %4 = memref.get_global @__fattn_tiles_stray_0_item_visit_offsets : memref<2xi32>
    %5 = memref.get_global @__fattn_tiles_stray_0_slices : memref<1x5xi32>
    scf.forall (%arg5, %arg6) in (1, 1) {
      memref.alloca_scope  {
        %c1 = arith.constant 1 : index
        %6 = arith.divui %arg5, %c1 : index
        %c128 = arith.constant 128 : index
        %7 = arith.muli %arg6, %c128 : index
        %subview = memref.subview %arg0[%7, %arg5, 0] [128, 1, 64] [1, 1, 1] : memref<128x1x64xbf16> to memref<128x64xbf16, strided<[64, 1], offset: ?>>
        %alloca = memref.alloca() : memref<128x64xf32>
        %alloca_0 = memref.alloca() : memref<128xf32>
        %alloca_1 = memref.alloca() : memref<128xf32>
        %alloca_2 = memref.alloca() : memref<128x64xf32>
        %cst = arith.constant 0xFF800000 : f32
        %cst_3 = arith.constant 0.000000e+00 : f32
        linalg.fill ins(%cst : f32) outs(%alloca_0 : memref<128xf32>)
        linalg.fill ins(%cst_3 : f32) outs(%alloca_1 : memref<128xf32>)
        linalg.fill ins(%cst_3 : f32) outs(%alloca : memref<128x64xf32>)
        %subview_4 = memref.subview %alloca[0, 0] [128, 64] [1, 1] : memref<128x64xf32> to memref<128x64xf32, strided<[64, 1]>>
        %subview_5 = memref.subview %alloca_0[0] [128] [1] : memref<128xf32> to memref<128xf32, strided<[1]>>
        %subview_6 = memref.subview %alloca_1[0] [128] [1] : memref<128xf32> to memref<128xf32, strided<[1]>>
        %c1_7 = arith.constant 1 : index
        %8 = arith.addi %arg6, %c1_7 : index
        %9 = memref.load %1[%arg6] : memref<2xi32>
        %10 = arith.index_cast %9 : i32 to index
        %11 = memref.load %1[%8] : memref<2xi32>
        %12 = arith.index_cast %11 : i32 to index
        scf.for %arg7 = %10 to %12 step %c1_7 {
          %c0 = arith.constant 0 : index
          %13 = memref.load %3[%arg7, %c0] : memref<1x4xi32>
          %14 = arith.index_cast %13 : i32 to index
          %c1_10 = arith.constant 1 : index
          %15 = memref.load %3[%arg7, %c1_10] : memref<1x4xi32>
          %16 = arith.index_cast %15 : i32 to index
          %c2 = arith.constant 2 : index
          %17 = memref.load %3[%arg7, %c2] : memref<1x4xi32>
          %18 = arith.index_cast %17 : i32 to index
          %c3 = arith.constant 3 : index
          %19 = memref.load %3[%arg7, %c3] : memref<1x4xi32>
          %20 = arith.index_cast %19 : i32 to index
          scf.for %arg8 = %16 to %18 step %c1_7 {
            %c64 = arith.constant 64 : index
            %23 = arith.muli %arg8, %c64 : index
            %subview_11 = memref.subview %arg1[%23, %6, 0] [64, 1, 64] [1, 1, 1] : memref<128x1x64xbf16> to memref<64x64xbf16, strided<[64, 1], offset: ?>>
            %subview_12 = memref.subview %arg2[%23, %6, 0] [64, 1, 64] [1, 1, 1] : memref<128x1x64xbf16> to memref<64x64xbf16, strided<[64, 1], offset: ?>>
            %subview_13 = memref.subview %alloca_2[0, 0] [128, 64] [1, 1] : memref<128x64xf32> to memref<128x64xf32, strided<[64, 1]>>
            fattn.tile_scores %subview, %subview_11 into %subview_13 {scale = 1.250000e-01 : f32} : memref<128x64xbf16, strided<[64, 1], offset: ?>>, memref<64x64xbf16, strided<[64, 1], offset: ?>>, memref<128x64xf32, strided<[64, 1]>>
            fattn.tile_online_softmax %subview_13 max %subview_5 sum %subview_6 acc %subview_4 : memref<128x64xf32, strided<[64, 1]>>, memref<128xf32, strided<[1]>>, memref<128xf32, strided<[1]>>, memref<128x64xf32, strided<[64, 1]>>
            fattn.tile_accumulate %subview_13, %subview_12 into %subview_4 : memref<128x64xf32, strided<[64, 1]>>, memref<64x64xbf16, strided<[64, 1], offset: ?>>, memref<128x64xf32, strided<[64, 1]>>
          }
          %21 = arith.subi %18, %16 : index
          %22 = arith.subi %20, %14 : index
          scf.for %arg8 = %21 to %22 step %c1_7 {
            %23 = arith.subi %18, %16 : index
            %24 = arith.cmpi slt, %arg8, %23 : index
            %25 = arith.subi %arg8, %23 : index
            %26 = arith.addi %14, %25 : index
            %27 = arith.addi %26, %23 : index
            %28 = arith.subi %16, %14 : index
            %29 = arith.cmpi slt, %25, %28 : index
            %30 = arith.select %29, %26, %27 : index
            %31 = arith.addi %16, %arg8 : index
            %32 = arith.select %24, %31, %30 : index
            %33 = arith.addi %arg7, %c1_7 : index
            %c64 = arith.constant 64 : index
            %34 = arith.muli %32, %c64 : index
            %subview_11 = memref.subview %arg1[%34, %6, 0] [64, 1, 64] [1, 1, 1] : memref<128x1x64xbf16> to memref<64x64xbf16, strided<[64, 1], offset: ?>>
            %subview_12 = memref.subview %arg2[%34, %6, 0] [64, 1, 64] [1, 1, 1] : memref<128x1x64xbf16> to memref<64x64xbf16, strided<[64, 1], offset: ?>>
            %subview_13 = memref.subview %alloca_2[0, 0] [128, 64] [1, 1] : memref<128x64xf32> to memref<128x64xf32, strided<[64, 1]>>
            fattn.tile_scores %subview, %subview_11 into %subview_13 {scale = 1.250000e-01 : f32} : memref<128x64xbf16, strided<[64, 1], offset: ?>>, memref<64x64xbf16, strided<[64, 1], offset: ?>>, memref<128x64xf32, strided<[64, 1]>>
            // expected-error @below {{no GPU lowering for 'memref.store' in a key-tile loop}}
            memref.store %cst_3, %alloca_1[%c1] : memref<128xf32>
            fattn.tile_mask %subview_13 at [%7, %34] slices %5[%2[%arg7 : %33]] : memref<128x64xf32, strided<[64, 1]>>, memref<1x5xi32>, memref<1xi32>
            fattn.tile_online_softmax %subview_13 max %subview_5 sum %subview_6 acc %subview_4 : memref<128x64xf32, strided<[64, 1]>>, memref<128xf32, strided<[1]>>, memref<128xf32, strided<[1]>>, memref<128x64xf32, strided<[64, 1]>>
            fattn.tile_accumulate %subview_13, %subview_12 into %subview_4 : memref<128x64xf32, strided<[64, 1]>>, memref<64x64xbf16, strided<[64, 1], offset: ?>>, memref<128x64xf32, strided<[64, 1]>>
          }
        }
        %subview_8 = memref.subview %arg3[%7, %arg5, 0] [128, 1, 64] [1, 1, 1] : memref<128x1x64xbf16> to memref<128x64xbf16, strided<[64, 1], offset: ?>>
        %subview_9 = memref.subview %arg4[%7, %arg5] [128, 1] [1, 1] : memref<128x1xf32> to memref<128xf32, strided<[1], offset: ?>>
        fattn.tile_finalize %subview_4 max %subview_5 sum %subview_6 into %subview_8, %subview_9 : memref<128x64xf32, strided<[64, 1]>>, memref<128xf32, strided<[1]>>, memref<128xf32, strided<[1]>>, memref<128x64xbf16, strided<[64, 1], offset: ?>>, memref<128xf32, strided<[1], offset: ?>>
      } {fattn.tile_buffers}
    } {fattn.key_edge = "whole", fattn.tile_tables = {item_k_tiles = @__fattn_tiles_stray_0_item_k_tiles, item_offsets = @__fattn_tiles_stray_0_item_offsets, item_slices = @__fattn_tiles_stray_0_item_slices, item_visit_offsets = @__fattn_tiles_stray_0_item_visit_offsets, q_tile_begins = @__fattn_tiles_stray_0_q_tile_begins, slices = @__fattn_tiles_stray_0_slices}}
    return
  }
}

// -----

// The same nest with a store in the work-item loop, outside the key-tile
// loops: named too.
module {
  memref.global "private" constant @__fattn_tiles_stray_item_0_slices : memref<1x5xi32> = dense<[[0, 128, 0, 128, 1]]> {fattn.tile_table = "slices"}
  memref.global "private" constant @__fattn_tiles_stray_item_0_item_visit_offsets : memref<2xi32> = dense<[0, 2]> {fattn.tile_table = "item_visit_offsets"}
  memref.global "private" constant @__fattn_tiles_stray_item_0_item_k_tiles : memref<1x4xi32> = dense<[[0, 0, 0, 2]]> {fattn.tile_table = "item_k_tiles"}
  memref.global "private" constant @__fattn_tiles_stray_item_0_item_slices : memref<1xi32> = dense<0> {fattn.tile_table = "item_slices"}
  memref.global "private" constant @__fattn_tiles_stray_item_0_item_offsets : memref<2xi32> = dense<[0, 1]> {fattn.tile_table = "item_offsets"}
  memref.global "private" constant @__fattn_tiles_stray_item_0_q_tile_begins : memref<2xi32> = dense<[0, 128]> {fattn.tile_table = "q_tile_begins"}
  func.func @stray_item(%arg0: memref<128x1x64xbf16>, %arg1: memref<128x1x64xbf16>, %arg2: memref<128x1x64xbf16>, %arg3: memref<128x1x64xbf16>, %arg4: memref<128x1xf32>) {
    %0 = memref.get_global @__fattn_tiles_stray_item_0_q_tile_begins : memref<2xi32>
    %1 = memref.get_global @__fattn_tiles_stray_item_0_item_offsets : memref<2xi32>
    %2 = memref.get_global @__fattn_tiles_stray_item_0_item_slices : memref<1xi32>
    %3 = memref.get_global @__fattn_tiles_stray_item_0_item_k_tiles : memref<1x4xi32>
    %4 = memref.get_global @__fattn_tiles_stray_item_0_item_visit_offsets : memref<2xi32>
    %5 = memref.get_global @__fattn_tiles_stray_item_0_slices : memref<1x5xi32>
    scf.forall (%arg5, %arg6) in (1, 1) {
      memref.alloca_scope  {
        %c1 = arith.constant 1 : index
        %6 = arith.divui %arg5, %c1 : index
        %c128 = arith.constant 128 : index
        %7 = arith.muli %arg6, %c128 : index
        %subview = memref.subview %arg0[%7, %arg5, 0] [128, 1, 64] [1, 1, 1] : memref<128x1x64xbf16> to memref<128x64xbf16, strided<[64, 1], offset: ?>>
        %alloca = memref.alloca() : memref<128x64xf32>
        %alloca_0 = memref.alloca() : memref<128xf32>
        %alloca_1 = memref.alloca() : memref<128xf32>
        %alloca_2 = memref.alloca() : memref<128x64xf32>
        %cst = arith.constant 0xFF800000 : f32
        %cst_3 = arith.constant 0.000000e+00 : f32
        linalg.fill ins(%cst : f32) outs(%alloca_0 : memref<128xf32>)
        linalg.fill ins(%cst_3 : f32) outs(%alloca_1 : memref<128xf32>)
        linalg.fill ins(%cst_3 : f32) outs(%alloca : memref<128x64xf32>)
        %subview_4 = memref.subview %alloca[0, 0] [128, 64] [1, 1] : memref<128x64xf32> to memref<128x64xf32, strided<[64, 1]>>
        %subview_5 = memref.subview %alloca_0[0] [128] [1] : memref<128xf32> to memref<128xf32, strided<[1]>>
        %subview_6 = memref.subview %alloca_1[0] [128] [1] : memref<128xf32> to memref<128xf32, strided<[1]>>
        %c1_7 = arith.constant 1 : index
        %8 = arith.addi %arg6, %c1_7 : index
        %9 = memref.load %1[%arg6] : memref<2xi32>
        %10 = arith.index_cast %9 : i32 to index
        %11 = memref.load %1[%8] : memref<2xi32>
        %12 = arith.index_cast %11 : i32 to index
        scf.for %arg7 = %10 to %12 step %c1_7 {
          // expected-error @below {{no GPU lowering for 'memref.store' in the work-item loop}}
          memref.store %cst_3, %alloca_1[%c1] : memref<128xf32>
          %c0 = arith.constant 0 : index
          %13 = memref.load %3[%arg7, %c0] : memref<1x4xi32>
          %14 = arith.index_cast %13 : i32 to index
          %c1_10 = arith.constant 1 : index
          %15 = memref.load %3[%arg7, %c1_10] : memref<1x4xi32>
          %16 = arith.index_cast %15 : i32 to index
          %c2 = arith.constant 2 : index
          %17 = memref.load %3[%arg7, %c2] : memref<1x4xi32>
          %18 = arith.index_cast %17 : i32 to index
          %c3 = arith.constant 3 : index
          %19 = memref.load %3[%arg7, %c3] : memref<1x4xi32>
          %20 = arith.index_cast %19 : i32 to index
          scf.for %arg8 = %16 to %18 step %c1_7 {
            %c64 = arith.constant 64 : index
            %23 = arith.muli %arg8, %c64 : index
            %subview_11 = memref.subview %arg1[%23, %6, 0] [64, 1, 64] [1, 1, 1] : memref<128x1x64xbf16> to memref<64x64xbf16, strided<[64, 1], offset: ?>>
            %subview_12 = memref.subview %arg2[%23, %6, 0] [64, 1, 64] [1, 1, 1] : memref<128x1x64xbf16> to memref<64x64xbf16, strided<[64, 1], offset: ?>>
            %subview_13 = memref.subview %alloca_2[0, 0] [128, 64] [1, 1] : memref<128x64xf32> to memref<128x64xf32, strided<[64, 1]>>
            fattn.tile_scores %subview, %subview_11 into %subview_13 {scale = 1.250000e-01 : f32} : memref<128x64xbf16, strided<[64, 1], offset: ?>>, memref<64x64xbf16, strided<[64, 1], offset: ?>>, memref<128x64xf32, strided<[64, 1]>>
            fattn.tile_online_softmax %subview_13 max %subview_5 sum %subview_6 acc %subview_4 : memref<128x64xf32, strided<[64, 1]>>, memref<128xf32, strided<[1]>>, memref<128xf32, strided<[1]>>, memref<128x64xf32, strided<[64, 1]>>
            fattn.tile_accumulate %subview_13, %subview_12 into %subview_4 : memref<128x64xf32, strided<[64, 1]>>, memref<64x64xbf16, strided<[64, 1], offset: ?>>, memref<128x64xf32, strided<[64, 1]>>
          }
          %21 = arith.subi %18, %16 : index
          %22 = arith.subi %20, %14 : index
          scf.for %arg8 = %21 to %22 step %c1_7 {
            %23 = arith.subi %18, %16 : index
            %24 = arith.cmpi slt, %arg8, %23 : index
            %25 = arith.subi %arg8, %23 : index
            %26 = arith.addi %14, %25 : index
            %27 = arith.addi %26, %23 : index
            %28 = arith.subi %16, %14 : index
            %29 = arith.cmpi slt, %25, %28 : index
            %30 = arith.select %29, %26, %27 : index
            %31 = arith.addi %16, %arg8 : index
            %32 = arith.select %24, %31, %30 : index
            %33 = arith.addi %arg7, %c1_7 : index
            %c64 = arith.constant 64 : index
            %34 = arith.muli %32, %c64 : index
            %subview_11 = memref.subview %arg1[%34, %6, 0] [64, 1, 64] [1, 1, 1] : memref<128x1x64xbf16> to memref<64x64xbf16, strided<[64, 1], offset: ?>>
            %subview_12 = memref.subview %arg2[%34, %6, 0] [64, 1, 64] [1, 1, 1] : memref<128x1x64xbf16> to memref<64x64xbf16, strided<[64, 1], offset: ?>>
            %subview_13 = memref.subview %alloca_2[0, 0] [128, 64] [1, 1] : memref<128x64xf32> to memref<128x64xf32, strided<[64, 1]>>
            fattn.tile_scores %subview, %subview_11 into %subview_13 {scale = 1.250000e-01 : f32} : memref<128x64xbf16, strided<[64, 1], offset: ?>>, memref<64x64xbf16, strided<[64, 1], offset: ?>>, memref<128x64xf32, strided<[64, 1]>>
            fattn.tile_mask %subview_13 at [%7, %34] slices %5[%2[%arg7 : %33]] : memref<128x64xf32, strided<[64, 1]>>, memref<1x5xi32>, memref<1xi32>
            fattn.tile_online_softmax %subview_13 max %subview_5 sum %subview_6 acc %subview_4 : memref<128x64xf32, strided<[64, 1]>>, memref<128xf32, strided<[1]>>, memref<128xf32, strided<[1]>>, memref<128x64xf32, strided<[64, 1]>>
            fattn.tile_accumulate %subview_13, %subview_12 into %subview_4 : memref<128x64xf32, strided<[64, 1]>>, memref<64x64xbf16, strided<[64, 1], offset: ?>>, memref<128x64xf32, strided<[64, 1]>>
          }
        }
        %subview_8 = memref.subview %arg3[%7, %arg5, 0] [128, 1, 64] [1, 1, 1] : memref<128x1x64xbf16> to memref<128x64xbf16, strided<[64, 1], offset: ?>>
        %subview_9 = memref.subview %arg4[%7, %arg5] [128, 1] [1, 1] : memref<128x1xf32> to memref<128xf32, strided<[1], offset: ?>>
        fattn.tile_finalize %subview_4 max %subview_5 sum %subview_6 into %subview_8, %subview_9 : memref<128x64xf32, strided<[64, 1]>>, memref<128xf32, strided<[1]>>, memref<128xf32, strided<[1]>>, memref<128x64xbf16, strided<[64, 1], offset: ?>>, memref<128xf32, strided<[1], offset: ?>>
      } {fattn.tile_buffers}
    } {fattn.key_edge = "whole", fattn.tile_tables = {item_k_tiles = @__fattn_tiles_stray_item_0_item_k_tiles, item_offsets = @__fattn_tiles_stray_item_0_item_offsets, item_slices = @__fattn_tiles_stray_item_0_item_slices, item_visit_offsets = @__fattn_tiles_stray_item_0_item_visit_offsets, q_tile_begins = @__fattn_tiles_stray_item_0_q_tile_begins, slices = @__fattn_tiles_stray_item_0_slices}}
    return
  }
}

