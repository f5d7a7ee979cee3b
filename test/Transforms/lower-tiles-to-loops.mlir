// RUN: fattn-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(fattn-lower-tiles-to-loops,cse))' | FileCheck %s

// Scores: an f32 dot product of widened bf16 rows, scaled, soft-capped, then
// moved to base 2.
// CHECK-LABEL: func.func @scores
// CHECK-NOT: fattn.
// CHECK: scf.for %[[I:.+]] = %c0 to %c32 step %c1
// CHECK:   scf.for %[[J:.+]] = %c0 to %c16 step %c1
// CHECK:     %[[DOT:.+]] = scf.for %[[D:.+]] = %c0 to %c64 step %c1 iter_args(%[[A:.+]] = %{{.+}}) -> (f32)
// CHECK:       %[[QE:.+]] = memref.load %{{.+}}[%[[I]], %[[D]]] : memref<32x64xbf16>
// CHECK:       arith.extf %[[QE]] : bf16 to f32
// CHECK:       memref.load %{{.+}}[%[[J]], %[[D]]] : memref<16x64xbf16>
// CHECK:       arith.mulf
// CHECK:       arith.addf %[[A]]
// CHECK:     %[[SCALED:.+]] = arith.mulf %[[DOT]], %cst{{.*}} : f32
// CHECK:     %[[DIV:.+]] = arith.divf %[[SCALED]]
// CHECK:     %[[TANH:.+]] = math.tanh %[[DIV]]
// CHECK:     %[[CAPPED:.+]] = arith.mulf %[[TANH]]
// CHECK:     %[[BASE2:.+]] = arith.mulf %[[CAPPED]], %cst{{.*}} : f32
// CHECK:     memref.store %[[BASE2]], %{{.+}}[%[[I]], %[[J]]]
func.func @scores(%q: memref<32x64xbf16>, %k: memref<16x64xbf16>, %s: memref<32x16xf32>) {
  fattn.tile_scores %q, %k into %s {scale = 0.125 : f32, softcap = 30.0 : f32} : memref<32x64xbf16>, memref<16x64xbf16>, memref<32x16xf32>
  return
}

// -----

// Without softcap there is no tanh.
// CHECK-LABEL: func.func @scores_no_softcap
// CHECK-NOT: math.tanh
// CHECK: return
func.func @scores_no_softcap(%q: memref<?x64xf32>, %k: memref<?x64xf32>, %s: memref<?x?xf32>) {
  fattn.tile_scores %q, %k into %s {scale = 0.125 : f32} : memref<?x64xf32>, memref<?x64xf32>, memref<?x?xf32>
  return
}

// -----

// The mask ORs the listed slices' membership tests and writes -inf elsewhere.
// CHECK-LABEL: func.func @mask
// CHECK-SAME: (%[[S:.+]]: memref<8x8xf32>, %[[T:.+]]: memref<3x5xi32>, %[[IDS:.+]]: memref<3xi32>, %[[R0:.+]]: index, %[[C0:.+]]: index, %[[B:.+]]: index, %[[E:.+]]: index)
// CHECK: %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: scf.for %[[I:.+]] = %c0 to %c8
// CHECK:   %[[ROW:.+]] = arith.addi %[[R0]], %[[I]]
// CHECK:   scf.for %[[J:.+]] = %c0 to %c8
// CHECK:     %[[KEY:.+]] = arith.addi %[[C0]], %[[J]]
// CHECK:     %[[HIT:.+]] = scf.for %{{.+}} = %[[B]] to %[[E]] step %c1 iter_args(%[[FOUND:.+]] = %false) -> (i1)
// CHECK:       memref.load %[[IDS]]
// CHECK-COUNT-5: memref.load %[[T]]
// The row's keys by mask::rowKeys: [max(kBegin, row + kBegin - qBegin),
// min(kEnd, row + kEnd - qEnd + 1)), each bound taken where the kind has it.
// CHECK:       %[[LINE_LO:.+]] = arith.maxsi
// CHECK:       %[[LO:.+]] = arith.select %{{.+}}, %[[LINE_LO]]
// CHECK:       %[[LINE_HI:.+]] = arith.minsi
// CHECK:       %[[HI:.+]] = arith.select %{{.+}}, %[[LINE_HI]]
// CHECK:       arith.cmpi slt, %[[KEY]], %[[HI]]
// CHECK:       arith.cmpi sge, %[[KEY]], %[[LO]]
// CHECK:       %[[ANY:.+]] = arith.ori %[[FOUND]]
// CHECK:       scf.yield %[[ANY]]
// CHECK:     %[[OLD:.+]] = memref.load %[[S]][%[[I]], %[[J]]]
// CHECK:     %[[NEW:.+]] = arith.select %[[HIT]], %[[OLD]], %[[NEG_INF]]
// CHECK:     memref.store %[[NEW]], %[[S]][%[[I]], %[[J]]]
func.func @mask(%s: memref<8x8xf32>, %t: memref<3x5xi32>, %ids: memref<3xi32>, %r: index, %c: index, %b: index, %e: index) {
  fattn.tile_mask %s at [%r, %c] slices %t[%ids[%b : %e]] : memref<8x8xf32>, memref<3x5xi32>, memref<3xi32>
  return
}

// -----

// Online softmax in exp2 form: new max, rescale factor exp2(old - new) with a
// 0 pivot while the row has seen only -inf, probabilities in place, running
// sum, rescaled accumulator.
// CHECK-LABEL: func.func @online_softmax
// CHECK-SAME: (%[[S:.+]]: memref<4x8xf32>, %[[MAX:.+]]: memref<4xf32>, %[[SUM:.+]]: memref<4xf32>, %[[ACC:.+]]: memref<4x16xf32>)
// CHECK: scf.for %[[I:.+]] = %c0 to %c4
// CHECK:   %[[OLD_MAX:.+]] = memref.load %[[MAX]][%[[I]]]
// CHECK:   %[[ROW_MAX:.+]] = scf.for {{.+}} -> (f32)
// CHECK:     arith.maximumf
// CHECK:   %[[NEW_MAX:.+]] = arith.maximumf %[[OLD_MAX]], %[[ROW_MAX]]
// CHECK:   %[[EMPTY:.+]] = arith.cmpf oeq, %[[NEW_MAX]], %{{.+}}
// CHECK:   %[[PIVOT:.+]] = arith.select %[[EMPTY]], %{{.+}}, %[[NEW_MAX]]
// CHECK:   %[[DELTA:.+]] = arith.subf %[[OLD_MAX]], %[[PIVOT]]
// CHECK:   %[[ALPHA:.+]] = math.exp2 %[[DELTA]]
// CHECK:   %[[ROW_SUM:.+]] = scf.for {{.+}} -> (f32)
// CHECK:     %[[P:.+]] = math.exp2
// CHECK:     memref.store %[[P]], %[[S]]
// CHECK:   %[[OLD_SUM:.+]] = memref.load %[[SUM]][%[[I]]]
// CHECK:   %[[SCALED_SUM:.+]] = arith.mulf %[[OLD_SUM]], %[[ALPHA]]
// CHECK:   %[[NEW_SUM:.+]] = arith.addf %[[SCALED_SUM]], %[[ROW_SUM]]
// CHECK:   memref.store %[[NEW_SUM]], %[[SUM]][%[[I]]]
// CHECK:   memref.store %[[NEW_MAX]], %[[MAX]][%[[I]]]
// CHECK:   scf.for %[[D:.+]] = %c0 to %c16
// CHECK:     %[[A:.+]] = memref.load %[[ACC]][%[[I]], %[[D]]]
// CHECK:     %[[RESCALED:.+]] = arith.mulf %[[A]], %[[ALPHA]]
// CHECK:     memref.store %[[RESCALED]], %[[ACC]][%[[I]], %[[D]]]
func.func @online_softmax(%s: memref<4x8xf32>, %m: memref<4xf32>, %l: memref<4xf32>, %acc: memref<4x16xf32>) {
  fattn.tile_online_softmax %s max %m sum %l acc %acc : memref<4x8xf32>, memref<4xf32>, memref<4xf32>, memref<4x16xf32>
  return
}

// -----

// CHECK-LABEL: func.func @accumulate
// CHECK: scf.for %[[I:.+]] = %c0 to %c4
// CHECK:   scf.for %[[D:.+]] = %c0 to %c16
// CHECK:     %[[INIT:.+]] = memref.load %{{.+}}[%[[I]], %[[D]]] : memref<4x16xf32>
// CHECK:     %[[TOTAL:.+]] = scf.for %[[J:.+]] = %c0 to %c8 step %c1 iter_args(%{{.+}} = %[[INIT]]) -> (f32)
// CHECK:       memref.load %{{.+}}[%[[I]], %[[J]]] : memref<4x8xf32>
// CHECK:       %[[VE:.+]] = memref.load %{{.+}}[%[[J]], %[[D]]] : memref<8x16xf16>
// CHECK:       arith.extf %[[VE]] : f16 to f32
// CHECK:     memref.store %[[TOTAL]], %{{.+}}[%[[I]], %[[D]]] : memref<4x16xf32>
func.func @accumulate(%p: memref<4x8xf32>, %v: memref<8x16xf16>, %acc: memref<4x16xf32>) {
  fattn.tile_accumulate %p, %v into %acc : memref<4x8xf32>, memref<8x16xf16>, memref<4x16xf32>
  return
}

// -----

// Finalize: 1/sum (0 for rows that attended nothing), lse = ln2 * (max +
// log2(sum)) or -inf, output narrowed to the output type.
// CHECK-LABEL: func.func @finalize
// CHECK: scf.for %[[I:.+]] = %c0 to %c4
// CHECK:   %[[SUM:.+]] = memref.load %{{.+}}[%[[I]]]
// CHECK:   %[[MAX:.+]] = memref.load %{{.+}}[%[[I]]]
// CHECK:   %[[EMPTY:.+]] = arith.cmpf oeq, %[[SUM]], %{{.+}}
// CHECK:   %[[RECIP:.+]] = arith.divf %{{.+}}, %[[SUM]]
// CHECK:   %[[INV:.+]] = arith.select %[[EMPTY]], %{{.+}}, %[[RECIP]]
// CHECK:   scf.for
// CHECK:     %[[O:.+]] = arith.mulf %{{.+}}, %[[INV]]
// CHECK:     %[[NARROW:.+]] = arith.truncf %[[O]] : f32 to bf16
// CHECK:     memref.store %[[NARROW]]
// CHECK:   %[[LOG:.+]] = math.log2 %[[SUM]]
// CHECK:   %[[ADD:.+]] = arith.addf %[[MAX]], %[[LOG]]
// CHECK:   %[[LSE:.+]] = arith.mulf %[[ADD]]
// CHECK:   %[[LSE_OR_INF:.+]] = arith.select %[[EMPTY]], %{{.+}}, %[[LSE]]
// CHECK:   memref.store %[[LSE_OR_INF]]
func.func @finalize(%acc: memref<4x16xf32>, %m: memref<4xf32>, %l: memref<4xf32>, %o: memref<4x16xbf16>, %lse: memref<4xf32>) {
  fattn.tile_finalize %acc max %m sum %l into %o, %lse : memref<4x16xf32>, memref<4xf32>, memref<4xf32>, memref<4x16xbf16>, memref<4xf32>
  return
}
