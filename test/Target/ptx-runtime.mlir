// A mask given as ranges operands with dynamic token counts, compiled by
// fattn-run for the GPU: the PTX takes the plan's tables and the counts and
// the call's heads and scale, and the manifest tells the runtime how to plan
// each call (schedule record), which scalar gives each dynamic extent, and
// that grid y is the plan's and grid x the call's query heads. The
// program's heads (8:2) and scale are only the values its own launch
// passes.
// RUN: rm -rf %t && fattn-run %s --target=gpu --max-items-per-tile=4 --emit-dir %t | FileCheck %s --check-prefix=TOOL
// RUN: FileCheck %s --input-file=%t/ptx-runtime.ptx --check-prefix=PTX
// RUN: FileCheck %s --input-file=%t/ptx-runtime.manifest --check-prefix=MANIFEST
// RUN: not fattn-run %s --target=gpu --max-items-per-tile=0 2>&1 | FileCheck %s --check-prefix=FLAG
// RUN: rm -rf %t.cap && mkdir %t.cap && sed 's/-> tensor<?x8x128xbf16>, tensor<?x8xf32>$/{softcap = 30.0 : f32} &/' %s > %t.cap/capped.mlir
// RUN: fattn-run %t.cap/capped.mlir --target=gpu --emit-dir %t.cap > /dev/null
// RUN: FileCheck %s --input-file=%t.cap/capped.manifest --check-prefix=CAP
// RUN: FileCheck %s --input-file=%t.cap/capped.ptx --check-prefix=CAP-PTX
//
// TOOL: Sq=? Sk=? Hq=8 Hk=2 D=128 bf16
// TOOL-NEXT: mask: given at run time (ranges operands)
// TOOL: gpu: fattn_attention_0 for sm_90a, grid ?x?
// TOOL: wrote
//
// Nine pointers, five i32 scalars (three counts of the plan, two head
// counts) and the f32 scale.
// PTX: .visible .entry fattn_attention_0(
// PTX-COUNT-9: .param .u64
// PTX-COUNT-5: .param .u32
// PTX-NEXT: .param .f32
// PTX-NEXT: )
// The launch guard leaves CTAs past the call's heads.
// PTX: setp.ge.u32 past, cta, %r
// A slot without rows (a spare one of a plan made on the GPU, or an item
// class the planner did not choose) leaves before Q is loaded.
// PTX: setp.le.s32 empty, %r{{[0-9]+}}, %r{{[0-9]+}};
// PTX-NEXT: @empty exit;
// The schedule's records are read through the read-only path, as a static
// kernel's constant tables are (FlashKernel::tablesInvariant).
// PTX: ld.global.nc.v4.b32
//
// MANIFEST: fattn-manifest 4
// MANIFEST-NEXT: kernel fattn_attention_0
// MANIFEST-NEXT: ptx ptx-runtime.ptx
// MANIFEST-NEXT: grid ? ? 1
// MANIFEST-NEXT: block 128 1 1
// MANIFEST-NEXT: shared 83968
// MANIFEST-NEXT: param q input bf16 num_q heads_q 128
// MANIFEST-NEXT: param k input bf16 num_k heads_k 128
// MANIFEST-NEXT: param v input bf16 num_k heads_k 128
// MANIFEST-NEXT: param out output bf16 num_q heads_q 128
// MANIFEST-NEXT: param lse output f32 num_q heads_q
// MANIFEST-NEXT: param slots schedule i32 ? 8
// MANIFEST-NEXT: param items schedule i32 ? 4
// MANIFEST-NEXT: param item_slices schedule i32 ?
// MANIFEST-NEXT: param slices schedule i32 ? 5
// MANIFEST-NEXT: param num_q scalar i32
// MANIFEST-NEXT: param num_k scalar i32
// MANIFEST-NEXT: param num_slots scalar i32
// MANIFEST-NEXT: param heads_q scalar i32
// MANIFEST-NEXT: param heads_k scalar i32
// MANIFEST-NEXT: param scale scalar f32
// MANIFEST-NEXT: dtype bf16
// MANIFEST-NEXT: shape ? ? ? ? 128
// MANIFEST-NEXT: scale ?
// MANIFEST-NEXT: softcap 0
// MANIFEST-NEXT: schedule 128 64 whole aligned 4
// MANIFEST-NOT: slice
//
// A soft-capped program's kernel takes the cap too (one kernel per softcap
// on or off, not per value).
// CAP: param scale scalar f32
// CAP-NEXT: param softcap scalar f32
// CAP: scale ?
// CAP-NEXT: softcap ?
// CAP-PTX-COUNT-2: .param .f32
//
// FLAG: --max-items-per-tile must be in [1, 1048576]
//
// REQUIRES: ptxas

func.func @attention(%q: tensor<?x8x128xbf16>, %k: tensor<?x2x128xbf16>, %v: tensor<?x2x128xbf16>,
                     %qr: tensor<?x2xi32>, %kr: tensor<?x2xi32>, %kinds: tensor<?xi32>) -> (tensor<?x8x128xbf16>, tensor<?x8xf32>) {
  %c0 = arith.constant 0 : index
  %nq = tensor.dim %q, %c0 : tensor<?x8x128xbf16>
  %out = tensor.empty(%nq) : tensor<?x8x128xbf16>
  %lse = tensor.empty(%nq) : tensor<?x8xf32>
  %o, %l = fattn.attention ins(%q, %k, %v : tensor<?x8x128xbf16>, tensor<?x2x128xbf16>, tensor<?x2x128xbf16>)
                  outs(%out, %lse : tensor<?x8x128xbf16>, tensor<?x8xf32>)
                  ranges(%qr, %kr, %kinds : tensor<?x2xi32>, tensor<?x2xi32>, tensor<?xi32>) -> tensor<?x8x128xbf16>, tensor<?x8xf32>
  return %o, %l : tensor<?x8x128xbf16>, tensor<?x8xf32>
}
