// The PTX of a bf16 kernel has the tensor-core, ldmatrix and cp.async
// instructions, and ptxas for sm_90a compiles it without local-memory spills
// at D = 128: the default 4 warps of 32 rows (255 registers), 8 warps of 16
// rows, three or four K/V stages, and for sm_80 as for sm_90a.
//
// RUN: rm -rf %t && fattn-run %s --target=gpu --emit-dir %t | FileCheck %s --check-prefix=TOOL
// RUN: FileCheck %s --input-file=%t/ptx-bf16.ptx --check-prefix=PTX
// RUN: FileCheck %s --input-file=%t/ptx-bf16.manifest --check-prefix=MANIFEST
//
// TOOL: gpu: fattn_attention_0 for sm_90a, grid 8x4, 128 threads, 83968 B shared
//
// PTX: .target sm_90a
// PTX: .visible .entry fattn_attention_0(
// A launch wider than 8 heads x 4 query tiles leaves, and less shared memory
// than the tiles take traps, before anything is read.
// PTX: mov.u32 cta, %ctaid.x;
// PTX-NEXT: setp.ge.u32 past, cta, 8;
// PTX-NEXT: @past exit;
// PTX-NEXT: mov.u32 cta, %ctaid.y;
// PTX-NEXT: setp.ge.u32 past, cta, 4;
// PTX-NEXT: @past exit;
// PTX-NEXT: mov.u32 bytes, %dynamic_smem_size;
// PTX-NEXT: setp.lt.u32 past, bytes, 83968;
// PTX-NEXT: @past trap;
// PTX-DAG: cp.async.cg.shared.global
// PTX-DAG: cp.async.wait_group 0
// PTX-DAG: cp.async.wait_group 1
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-DAG: ex2.approx.ftz.f32
// PTX-DAG: cvt.rn.bf16x2.f32
//
// The parameters, in argument order, as the tile ops' operands name them.
// MANIFEST: fattn-manifest 4
// MANIFEST-NEXT: kernel fattn_attention_0
// MANIFEST-NEXT: ptx ptx-bf16.ptx
// MANIFEST-NEXT: grid 8 4 1
// MANIFEST-NEXT: block 128 1 1
// MANIFEST-NEXT: shared 83968
// MANIFEST-NEXT: param q input bf16 500 8 128
// MANIFEST-NEXT: param k input bf16 500 2 128
// MANIFEST-NEXT: param v input bf16 500 2 128
// MANIFEST-NEXT: param out output bf16 500 8 128
// MANIFEST-NEXT: param lse output f32 500 8
// MANIFEST-NEXT: dtype bf16
// MANIFEST-NEXT: shape 500 500 8 2 128
// MANIFEST: slice 0 500 0 500 1
//
// REQUIRES: ptxas
// RUN: %ptxas -arch=sm_90a -v %t/ptx-bf16.ptx -o %t/k.cubin 2>&1 | FileCheck %s --check-prefix=DEFAULT
// DEFAULT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// RUN: rm -rf %t.w8 && fattn-run %s --target=gpu --emit-dir %t.w8 --warps=8
// RUN: %ptxas -arch=sm_90a -v %t.w8/ptx-bf16.ptx -o %t.w8/k.cubin 2>&1 | FileCheck %s --check-prefix=WARPS8
// WARPS8: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// RUN: rm -rf %t.s3 && fattn-run %s --target=gpu --emit-dir %t.s3 --stages=3 | FileCheck %s --check-prefix=STAGES3
// STAGES3: grid 8x4, 128 threads, 116736 B shared
// RUN: %ptxas -arch=sm_90a -v %t.s3/ptx-bf16.ptx -o %t.s3/k.cubin 2>&1 | FileCheck %s --check-prefix=NOSPILL
// RUN: rm -rf %t.s4 && fattn-run %s --target=gpu --emit-dir %t.s4 --stages=4
// RUN: %ptxas -arch=sm_90a -v %t.s4/ptx-bf16.ptx -o %t.s4/k.cubin 2>&1 | FileCheck %s --check-prefix=NOSPILL
// RUN: rm -rf %t.a100 && fattn-run %s --target=gpu --emit-dir %t.a100 --chip=sm_80
// RUN: FileCheck %s --input-file=%t.a100/ptx-bf16.ptx --check-prefix=SM80
// SM80: .target sm_80
// On sm_80 ptxas hoists the CTA's slot address out of the key loop (it
// treats %ctaid as invariant) and spills those 8 bytes, reloaded once per
// partial visit (SASS: one STL before the loop, one LDL in the mask
// branch); nothing more may spill.
// RUN: %ptxas -arch=sm_80 -v %t.a100/ptx-bf16.ptx -o %t.a100/k.cubin 2>&1 | FileCheck %s --check-prefix=SM80SPILL
// SM80SPILL: {{[0-8]}} bytes stack frame, {{[048]}} bytes spill stores, {{[048]}} bytes spill loads
// NOSPILL: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
func.func @attention(%q: tensor<500x8x128xbf16>, %k: tensor<500x2x128xbf16>, %v: tensor<500x2x128xbf16>) -> (tensor<500x8x128xbf16>, tensor<500x8xf32>) {
  %out = tensor.empty() : tensor<500x8x128xbf16>
  %lse = tensor.empty() : tensor<500x8xf32>
  %o, %l = fattn.attention ins(%q, %k, %v : tensor<500x8x128xbf16>, tensor<500x2x128xbf16>, tensor<500x2x128xbf16>) outs(%out, %lse : tensor<500x8x128xbf16>, tensor<500x8xf32>) mask <causal [0:500, 0:500]> -> tensor<500x8x128xbf16>, tensor<500x8xf32>
  return %o, %l : tensor<500x8x128xbf16>, tensor<500x8xf32>
}
