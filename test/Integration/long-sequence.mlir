// 1563 query tiles on the CPU: the tile loop keeps one tile's buffers on the
// stack (fattn-hoist-tile-buffers), where before every iteration added 17 KB
// until the 8 MB stack overflowed at about 500 tiles.
//
// RUN: fattn-run %s | FileCheck %s
// CHECK: tiles 64x64: 1563 full, 0 partial, 0 skipped
// CHECK: PASS

func.func @f(%q: tensor<100000x1x1xf32>, %k: tensor<1x1x1xf32>, %v: tensor<1x1x1xf32>) -> (tensor<100000x1x1xf32>, tensor<100000x1xf32>) {
  %o = tensor.empty() : tensor<100000x1x1xf32>
  %l = tensor.empty() : tensor<100000x1xf32>
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<100000x1x1xf32>, tensor<1x1x1xf32>, tensor<1x1x1xf32>) outs(%o, %l : tensor<100000x1x1xf32>, tensor<100000x1xf32>) mask <full [0:100000, 0:1]> -> tensor<100000x1x1xf32>, tensor<100000x1xf32>
  return %r#0, %r#1 : tensor<100000x1x1xf32>, tensor<100000x1xf32>
}
