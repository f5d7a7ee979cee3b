// The CPU path plans a run-time mask by two calls into the mask library
// (FlashDialect/CpuSchedule.h): the tables' sizes, then, into tables sized
// by them, the tables; they are freed at the end of the block. Without that
// pass the loops' lowering refuses the plan by name (lower-tile-schedules-invalid).
// RUN: fattn-opt %s --fattn-tile-attention='block-q=64 block-k=32 align-query-tiles=1' --fattn-lower-tile-schedules | FileCheck %s
// RUN: fattn-opt %s --fattn-to-llvm | FileCheck %s --check-prefix=LLVM

// One declaration each, with every size and stride dynamic, serves every
// attention of the module (the second below has static ranges).
// CHECK-DAG: func.func private @fattn_cpu_tile_schedule_sizes(memref<?x?xi32, strided<[?, ?], offset: ?>>, memref<?x?xi32, strided<[?, ?], offset: ?>>, memref<?xi32, strided<[?], offset: ?>>, i64, i64, i64, i64, i64, memref<4xi64>) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @fattn_cpu_tile_schedule_fill(memref<?x?xi32, strided<[?, ?], offset: ?>>, memref<?x?xi32, strided<[?, ?], offset: ?>>, memref<?xi32, strided<[?], offset: ?>>, i64, i64, i64, i64, i64, memref<?xi32>, memref<?xi32>, memref<?xi32>, memref<?x4xi32>, memref<?x5xi32>) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @rt(
// CHECK-SAME: %[[QR:[a-z0-9]+]]: memref<?x2xi32>, %[[KR:[a-z0-9]+]]: memref<?x2xi32>, %[[KINDS:[a-z0-9]+]]: memref<?xi32>
// CHECK-NOT: fattn.tile_schedule
// Block sizes 64 and 32, flags 2 (slice-aligned query tiles, clipped keys).
// CHECK-DAG: %[[BQ:.*]] = arith.constant 64 : i64
// CHECK-DAG: %[[BK:.*]] = arith.constant 32 : i64
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[QRC:.*]] = memref.cast %[[QR]]
// CHECK-DAG: %[[KRC:.*]] = memref.cast %[[KR]]
// CHECK-DAG: %[[KINDSC:.*]] = memref.cast %[[KINDS]]
// CHECK: %[[SIZES:.*]] = memref.alloca() : memref<4xi64>
// CHECK: call @fattn_cpu_tile_schedule_sizes(%[[QRC]], %[[KRC]], %[[KINDSC]], %{{.*}}, %{{.*}}, %[[BQ]], %[[BK]], %[[FLAGS]], %[[SIZES]])
// CHECK: %[[TILES:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[BEGINS:.*]] = memref.alloc(%{{.*}}) : memref<?xi32>
// CHECK: %[[OFFSETS:.*]] = memref.alloc(%{{.*}}) : memref<?xi32>
// CHECK: %[[ITEM_SLICES:.*]] = memref.alloc(%{{.*}}) : memref<?xi32>
// CHECK: %[[KTILES:.*]] = memref.alloc(%{{.*}}) : memref<?x4xi32>
// CHECK: %[[SLICES:.*]] = memref.alloc(%{{.*}}) : memref<?x5xi32>
// CHECK: call @fattn_cpu_tile_schedule_fill(%[[QRC]], %[[KRC]], %[[KINDSC]], %{{.*}}, %{{.*}}, %[[BQ]], %[[BK]], %[[FLAGS]], %[[BEGINS]], %[[OFFSETS]], %[[ITEM_SLICES]], %[[KTILES]], %[[SLICES]])
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (2, %[[TILES]])
// CHECK: memref.dealloc %[[BEGINS]]
// CHECK: memref.dealloc %[[SLICES]]
// CHECK-NEXT: return
// CHECK-LABEL: func.func @three_slices(
// CHECK: call @fattn_cpu_tile_schedule_sizes(
// CHECK: call @fattn_cpu_tile_schedule_fill(

// The whole CPU pipeline calls them through their C interface symbols, and
// frees the five tables.
// LLVM-DAG: llvm.func @_mlir_ciface_fattn_cpu_tile_schedule_sizes(
// LLVM-DAG: llvm.func @_mlir_ciface_fattn_cpu_tile_schedule_fill(
// LLVM-LABEL: llvm.func @rt(
// LLVM: llvm.call @fattn_cpu_tile_schedule_sizes(
// LLVM-COUNT-5: llvm.call @malloc(
// LLVM: llvm.call @fattn_cpu_tile_schedule_fill(
// LLVM-COUNT-5: llvm.call @free(

func.func @rt(%q: memref<?x2x64xf32>, %k: memref<?x2x64xf32>, %v: memref<?x2x64xf32>,
              %out: memref<?x2x64xf32>, %lse: memref<?x2xf32>,
              %qr: memref<?x2xi32>, %kr: memref<?x2xi32>, %kinds: memref<?xi32>) {
  fattn.attention ins(%q, %k, %v : memref<?x2x64xf32>, memref<?x2x64xf32>, memref<?x2x64xf32>)
                  outs(%out, %lse : memref<?x2x64xf32>, memref<?x2xf32>)
                  ranges(%qr, %kr, %kinds : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32>)
  return
}

func.func @three_slices(%q: memref<?x2x64xf32>, %k: memref<?x2x64xf32>, %v: memref<?x2x64xf32>,
                        %out: memref<?x2x64xf32>, %lse: memref<?x2xf32>,
                        %qr: memref<3x2xi32>, %kr: memref<3x2xi32>, %kinds: memref<3xi32>) {
  fattn.attention ins(%q, %k, %v : memref<?x2x64xf32>, memref<?x2x64xf32>, memref<?x2x64xf32>)
                  outs(%out, %lse : memref<?x2x64xf32>, memref<?x2xf32>)
                  ranges(%qr, %kr, %kinds : memref<3x2xi32>, memref<3x2xi32>, memref<3xi32>)
  return
}
