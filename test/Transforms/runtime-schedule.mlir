// A mask given as ranges operands, with dynamic token counts: tiled around a
// fattn.tile_schedule planned when the program runs, and mapped to a GPU
// kernel that reads the plan's records and the token counts from its
// parameters.
// RUN: fattn-opt %s --fattn-tile-attention='block-q=128 block-k=64 whole-key-tiles=1 align-query-tiles=1' | FileCheck %s --check-prefix=TILED
// RUN: fattn-opt %s --fattn-tile-attention='block-q=128 block-k=64 whole-key-tiles=1 align-query-tiles=1' --fattn-map-tiles-to-gpu='max-items-per-tile=4' | FileCheck %s --check-prefix=GPU
// With carry-key-rows, the key loop carries the next K tile's first row and
// the last one's (V's next) after its accumulators and maxima, located one
// tile ahead under a guard (the prologue's, then each iteration's); the
// default. Without it the loop carries the accumulators and maxima alone.
// RUN: fattn-opt %s --fattn-tile-attention='block-q=128 block-k=64 whole-key-tiles=1 align-query-tiles=1' --fattn-map-tiles-to-gpu='stages=3' | FileCheck %s --check-prefix=CARRY
// RUN: fattn-opt %s --fattn-tile-attention='block-q=128 block-k=64 whole-key-tiles=1 align-query-tiles=1' --fattn-map-tiles-to-gpu='carry-key-rows=0 stages=3' | FileCheck %s --check-prefix=NOCARRY
// CARRY: scf.if %{{.*}} -> (i32)
// CARRY: {{= scf.for .*}}, f32, i32, i32)  : i32 {
// CARRY: scf.if %{{.*}} -> (i32)
// CARRY: scf.yield {{.*}} : {{.*}}, f32, i32, i32
// NOCARRY-NOT: -> (i32)
// NOCARRY: {{= scf.for .*}}, f32, f32)  : i32 {

func.func @rt(%q: memref<?x8x128xbf16>, %k: memref<?x8x128xbf16>, %v: memref<?x8x128xbf16>,
              %out: memref<?x8x128xbf16>, %lse: memref<?x8xf32>,
              %qr: memref<?x2xi32>, %kr: memref<?x2xi32>, %kinds: memref<?xi32>) {
  fattn.attention ins(%q, %k, %v : memref<?x8x128xbf16>, memref<?x8x128xbf16>, memref<?x8x128xbf16>)
                  outs(%out, %lse : memref<?x8x128xbf16>, memref<?x8xf32>)
                  ranges(%qr, %kr, %kinds : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32>)
  return
}

// The token counts come from the buffers, the plan from the ranges; the
// loop nest is the static form's, over the plan's query tiles, and no
// constant table is written.
// TILED-NOT: memref.global
// TILED-LABEL: func.func @rt(
// TILED-SAME: %[[Q:[a-z0-9]+]]: memref<?x8x128xbf16>, %[[K:[a-z0-9]+]]: memref<?x8x128xbf16>
// TILED-SAME: %[[QR:[a-z0-9]+]]: memref<?x2xi32>, %[[KR:[a-z0-9]+]]: memref<?x2xi32>, %[[KINDS:[a-z0-9]+]]: memref<?xi32>
// TILED: %[[NQ:.*]] = memref.dim %[[Q]], %{{.*}} : memref<?x8x128xbf16>
// TILED: %[[NK:.*]] = memref.dim %[[K]], %{{.*}} : memref<?x8x128xbf16>
// TILED: %[[BEGINS:.*]], %[[OFFSETS:.*]], %[[SLICES_OF_ITEMS:.*]], %[[KTILES:.*]], %[[SLICES:.*]], %[[TILES:.*]] = fattn.tile_schedule %[[QR]], %[[KR]], %[[KINDS]] tokens(%[[NQ]], %[[NK]]) {align_query_tiles, block_k = 64 : i64, block_q = 128 : i64, whole_key_tiles}
// TILED: scf.forall (%{{.*}}, %[[TILE:.*]]) in (8, %[[TILES]])
// TILED: memref.load %[[BEGINS]][%[[TILE]]]
// TILED: memref.load %[[OFFSETS]][%[[TILE]]]
// TILED: scf.for %[[ITEM:.*]] = 
// TILED: memref.load %[[KTILES]][%[[ITEM]], %{{.*}}] : memref<?x4xi32>
// Key tiles are cut at the dynamic key count.
// TILED: arith.subi %[[NK]], %{{.*}} : index
// TILED: fattn.tile_scores
// TILED: fattn.tile_mask %{{.*}} slices %[[SLICES]][%[[SLICES_OF_ITEMS]][

// The host plans the kernel's records (fattn.kernel_schedule) and launches
// (heads, launch slots) CTAs; the kernel takes the four record tables, the
// token and slot counts, and the call's head counts and scale (the
// program's constants on its own launch), and leaves CTAs past the slot
// count or the heads.
// GPU-LABEL: func.func @rt(
// GPU: %[[SLOTS:.*]], %[[ITEMS:.*]], %[[ITEM_SLICES:.*]], %[[SLICES:.*]], %[[NUM_SLOTS:.*]] = fattn.kernel_schedule %{{.*}} tokens(%{{.*}}, %{{.*}}) {align_query_tiles, block_k = 64 : i64, block_q = 128 : i64, max_items_per_tile = 4 : i64, whole_key_tiles} : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32> -> memref<?x8xi32>, memref<?x4xi32>, memref<?xi32>, memref<?x5xi32>
// GPU-NOT: fattn.tile_schedule
// GPU: gpu.launch_func @fattn_kernels::@fattn_rt_0 blocks in (%{{[a-z0-9_]+}}, %[[NUM_SLOTS]], %{{[a-z0-9_]+}})
// GPU-SAME: args(%{{[0-9]+}} : !llvm.ptr<1>, %{{[0-9]+}} : !llvm.ptr<1>, %{{[0-9]+}} : !llvm.ptr<1>, %{{[0-9]+}} : !llvm.ptr<1>, %{{[0-9]+}} : !llvm.ptr<1>, %{{[0-9]+}} : !llvm.ptr<1>, %{{[0-9]+}} : !llvm.ptr<1>, %{{[0-9]+}} : !llvm.ptr<1>, %{{[0-9]+}} : !llvm.ptr<1>, %{{[0-9]+}} : i32, %{{[0-9]+}} : i32, %{{[0-9]+}} : i32, %[[HQ:[a-z0-9_]+]] : i32, %[[HK:[a-z0-9_]+]] : i32, %[[SCALE:[a-z0-9_]+]] : f32)
// GPU-SAME: {extents = ["num_q", "heads_q"], name = "q", role = "input", type = memref<?x?x128xbf16>}
// GPU-SAME: {extents = ["num_k", "heads_k"], name = "k", role = "input"
// GPU-SAME: {name = "slots", role = "schedule", type = memref<?x8xi32>}
// GPU-SAME: {name = "items", role = "schedule", type = memref<?x4xi32>}
// GPU-SAME: {name = "item_slices", role = "schedule", type = memref<?xi32>}
// GPU-SAME: {name = "slices", role = "schedule", type = memref<?x5xi32>}
// GPU-SAME: {name = "num_q", role = "scalar", type = i32}
// GPU-SAME: {name = "num_k", role = "scalar", type = i32}
// GPU-SAME: {name = "num_slots", role = "scalar", type = i32}
// GPU-SAME: {name = "heads_q", role = "scalar", type = i32}
// GPU-SAME: {name = "heads_k", role = "scalar", type = i32}
// GPU-SAME: {name = "scale", role = "scalar", type = f32}
// GPU: gpu.func @fattn_rt_0(%{{[a-z0-9]+}}: !llvm.ptr<1>, %{{[a-z0-9]+}}: !llvm.ptr<1>, %{{[a-z0-9]+}}: !llvm.ptr<1>, %{{[a-z0-9]+}}: !llvm.ptr<1>, %{{[a-z0-9]+}}: !llvm.ptr<1>, %[[KSLOTS:[a-z0-9]+]]: !llvm.ptr<1>, %[[KITEMS:[a-z0-9]+]]: !llvm.ptr<1>, %[[KITEM_SLICES:[a-z0-9]+]]: !llvm.ptr<1>, %[[KSLICES:[a-z0-9]+]]: !llvm.ptr<1>, %[[KNUM_Q:[a-z0-9]+]]: i32, %[[KNUM_K:[a-z0-9]+]]: i32, %[[KNUM_SLOTS:[a-z0-9]+]]: i32, %[[KHQ:[a-z0-9]+]]: i32, %[[KHK:[a-z0-9]+]]: i32, %[[KSCALE:[a-z0-9]+]]: f32)
// GPU-NOT: llvm.mlir.global internal constant
// GPU: setp.ge.u32 past, cta, $1;{{.*}}setp.ge.u32 past, cta, $0;{{.*}}%[[KNUM_SLOTS]], %[[KHQ]]
// The key/value head is the query head over the call's group size.
// GPU: %[[GROUP:.*]] = arith.divui %[[KHQ]], %[[KHK]] : i32
// GPU: llvm.getelementptr %[[KSLOTS]]
// Rows past the query count are zero-filled when Q is copied.
// GPU: arith.cmpi slt, %{{.*}}, %[[KNUM_Q]] : i32
// Rows past the key count when K and V are.
// GPU: arith.cmpi slt, %{{.*}}, %[[KNUM_K]] : i32
// In the key loop: the search over the tile's items (two steps for four
// items), then the item's record in one 16-byte load.
// GPU: scf.for
// GPU: llvm.getelementptr %[[KITEMS]]
// GPU: llvm.getelementptr %[[KITEMS]]
// GPU: llvm.getelementptr %[[KITEMS]]
// GPU-NEXT: llvm.load %{{.*}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xi32>
// Partial visits read their item's slice.
// GPU: llvm.getelementptr %[[KITEM_SLICES]]
// GPU: llvm.getelementptr %[[KSLICES]]
// Scores meet the call's scale in base 2 (scale * log2 e) inside the
// exponent.
// GPU: arith.mulf %[[KSCALE]], %{{.*}} : f32
