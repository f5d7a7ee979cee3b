// RUN: fattn-opt %s -split-input-file -verify-diagnostics

func.func @lse_per_query(%s: memref<12x16xf32>, %lse: memref<12xf32>, %p: memref<12x16xf32>) {
  // expected-error @+1 {{'fattn.tile_probabilities' op lse dim 0 (12) differs from scores dim 1 (16)}}
  fattn.tile_probabilities %s lse %lse into %p : memref<12x16xf32>, memref<12xf32>, memref<12x16xf32>
  return
}

// -----

func.func @diagonal_rank(%a: memref<16x8xf32>, %out: memref<16x16xf32>) {
  // expected-error @+1 {{'fattn.tile_dots' op with diagonal writes a 1-D out}}
  fattn.tile_dots %a, %a into %out {diagonal} : memref<16x8xf32>, memref<16x8xf32>, memref<16x16xf32>
  return
}

// -----

func.func @dots_columns(%a: memref<12x8xf32>, %b: memref<16x8xf32>, %out: memref<12x12xf32>) {
  // expected-error @+1 {{'fattn.tile_dots' op out dim 1 (12) differs from b dim 0 (16)}}
  fattn.tile_dots %a, %b into %out : memref<12x8xf32>, memref<16x8xf32>, memref<12x12xf32>
  return
}

// -----

func.func @grads_delta(%s: memref<12x16xf32>, %delta: memref<12xf32>) {
  // expected-error @+1 {{'fattn.tile_score_grads' op delta dim 0 (12) differs from scores dim 1 (16)}}
  fattn.tile_score_grads %s, %s, %s delta %delta into %s {scale = 1.0 : f32} : memref<12x16xf32>, memref<12x16xf32>, memref<12x16xf32>, memref<12xf32>, memref<12x16xf32>
  return
}

// -----

func.func @dq_rows(%w: memref<12x16xf32>, %k: memref<12x8xf32>, %dq: memref<12x8xf32>) {
  // expected-error @+1 {{'fattn.tile_accumulate_transposed' op acc dim 0 (12) differs from weights dim 1 (16)}}
  fattn.tile_accumulate_transposed %w, %k into %dq : memref<12x16xf32>, memref<12x8xf32>, memref<12x8xf32>
  return
}
