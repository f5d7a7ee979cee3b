

func.func @slice_table_columns(%s: memref<8x8xf32>, %t: memref<3x4xi32>, %ids: memref<3xi32>, %i: index) {
  // expected-error @+1 {{'fattn.tile_mask' op slice table rows must be (q_begin, q_end, k_begin, k_end, kind), got 4 columns}}
  fattn.tile_mask %s at [%i, %i] slices %t[%ids[%i : %i]] : memref<8x8xf32>, memref<3x4xi32>, memref<3xi32>
  return
}

