// RUN: fattn-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(fattn-hoist-tile-buffers))' | FileCheck %s

// A sequential tile loop: the tile's buffers move to the function's entry and
// the scope is gone, so the loop no longer allocates stack per iteration.
// CHECK-LABEL: func.func @sequential
// CHECK-NEXT:    %[[SCORES:.+]] = memref.alloca() : memref<64x64xf32>
// CHECK-NEXT:    %[[ACC:.+]] = memref.alloca() : memref<64x8xf32>
// CHECK-NOT:     memref.alloca_scope
// CHECK:         scf.for
// CHECK-NOT:       memref.alloca(
// CHECK:           memref.store %{{.+}}, %[[ACC]]
// CHECK:           memref.store %{{.+}}, %[[SCORES]]
func.func @sequential(%n: index, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    memref.alloca_scope {
      %acc = memref.alloca() : memref<64x8xf32>
      %scores = memref.alloca() : memref<64x64xf32>
      memref.store %x, %acc[%c0, %c0] : memref<64x8xf32>
      memref.store %x, %scores[%c0, %c0] : memref<64x64xf32>
    } {fattn.tile_buffers}
  }
  return
}

// -----

// Still a parallel loop: shared buffers would race, so nothing moves.
// CHECK-LABEL: func.func @parallel
// CHECK:         scf.forall
// CHECK-NEXT:      memref.alloca_scope
// CHECK-NEXT:        memref.alloca() : memref<64x8xf32>
func.func @parallel(%x: f32) {
  %c0 = arith.constant 0 : index
  scf.forall (%i) in (4) {
    memref.alloca_scope {
      %acc = memref.alloca() : memref<64x8xf32>
      memref.store %x, %acc[%c0, %c0] : memref<64x8xf32>
    } {fattn.tile_buffers}
  }
  return
}

// -----

// Scopes of others are not touched.
// CHECK-LABEL: func.func @unmarked
// CHECK:         scf.for
// CHECK-NEXT:      memref.alloca_scope
func.func @unmarked(%n: index, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    memref.alloca_scope {
      %acc = memref.alloca() : memref<64x8xf32>
      memref.store %x, %acc[%c0, %c0] : memref<64x8xf32>
    }
  }
  return
}
