// Every tool flag and pass option out of range is refused with the reason
// and a failing exit status; nothing reaches LLVM's backend or the JIT.
//
// RUN: split-file %s %t
//
// Chips: the list is named, newer chips get their own PTX version, and a PTX
// version too old for the chip is refused before NVPTX could abort.
// RUN: not fattn-opt %t/bf16.mlir --fattn-to-ptx='chip=' 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: error: fattn-map-tiles-to-gpu: unsupported chip ''; the kernels need sm_80 or newer, one of: sm_80, sm_86, sm_87, sm_89, sm_90, sm_90a, sm_100, sm_100a, sm_103, sm_103a, sm_120, sm_120a, sm_121, sm_121a
// RUN: not fattn-opt %t/bf16.mlir --fattn-to-ptx='chip=sm_70' 2>&1 | FileCheck %s --check-prefix=OLD
// OLD: error: fattn-map-tiles-to-gpu: unsupported chip 'sm_70'; the kernels need sm_80 or newer
// RUN: not fattn-opt %t/bf16.mlir --fattn-to-ptx='chip=garbage' 2>&1 | FileCheck %s --check-prefix=GARBAGE
// GARBAGE: error: fattn-map-tiles-to-gpu: unsupported chip 'garbage'
// RUN: not fattn-opt %t/bf16.mlir --fattn-to-ptx='features=+ptx60' 2>&1 | FileCheck %s --check-prefix=PTX60
// PTX60: error: fattn-map-tiles-to-gpu: features '+ptx60' must be empty (the chip's PTX version) or +ptxNN for a PTX version from 7.0 (+ptx70) to 9.0 (+ptx90)
// RUN: not fattn-opt %t/bf16.mlir --fattn-to-ptx='chip=sm_100 features=+ptx80' 2>&1 | FileCheck %s --check-prefix=TOOOLD
// TOOOLD: error: fattn-map-tiles-to-gpu: PTX 8.0 (features '+ptx80') cannot target sm_100, which needs PTX 8.6 or newer
// A chip string cannot smuggle in further options.
// RUN: not fattn-opt %t/bf16.mlir --fattn-to-ptx='chip="sm_90a warps=3"' 2>&1 | FileCheck %s --check-prefix=SMUGGLE
// SMUGGLE: error: fattn-map-tiles-to-gpu: unsupported chip 'sm_90a warps=3'
// RUN: fattn-opt %t/bf16.mlir --fattn-to-ptx='chip=sm_100' | FileCheck %s --check-prefix=SM100
// SM100: chip = "sm_100", features = "+ptx86"
// SM100-SAME: .version 8.6
// RUN: fattn-opt %t/bf16.mlir --fattn-to-ptx='chip=sm_120' | FileCheck %s --check-prefix=SM120
// SM120: chip = "sm_120", features = "+ptx87"
//
// Tiles: the stack a CPU tile may use, and tables past the int32 limit.
// RUN: not fattn-run %t/f32.mlir --block-q=20000 2>&1 | FileCheck %s --check-prefix=STACK
// STACK: error: 'fattn.attention' op one tile's buffers take 10400000 bytes at block-q=20000 block-k=64 and head dim 64, more than the 1048576 a tile may keep on a thread's stack
// RUN: not fattn-run %t/f32.mlir --block-q=70000 2>&1 | FileCheck %s --check-prefix=BLOCK
// BLOCK: fattn-run: --block-q and --block-k must be in [1, 65536], got 70000 and 64
// RUN: not fattn-opt %t/long.mlir --fattn-to-ptx 2>&1 | FileCheck %s --check-prefix=GRID
// GRID: error: cannot map to the GPU: query tiles form the grid's y dimension, which CUDA limits to 65535; got 65536
//
// Tolerances and problem sizes of the CPU check.
// RUN: not fattn-run %t/f32.mlir --rtol=nan 2>&1 | FileCheck %s --check-prefix=RTOL
// RUN: not fattn-run %t/f32.mlir --rtol=-1 2>&1 | FileCheck %s --check-prefix=RTOL
// RTOL: fattn-run: --rtol must be positive and finite
// RUN: not fattn-run %t/big.mlir 2>&1 | FileCheck %s --check-prefix=BIG
// BIG: fattn-run: the CPU check's fp64 reference would take 137438953472 multiply-adds, more than the 2^34 it allows (compile it with --target=gpu)
//
// fattn-synth takes no softcap, window or size it cannot honour, and
// refuses masks it would run out of memory building.
// RUN: not fattn-synth --mask=causal --softcap=-1 2>&1 | FileCheck %s --check-prefix=SOFTCAP
// SOFTCAP: fattn-synth: --softcap -1 must be 0 (the default) or in (0, 2^64]
// RUN: not fattn-synth --mask=sliding-window --window=0 2>&1 | FileCheck %s --check-prefix=WINDOW
// WINDOW: fattn-synth: --window must be at least 1 (the query itself), got 0
// RUN: not fattn-synth --mask=shared-question --seq=300 --keys=100 2>&1 | FileCheck %s --check-prefix=KEYS
// KEYS: fattn-synth: shared-question masks need --keys equal to --seq
// RUN: not fattn-synth --mask=block-causal --seq=2147483647 --block=1 --heads-q=1 --head-dim=8 2>&1 | FileCheck %s --check-prefix=SLICES
// SLICES: fattn-synth: the mask would have about 2147483647 slices, more than the 1048576 fattn-synth writes
// RUN: not fattn-synth --mask=causal --seq=4611686018427387904 2>&1 | FileCheck %s --check-prefix=SEQ
// SEQ: fattn-synth: query length 4611686018427387904 exceeds 2147483647 (2^31 - 1)
// RUN: not fattn-synth --mask=causal -o /dev/full 2>&1 | FileCheck %s --check-prefix=FULL
// FULL: fattn-synth: cannot write /dev/full: No space left on device
//
// Options are checked even when there is nothing to map.
// RUN: not fattn-opt %t/empty.mlir --fattn-map-tiles-to-gpu='warps=0' 2>&1 | FileCheck %s --check-prefix=WARPS
// WARPS: error: fattn-map-tiles-to-gpu: warps must be in [1, 32], got 0
//
// Names: a function called @"a b.c" gives a PTX identifier, and a file name
// with a space a manifest the runtime reads.
// RUN: rm -rf %t/k && cp %t/named.mlir "%t/file name.mlir" && fattn-run "%t/file name.mlir" --target=gpu --emit-dir %t/k | FileCheck %s --check-prefix=NAMES
// NAMES: gpu: fattn_a_b_c_0 for sm_90a
// NAMES: wrote {{.*}}/file_name.{ptx,manifest}
// RUN: FileCheck %s --input-file=%t/k/file_name.manifest --check-prefix=MANIFEST
// MANIFEST: kernel fattn_a_b_c_0
// MANIFEST: ptx file_name.ptx

//--- bf16.mlir
func.func @f(%q: tensor<128x2x64xbf16>, %k: tensor<128x2x64xbf16>, %v: tensor<128x2x64xbf16>) -> (tensor<128x2x64xbf16>, tensor<128x2xf32>) {
  %o = tensor.empty() : tensor<128x2x64xbf16>
  %l = tensor.empty() : tensor<128x2xf32>
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<128x2x64xbf16>, tensor<128x2x64xbf16>, tensor<128x2x64xbf16>) outs(%o, %l : tensor<128x2x64xbf16>, tensor<128x2xf32>) mask <causal [0:128, 0:128]> -> tensor<128x2x64xbf16>, tensor<128x2xf32>
  return %r#0, %r#1 : tensor<128x2x64xbf16>, tensor<128x2xf32>
}

//--- empty.mlir
func.func @nothing() {
  return
}

//--- named.mlir
func.func @"a b.c"(%q: tensor<128x2x64xbf16>, %k: tensor<128x2x64xbf16>, %v: tensor<128x2x64xbf16>) -> (tensor<128x2x64xbf16>, tensor<128x2xf32>) {
  %o = tensor.empty() : tensor<128x2x64xbf16>
  %l = tensor.empty() : tensor<128x2xf32>
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<128x2x64xbf16>, tensor<128x2x64xbf16>, tensor<128x2x64xbf16>) outs(%o, %l : tensor<128x2x64xbf16>, tensor<128x2xf32>) mask <causal [0:128, 0:128]> -> tensor<128x2x64xbf16>, tensor<128x2xf32>
  return %r#0, %r#1 : tensor<128x2x64xbf16>, tensor<128x2xf32>
}

//--- long.mlir
// 65536 query tiles of 128 rows: one more than a grid has in y.
func.func @f(%q: tensor<8388608x1x64xbf16>, %k: tensor<128x1x64xbf16>, %v: tensor<128x1x64xbf16>) -> (tensor<8388608x1x64xbf16>, tensor<8388608x1xf32>) {
  %o = tensor.empty() : tensor<8388608x1x64xbf16>
  %l = tensor.empty() : tensor<8388608x1xf32>
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<8388608x1x64xbf16>, tensor<128x1x64xbf16>, tensor<128x1x64xbf16>) outs(%o, %l : tensor<8388608x1x64xbf16>, tensor<8388608x1xf32>) mask <full [0:8388608, 0:128]> -> tensor<8388608x1x64xbf16>, tensor<8388608x1xf32>
  return %r#0, %r#1 : tensor<8388608x1x64xbf16>, tensor<8388608x1xf32>
}

//--- f32.mlir
func.func @f(%q: tensor<64x1x64xf32>, %k: tensor<64x1x64xf32>, %v: tensor<64x1x64xf32>) -> (tensor<64x1x64xf32>, tensor<64x1xf32>) {
  %o = tensor.empty() : tensor<64x1x64xf32>
  %l = tensor.empty() : tensor<64x1xf32>
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<64x1x64xf32>, tensor<64x1x64xf32>, tensor<64x1x64xf32>) outs(%o, %l : tensor<64x1x64xf32>, tensor<64x1xf32>) mask <causal [0:64, 0:64]> -> tensor<64x1x64xf32>, tensor<64x1xf32>
  return %r#0, %r#1 : tensor<64x1x64xf32>, tensor<64x1xf32>
}

//--- big.mlir
func.func @f(%q: tensor<65536x1x32xf32>, %k: tensor<65536x1x32xf32>, %v: tensor<65536x1x32xf32>) -> (tensor<65536x1x32xf32>, tensor<65536x1xf32>) {
  %o = tensor.empty() : tensor<65536x1x32xf32>
  %l = tensor.empty() : tensor<65536x1xf32>
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<65536x1x32xf32>, tensor<65536x1x32xf32>, tensor<65536x1x32xf32>) outs(%o, %l : tensor<65536x1x32xf32>, tensor<65536x1xf32>) mask <full [0:65536, 0:65536]> -> tensor<65536x1x32xf32>, tensor<65536x1xf32>
  return %r#0, %r#1 : tensor<65536x1x32xf32>, tensor<65536x1xf32>
}
