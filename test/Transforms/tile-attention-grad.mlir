// fattn.attention_grad tiled over the key-major schedule: delta first, then
// per key/value head (forall) the key tiles in order (so the dQ sums are
// fixed), each visiting the query tiles its keys are attended from: full
// ones unmasked, partial ones masked by the transposed slice. The GPU
// mapping refuses it until the backward kernel exists.
// RUN: fattn-opt %s --fattn-tile-attention='block-q=16 block-k=8' | FileCheck %s
// RUN: not fattn-opt %s --fattn-tile-attention='block-q=16 block-k=8' --fattn-map-tiles-to-gpu 2>&1 | FileCheck %s --check-prefix=GPU

// The causal mask transposed: one inv_causal slice over the 32 keys.
// CHECK-DAG: memref.global "private" constant @__fattn_grad_tiles_grad_0_key_major_slices : memref<1x5xi32> = dense<{{\[\[}}0, 32, 0, 32, 2]]>
// CHECK-LABEL: func.func @grad(
// CHECK: %[[DELTA:.*]] = memref.alloc() : memref<32x4xf32>
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (4, 2)
// CHECK: fattn.tile_dots %{{.*}}, %{{.*}} into %{{.*}} {diagonal}
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<32x4x8xf32>)
// CHECK: scf.forall (%[[KV:.*]]) in (2)
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}}
// CHECK: memref.alloca_scope
// Per query tile and query head of the group: scores of K against Q.
// CHECK: fattn.tile_scores
// CHECK: fattn.tile_probabilities
// CHECK: fattn.tile_accumulate
// CHECK: fattn.tile_dots
// CHECK: fattn.tile_score_grads
// CHECK: fattn.tile_accumulate
// CHECK: fattn.tile_accumulate_transposed
// The partial visits are masked by the transposed slice, rows at the keys.
// CHECK: fattn.tile_mask
// CHECK: linalg.copy
// CHECK: linalg.copy
// CHECK: memref.dealloc %[[DELTA]]
// CHECK-NOT: fattn.attention_grad

// GPU: error: fattn.attention_grad has no GPU kernel yet

func.func @grad(%do: memref<32x4x8xf32>, %q: memref<32x4x8xf32>, %k: memref<32x2x8xf32>, %v: memref<32x2x8xf32>, %o: memref<32x4x8xf32>, %lse: memref<32x4xf32>, %dq: memref<32x4x8xf32>, %dk: memref<32x2x8xf32>, %dv: memref<32x2x8xf32>) {
  fattn.attention_grad ins(%do, %q, %k, %v, %o, %lse : memref<32x4x8xf32>, memref<32x4x8xf32>, memref<32x2x8xf32>, memref<32x2x8xf32>, memref<32x4x8xf32>, memref<32x4xf32>) outs(%dq, %dk, %dv : memref<32x4x8xf32>, memref<32x2x8xf32>, memref<32x2x8xf32>) mask <causal [0:32, 0:32]>
  return
}
