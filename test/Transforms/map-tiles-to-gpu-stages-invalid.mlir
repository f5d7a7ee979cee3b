// Out-of-range K/V stage counts, and stages that need more shared memory
// than a CTA has, are rejected with the reason.
//
// RUN: not fattn-opt %s --fattn-tile-attention='block-q=128 block-k=64' --fattn-map-tiles-to-gpu='stages=1' 2>&1 | FileCheck %s --check-prefix=ONE
// ONE: error: fattn-map-tiles-to-gpu: stages must be between 2 and 8, got 1
// RUN: not fattn-opt %s --fattn-tile-attention='block-q=128 block-k=64' --fattn-map-tiles-to-gpu='stages=9' 2>&1 | FileCheck %s --check-prefix=NINE
// NINE: error: fattn-map-tiles-to-gpu: stages must be between 2 and 8, got 9
// RUN: not fattn-opt %s --fattn-tile-attention='block-q=128 block-k=64' --fattn-map-tiles-to-gpu='stages=7' 2>&1 | FileCheck %s --check-prefix=SHARED
// SHARED: error: cannot map to the GPU: tiles need 247808 bytes of shared memory, more than the 232448 a CTA has on sm_90a
// Each chip's own limit: what fits Hopper's 227 KiB does not fit an A100's 163.
// RUN: not fattn-opt %s --fattn-tile-attention='block-q=128 block-k=64' --fattn-map-tiles-to-gpu='chip=sm_80 stages=6' 2>&1 | FileCheck %s --check-prefix=SM80
// SM80: error: cannot map to the GPU: tiles need {{[0-9]+}} bytes of shared memory, more than the 166912 a CTA has on sm_80
// Two warps copy 4 rows of 16 chunks a pass at head dim 128: their copies
// would not share one swizzle (period 8 rows), so they are refused.
// RUN: not fattn-opt %s --fattn-tile-attention='block-q=128 block-k=64' --fattn-map-tiles-to-gpu='warps=2' 2>&1 | FileCheck %s --check-prefix=WARPS2
// WARPS2: error: cannot map to the GPU: warps 2 x 32 threads copy 4 rows of head dim 128 at a time; the swizzled copies need a multiple of 8 (use 4 warps or a multiple)
// RUN: fattn-opt %s --fattn-tile-attention='block-q=128 block-k=64' --fattn-map-tiles-to-gpu='stages=6' | FileCheck %s --check-prefix=SIX
// SIX: gpu.launch_func
// SIX-SAME: dynamic_shared_memory_size %{{.*}}
// SIX: cp.async.wait_group 8;
// SIX: cp.async.wait_group 9;
func.func @causal(%q: memref<128x2x128xbf16>, %k: memref<128x2x128xbf16>, %v: memref<128x2x128xbf16>, %o: memref<128x2x128xbf16>, %l: memref<128x2xf32>) {
  fattn.attention ins(%q, %k, %v : memref<128x2x128xbf16>, memref<128x2x128xbf16>, memref<128x2x128xbf16>) outs(%o, %l : memref<128x2x128xbf16>, memref<128x2xf32>) mask <causal [0:128, 0:128]>
  return
}
