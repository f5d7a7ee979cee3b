// The backward's tile ops round-trip, and their verifiers check the
// key-major extents (rows: keys, columns: queries).
// RUN: fattn-opt %s -split-input-file | FileCheck %s
// RUN: fattn-opt %s -split-input-file --mlir-print-op-generic | fattn-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @step
// CHECK: fattn.tile_dots %{{.*}}, %{{.*}} into %{{.*}} {diagonal}
// CHECK: fattn.tile_probabilities %{{.*}} lse %{{.*}} into %{{.*}}
// CHECK: fattn.tile_score_grads %{{.*}}, %{{.*}}, %{{.*}} delta %{{.*}} into %{{.*}} {scale = 5.000000e-01 : f32, softcap = 3.000000e+01 : f32}
// CHECK: fattn.tile_accumulate_transposed %{{.*}}, %{{.*}} into %{{.*}}
func.func @step(%do: memref<16x8xf32>, %o: memref<16x8xf32>, %delta: memref<16xf32>, %s: memref<12x16xf32>, %lse: memref<16xf32>, %p: memref<12x16xf32>, %dp: memref<12x16xf32>, %ds: memref<12x16xf32>, %k: memref<12x8xbf16>, %dq: memref<16x8xf32>) {
  fattn.tile_dots %do, %o into %delta {diagonal} : memref<16x8xf32>, memref<16x8xf32>, memref<16xf32>
  fattn.tile_probabilities %s lse %lse into %p : memref<12x16xf32>, memref<16xf32>, memref<12x16xf32>
  fattn.tile_score_grads %s, %p, %dp delta %delta into %ds {scale = 0.5 : f32, softcap = 30.0 : f32} : memref<12x16xf32>, memref<12x16xf32>, memref<12x16xf32>, memref<16xf32>, memref<12x16xf32>
  fattn.tile_accumulate_transposed %ds, %k into %dq : memref<12x16xf32>, memref<12x8xbf16>, memref<16x8xf32>
  return
}
