

func.func @tile_scores_head_dims(%q: memref<8x64xf16>, %k: memref<8x128xf16>, %s: memref<8x8xf32>) {
  // expected-error @+1 {{'fattn.tile_scores' op query dim 1 (64) differs from key dim 1 (128)}}
  fattn.tile_scores %q, %k into %s {scale = 1.0 : f32} : memref<8x64xf16>, memref<8x128xf16>, memref<8x8xf32>
  return
}
