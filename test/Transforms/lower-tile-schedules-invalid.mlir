// The loops' lowering leaves no run-time plan behind: without
// fattn-lower-tile-schedules first it refuses the plan by name.
// RUN: fattn-opt %s --fattn-tile-attention='block-q=64 block-k=64' --fattn-lower-tiles-to-loops -verify-diagnostics

func.func @rt(%q: memref<?x2x64xf32>, %k: memref<?x2x64xf32>, %v: memref<?x2x64xf32>,
              %out: memref<?x2x64xf32>, %lse: memref<?x2xf32>,
              %qr: memref<?x2xi32>, %kr: memref<?x2xi32>, %kinds: memref<?xi32>) {
  // expected-error @+1 {{'fattn.tile_schedule' op is planned on the CPU by fattn-lower-tile-schedules, which must run first (fattn-to-llvm does)}}
  fattn.attention ins(%q, %k, %v : memref<?x2x64xf32>, memref<?x2x64xf32>, memref<?x2x64xf32>)
                  outs(%out, %lse : memref<?x2x64xf32>, memref<?x2xf32>)
                  ranges(%qr, %kr, %kinds : memref<?x2xi32>, memref<?x2xi32>, memref<?xi32>)
  return
}
