func.func @runtime(%q: tensor<?x4x64xbf16>, %k: tensor<?x2x64xbf16>, %v: tensor<?x2x64xbf16>, %o: tensor<?x4x64xbf16>, %l: tensor<?x4xf32>, %qr: tensor<?x2xi32>, %kr: tensor<?x2xi32>, %kinds: tensor<?xi32>) -> (tensor<?x4x64xbf16>, tensor<?x4xf32>) {
  %r:2 = fattn.attention ins(%q, %k, %v : tensor<?x4x64xbf16>, tensor<?x2x64xbf16>, tensor<?x2x64xbf16>) outs(%o, %l : tensor<?x4x64xbf16>, tensor<?x4xf32>) ranges(%qr, %kr, %kinds : tensor<?x2xi32>, tensor<?x2xi32>, tensor<?xi32>) -> tensor<?x4x64xbf16>, tensor<?x4xf32>
  return %r#0, %r#1 : tensor<?x4x64xbf16>, tensor<?x4xf32>
}
