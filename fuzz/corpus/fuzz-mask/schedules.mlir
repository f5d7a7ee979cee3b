func.func @schedules(%qr: memref<?x2xi32>, %kr: memref<?x2xi32>, %kinds: memref<?xi32>, %nq: index, %nk: index) -> (index, index) {
  %b, %o, %s, %t, %sl, %n = fattn.tile_schedule %qr, %kr, %kinds tokens(%nq, %nk) {block_q = 128 : i64, block_k = 64 : i64, whole_key_tiles, align_query_tiles} : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32> -> memref<?xi32>, memref<?xi32>, memref<?xi32>, memref<?x4xi32>, memref<?x5xi32>
  %slots, %items, %is, %slices, %m = fattn.kernel_schedule %qr, %kr, %kinds tokens(%nq, %nk) {block_q = 128 : i64, block_k = 64 : i64, max_items_per_tile = 8 : i64} : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32> -> memref<?x8xi32>, memref<?x4xi32>, memref<?xi32>, memref<?x5xi32>
  return %n, %m : index, index
}
