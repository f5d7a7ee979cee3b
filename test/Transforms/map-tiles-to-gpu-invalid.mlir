// RUN: fattn-opt %s -split-input-file --fattn-tile-attention='block-q=128 block-k=64' --fattn-map-tiles-to-gpu -verify-diagnostics

func.func @f32_operands(%q: memref<128x2x64xf32>, %k: memref<128x2x64xf32>, %v: memref<128x2x64xf32>, %o: memref<128x2x64xf32>, %l: memref<128x2xf32>) {
  // expected-error @+1 {{cannot map to the GPU: GPU kernels take bf16 or f16 operands}}
  fattn.attention ins(%q, %k, %v : memref<128x2x64xf32>, memref<128x2x64xf32>, memref<128x2x64xf32>) outs(%o, %l : memref<128x2x64xf32>, memref<128x2xf32>) mask <causal [0:128, 0:128]>
  return
}

// -----

func.func @head_dim_96(%q: memref<128x2x96xbf16>, %k: memref<128x2x96xbf16>, %v: memref<128x2x96xbf16>, %o: memref<128x2x96xbf16>, %l: memref<128x2xf32>) {
  // expected-error @+1 {{cannot map to the GPU: GPU kernels support head dims 64 and 128, got 96}}
  fattn.attention ins(%q, %k, %v : memref<128x2x96xbf16>, memref<128x2x96xbf16>, memref<128x2x96xbf16>) outs(%o, %l : memref<128x2x96xbf16>, memref<128x2xf32>) mask <causal [0:128, 0:128]>
  return
}

// -----

func.func @clipped_key_tiles(%q: memref<128x2x64xbf16>, %k: memref<100x2x64xbf16>, %v: memref<100x2x64xbf16>, %o: memref<128x2x64xbf16>, %l: memref<128x2xf32>) {
  // expected-error @+1 {{GPU kernels compute whole key tiles, but key length 100 is not a multiple of block-k 64 and the tiles were classified clipped: tile with whole-key-tiles=1}}
  fattn.attention ins(%q, %k, %v : memref<128x2x64xbf16>, memref<100x2x64xbf16>, memref<100x2x64xbf16>) outs(%o, %l : memref<128x2x64xbf16>, memref<128x2xf32>) mask <full [0:128, 0:100]>
  return
}
