"""Kernels launched through fattn.Kernel on torch tensors, against an fp64
reference. Needs PyTorch with a CUDA device; skipped elsewhere.

The kernels are gpu_programs.PROGRAMS, taken from $FATTN_TEST_KERNELS (staged
by `python3 python/tests/gpu_programs.py DIR` on the compiler machine) or
compiled here when fattn-run is at hand. The reference builds its boolean
mask from each program's own definition (docs/spec.md §1's table over the
slices written into the program, or the family's formula for fattn-synth's), never
from what the kernel reports, so a kernel that compiled the wrong mask fails.
"""

import math
import os
import shutil
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

import fattn  # noqa: E402
import gpu_programs  # noqa: E402
from fattn import BI_CAUSAL, CAUSAL, FULL, INV_CAUSAL  # noqa: E402

try:
    import torch
    HAVE_CUDA = torch.cuda.is_available()
except ImportError:
    torch = None
    HAVE_CUDA = False

KERNELS_ENV = "FATTN_TEST_KERNELS"

# Output elements are rounded to bf16/f16 (2^-8 relative) and the kernel
# multiplies P in that type too: an absolute floor for the near-zero outputs
# and a relative term for the large ones.
OUT_ATOL, OUT_RTOL = 2e-2, 1e-2
# lse is accumulated in fp32 from the same rounded inputs.
LSE_ATOL = 1e-3
# tanh.approx.f32, which soft-capping uses, is within 2^-10.987 relative
# (PTX ISA): each capped score may be off by that share of itself, and lse,
# a soft maximum of the scores, by as much as the largest.
TANH_APPROX_RTOL = 2.0 ** -10.987


def spec_mask(slices, num_q, num_k, device):
    """The (num_q, num_k) boolean mask of SLICES (docs/spec.md §1, global)."""
    rows = torch.arange(num_q, device=device)[:, None]
    keys = torch.arange(num_k, device=device)[None, :]
    mask = torch.zeros(num_q, num_k, dtype=torch.bool, device=device)
    for qs, qe, ks, ke, kind in slices:
        cells = (rows >= qs) & (rows < qe) & (keys >= ks) & (keys < ke)
        if kind in (CAUSAL, BI_CAUSAL):
            cells &= keys <= rows + (ke - qe)
        if kind in (INV_CAUSAL, BI_CAUSAL):
            cells &= keys >= rows + (ks - qs)
        assert kind in (FULL, CAUSAL, INV_CAUSAL, BI_CAUSAL)
        assert not (mask & cells).any(), "test program shares a cell"
        mask |= cells
    return mask


def program_mask(program, device):
    if program.attends is None:
        return spec_mask(program.slices, program.num_q, program.num_k, device)
    rows = torch.arange(program.num_q, device=device)[:, None]
    keys = torch.arange(program.num_k, device=device)[None, :]
    return program.attends(rows, keys)


def capped_scores(q, k, v, scale, softcap):
    """fp64 scores (Hq, Sq, Sk), scaled and capped, and v with each kv head
    repeated for its group of query heads (Sk, Hq, D)."""
    group = q.shape[1] // k.shape[1]
    k64 = k.double().repeat_interleave(group, dim=1)
    v64 = v.double().repeat_interleave(group, dim=1)
    scores = torch.einsum("qhd,khd->hqk", q.double(), k64) * scale
    if softcap:
        scores = softcap * torch.tanh(scores / softcap)
    return scores, v64


def reference_attention(q, k, v, mask, scale, softcap):
    """fp64 attention in "thd" layout: returns out (Sq, Hq, D), lse (Sq, Hq)
    and the capped scores (Hq, Sq, Sk), with docs/spec.md §1's conventions:
    GQA head h reads kv head h // (Hq / Hk), empty rows give out 0 and lse
    -inf."""
    scores, v64 = capped_scores(q, k, v, scale, softcap)
    masked = scores.masked_fill(~mask, -math.inf)
    lse = torch.logsumexp(masked, dim=-1)
    weights = torch.where(mask, torch.exp(masked - lse[..., None]),
                          torch.zeros((), dtype=torch.float64,
                                      device=q.device))
    out = torch.einsum("hqk,khd->qhd", weights, v64)
    return out, lse.transpose(0, 1), scores


@unittest.skipUnless(HAVE_CUDA, "needs PyTorch with a CUDA device")
class GpuKernelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Kernels load into the context current on this thread: make it
        # torch's before the first load.
        torch.zeros(1, device="cuda")
        cls.manifests = cls.find_or_compile_kernels()

    @classmethod
    def find_or_compile_kernels(cls):
        staged = os.environ.get(KERNELS_ENV)
        if staged:
            return {program.name: os.path.join(staged,
                                               program.name + ".manifest")
                    for program in gpu_programs.PROGRAMS}
        try:
            fattn.find_fattn_run()
        except fattn.FattnError as error:
            raise unittest.SkipTest(
                f"no kernels: set {KERNELS_ENV} to a folder staged by "
                f"gpu_programs.py, or provide fattn-run ({error})")
        directory = tempfile.mkdtemp(prefix="fattn-gpu-test-")
        cls.addClassCleanup(shutil.rmtree, directory)
        return gpu_programs.stage(directory)

    def load(self, program):
        kernel = fattn.Kernel.load(self.manifests[program.name])
        self.addCleanup(kernel.close)
        return kernel

    def inputs(self, program, seed=0):
        dtype = {"bf16": torch.bfloat16, "f16": torch.float16}[program.dtype]
        generator = torch.Generator(device="cuda").manual_seed(seed)
        shapes = ((program.num_q, program.heads_q, program.head_dim),
                  (program.num_k, program.heads_k, program.head_dim),
                  (program.num_k, program.heads_k, program.head_dim))
        return [torch.randn(shape, dtype=dtype, device="cuda",
                            generator=generator) for shape in shapes]

    def test_info_describes_the_program(self):
        for program in gpu_programs.PROGRAMS:
            with self.subTest(program=program.name):
                kernel = self.load(program)
                info = kernel.info
                self.assertEqual(
                    (info.dtype, info.num_q, info.num_k, info.heads_q,
                     info.heads_k, info.head_dim),
                    (program.dtype, program.num_q, program.num_k,
                     program.heads_q, program.heads_k, program.head_dim))
                scale = program.scale or 1 / math.sqrt(program.head_dim)
                self.assertAlmostEqual(info.scale, scale, delta=1e-7 * scale)
                self.assertEqual(info.softcap, program.softcap or 0)
                mask = program_mask(program, "cuda")
                pairs = int(mask.sum())
                self.assertEqual(info.attended_pairs, pairs)
                self.assertEqual(info.flops, 4.0 * pairs * program.heads_q *
                                 program.head_dim)
                self.assertTrue(torch.equal(
                    spec_mask(kernel.slices, info.num_q, info.num_k, "cuda"),
                    mask), "the kernel's slices attend other cells")

    def test_matches_fp64_reference(self):
        for program in gpu_programs.PROGRAMS:
            with self.subTest(program=program.name):
                kernel = self.load(program)
                q, k, v = self.inputs(program)
                # Poisoned, so that an element the kernel never writes shows.
                out = torch.full_like(q, math.nan)
                lse = torch.full((program.num_q, program.heads_q), math.nan,
                                 dtype=torch.float32, device="cuda")
                kernel.launch(q, k, v, out, lse)
                torch.cuda.synchronize()

                mask = program_mask(program, "cuda")
                scale = program.scale or 1 / math.sqrt(program.head_dim)
                ref_out, ref_lse, scores = reference_attention(
                    q, k, v, mask, scale, program.softcap)
                self.assertFalse(out.isnan().any(), "NaN in out")
                self.assertFalse(lse.isnan().any(), "NaN in lse")

                out_error = (out.double() - ref_out).abs()
                out_bound = OUT_ATOL + OUT_RTOL * ref_out.abs()
                self.assertTrue(
                    (out_error <= out_bound).all(),
                    f"out: max |error| {float(out_error.max()):.3g}, worst "
                    f"excess {float((out_error - out_bound).max()):.3g}")

                empty = torch.isinf(ref_lse)  # rows attending no key
                self.assertTrue(torch.equal(torch.isinf(lse), empty),
                                "lse is -inf exactly on the empty rows")
                self.assertTrue((lse[empty] < 0).all())
                self.assertTrue((out[empty] == 0).all(),
                                "out is 0 on the empty rows")
                lse_atol = LSE_ATOL
                if program.softcap:
                    lse_atol += TANH_APPROX_RTOL * float(
                        scores.abs().masked_fill(~mask, 0).max())
                lse_error = (lse.double() - ref_lse)[~empty].abs()
                self.assertLessEqual(float(lse_error.max()), lse_atol,
                                     "lse")
        self.assertTrue(any(not program_mask(p, "cuda").any(dim=1).all()
                            for p in gpu_programs.PROGRAMS),
                        "no program has rows without keys")

    def test_attention_allocates_and_orders_on_stream(self):
        program = gpu_programs.PROGRAMS[0]
        kernel = self.load(program)
        q, k, v = self.inputs(program, seed=1)
        out, lse = kernel(q, k, v)
        self.assertEqual((out.shape, out.dtype, out.device),
                         (q.shape, q.dtype, q.device))
        self.assertEqual((tuple(lse.shape), lse.dtype),
                         ((program.num_q, program.heads_q), torch.float32))
        # The same launch on a side stream (the forward pass has no
        # reductions across CTAs, so results are bitwise reproducible).
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            side_out, side_lse = kernel(q, k, v)
        explicit_out = torch.empty_like(out)
        explicit_lse = torch.empty_like(lse)
        kernel.launch(q, k, v, explicit_out, explicit_lse, stream=side)
        side.synchronize()
        for candidate in (side_out, explicit_out):
            self.assertTrue(torch.equal(candidate, out))
        for candidate in (side_lse, explicit_lse):
            self.assertTrue(torch.equal(candidate, lse))

    def test_params_come_from_the_manifest(self):
        program = gpu_programs.PROGRAMS[0]
        kernel = self.load(program)
        dtype = kernel.info.dtype
        qs = (program.num_q, program.heads_q, kernel.info.head_dim)
        kvs = (kernel.info.num_k, kernel.info.heads_k, kernel.info.head_dim)
        lses = (program.num_q, program.heads_q)
        element = 2
        self.assertEqual(kernel.params, [
            fattn.KernelParam("q", "input", dtype, qs, element * math.prod(qs)),
            fattn.KernelParam("k", "input", dtype, kvs,
                              element * math.prod(kvs)),
            fattn.KernelParam("v", "input", dtype, kvs,
                              element * math.prod(kvs)),
            fattn.KernelParam("out", "output", dtype, qs,
                              element * math.prod(qs)),
            fattn.KernelParam("lse", "output", "f32", lses,
                              4 * math.prod(lses)),
        ])
        # The generic launch, by name, gives the forward launch's result.
        q, k, v = self.inputs(program)
        out, lse = kernel(q, k, v)
        by_name = dict(q=q, k=k, v=v, out=torch.empty_like(out),
                       lse=torch.empty_like(lse))
        kernel.launch_tensors(by_name)
        torch.cuda.synchronize()
        self.assertTrue(torch.equal(by_name["out"], out))
        self.assertTrue(torch.equal(by_name["lse"], lse))
        with self.assertRaisesRegex(ValueError, "the kernel takes q, k, v, "
                                    "out, lse; got q, k, v, out"):
            kernel.launch_tensors(dict(q=q, k=k, v=v, out=out))

    def test_launch_rejects_wrong_arguments(self):
        program = gpu_programs.PROGRAMS[0]
        kernel = self.load(program)
        q, k, v = self.inputs(program)
        out = torch.full_like(q, 7.0)
        lse = torch.full((program.num_q, program.heads_q), 7.0,
                         dtype=torch.float32, device="cuda")
        wrong = {
            "q has dtype torch.float16": dict(q=q.half()),
            "k has dtype torch.float32": dict(k=k.float()),
            r"v has shape \(1024, 2, 32\)": dict(v=v[..., :32].contiguous()),
            r"q has shape \(1023, 8, 64\)": dict(q=q[1:].contiguous()),
            r"lse has dtype torch.bfloat16": dict(lse=lse.bfloat16()),
            r"lse has shape \(1024, 2\)": dict(lse=lse[:, :2].contiguous()),
            "out is on cpu, not on a CUDA device": dict(out=out.cpu()),
            "v is not contiguous": dict(
                v=v.transpose(0, 1).contiguous().transpose(0, 1)),
            "k is a list, not a tensor": dict(k=[1, 2]),
        }
        for message, replacement in wrong.items():
            with self.subTest(message=message):
                arguments = dict(q=q, k=k, v=v, out=out, lse=lse)
                arguments.update(replacement)
                error = TypeError if "not a tensor" in message else ValueError
                with self.assertRaisesRegex(error, message):
                    kernel.launch(**arguments)
        with self.assertRaisesRegex(ValueError, "q has dtype torch.float32"):
            kernel(q.float(), k, v)
        torch.cuda.synchronize()
        self.assertTrue((out == 7).all() and (lse == 7).all(),
                        "a rejected launch ran anyway")

    def test_closed_kernel(self):
        program = gpu_programs.PROGRAMS[0]
        with fattn.Kernel.load(self.manifests[program.name]) as kernel:
            q, k, v = self.inputs(program)
        self.assertTrue(kernel.closed)
        with self.assertRaisesRegex(ValueError, "is closed"):
            kernel(q, k, v)
        kernel.close()  # idempotent


def overlap_mask(slices, num_q, num_k, device):
    """The cell multiplicities of SLICES (docs/spec.md section 1): a cell two
    run-time slices share weighs twice."""
    counts = torch.zeros(num_q, num_k, dtype=torch.float64, device=device)
    for piece in slices:
        counts += spec_mask([piece], num_q, num_k, device).double()
    return counts


def reference_with_counts(q, k, v, counts, scale, softcap):
    """reference_attention where each cell weighs its multiplicity."""
    scores, v64 = capped_scores(q, k, v, scale, softcap)
    weights = counts[None] * torch.exp(scores - scores.amax(-1, keepdim=True))
    total = weights.sum(-1)
    out = torch.einsum("hqk,khd->qhd", weights / total.clamp_min(1e-300)[..., None],
                       v64)
    lse = torch.log(total) + scores.amax(-1)
    lse = torch.where(total > 0, lse, torch.full_like(lse, -math.inf))
    return out, lse  # lse (heads, tokens), as the functions return it


@unittest.skipUnless(HAVE_CUDA, "needs PyTorch with a CUDA device")
class FunctionalTest(unittest.TestCase):
    """flex_flash_attn_func and flash_attn_varlen_func: one kernel per
    attention, any mask, against the fp64 reference."""

    @classmethod
    def setUpClass(cls):
        torch.zeros(1, device="cuda")
        # CUDA range tensors planned on the GPU (the path under test); the
        # host's plan is checked with host tensors beside it.
        cls.plan_on_gpu = mock.patch.dict(
            os.environ, {fattn.functional.PLAN_ON_GPU_ENV: "1"})
        cls.plan_on_gpu.start()
        cls.addClassCleanup(cls.plan_on_gpu.stop)
        cls.kernels_dir = os.environ.get(KERNELS_ENV)
        if cls.kernels_dir:
            return
        try:
            fattn.find_fattn_run()
        except fattn.FattnError as error:
            raise unittest.SkipTest(f"no run-time kernels: set {KERNELS_ENV} "
                                    f"or provide fattn-run ({error})")

    def inputs(self, attention, num_q, num_k, seed=0):
        dtype = {"bf16": torch.bfloat16, "f16": torch.float16}[attention[0]]
        _, heads_q, heads_k, head_dim, _, _ = attention
        generator = torch.Generator(device="cuda").manual_seed(seed)
        return [torch.randn(shape, dtype=dtype, device="cuda",
                            generator=generator)
                for shape in ((num_q, heads_q, head_dim),
                              (num_k, heads_k, head_dim),
                              (num_k, heads_k, head_dim))]

    def assert_close(self, out, lse, ref_out, ref_lse):
        self.assertEqual(lse.shape, ref_lse.shape)
        self.assertFalse(torch.isnan(out).any() or torch.isnan(lse).any())
        err = (out.double() - ref_out).abs()
        self.assertTrue((err <= OUT_ATOL + OUT_RTOL * ref_out.abs()).all(),
                        f"out max error {float(err.max())}")
        finite = torch.isfinite(ref_lse)
        self.assertTrue((torch.isinf(lse) == ~finite).all())
        self.assertLess(float((lse.double() - ref_lse)[finite].abs().max()),
                        LSE_ATOL * 10)

    def flex(self, attention, num_q, num_k, slices):
        """The call with its ranges on the GPU (planned there) and on the
        host (planned by the C runtime), both against the reference."""
        q, k, v = self.inputs(attention, num_q, num_k)
        counts = overlap_mask(slices, num_q, num_k, "cuda")
        ref_out, ref_lse = reference_with_counts(q, k, v, counts,
                                                 attention[4], attention[5])
        for device in ("cuda", "cpu"):
            with self.subTest(ranges_on=device):
                def column(a, b):
                    return torch.tensor([s[a:b] for s in slices],
                                        dtype=torch.int32, device=device)
                q_ranges, k_ranges = column(0, 2), column(2, 4)
                kinds = column(4, 5).reshape(-1)
                out, lse = fattn.flex_flash_attn_func(
                    q, k, v, q_ranges, k_ranges, attn_type_map=kinds,
                    softmax_scale=attention[4], softcap=attention[5],
                    kernels_dir=self.kernels_dir)
                self.assert_close(out, lse, ref_out, ref_lse)

    def test_flex_every_kind_overlap_and_empty_rows(self):
        # Rows 150..199 in two slices, 280..299 in none, S not a tile
        # multiple; more than one slice a query tile (the i4 kernel).
        attention = gpu_programs.RUNTIME_CALLS[1]
        self.flex(attention, 300, 500,
                  [(0, 100, 0, 50, FULL), (0, 100, 50, 170, CAUSAL),
                   (100, 200, 200, 330, INV_CAUSAL),
                   (150, 280, 330, 500, BI_CAUSAL),
                   (160, 170, 0, 40, FULL)])

    def test_flex_one_kernel_many_lengths(self):
        attention = gpu_programs.RUNTIME_CALLS[0]
        for length in (1, 77, 128, 1000):
            with self.subTest(length=length):
                self.flex(attention, length, length,
                          [(0, length, 0, length, CAUSAL)])

    def test_one_kernel_any_heads_and_scale(self):
        # GQA 32:4, 16:16 and 3:1 and four scales on the kernel of 8:2.
        for attention in (gpu_programs.RUNTIME_CALLS[0],
                          *gpu_programs.RUNTIME_CALLS[3:]):
            with self.subTest(attention=attention):
                self.flex(attention, 200, 300,
                          [(0, 200, 0, 150, CAUSAL), (50, 200, 150, 300,
                                                      FULL)])

    def test_flex_softcap(self):
        self.flex(gpu_programs.RUNTIME_CALLS[2], 256, 256,
                  [(0, 256, 0, 256, CAUSAL)])

    def test_varlen_causal_and_window(self):
        attention = gpu_programs.RUNTIME_CALLS[0]
        bounds = [0, 100, 356, 357, 900]
        cu = torch.tensor(bounds, dtype=torch.int32, device="cuda")
        q, k, v = self.inputs(attention, 900, 900)
        for causal, window in ((True, (-1, -1)), (False, (-1, -1)),
                               (True, (31, -1)), (False, (15, 15))):
            with self.subTest(causal=causal, window=window):
                out, lse = fattn.flash_attn_varlen_func(
                    q, k, v, cu, cu, 3543, 543, causal=causal,
                    window_size=window, kernels_dir=self.kernels_dir)
                left, right = window
                if causal:
                    right = 0
                rows = torch.arange(900, device="cuda")[:, None]
                keys = torch.arange(900, device="cuda")[None, :]
                doc = torch.bucketize(torch.arange(900, device="cuda"),
                                      cu[1:].long(), right=True)
                mask = doc[:, None] == doc[None, :]
                if left >= 0:
                    mask &= keys >= rows - left
                if right >= 0:
                    mask &= keys <= rows + right
                ref_out, ref_lse = reference_with_counts(
                    q, k, v, mask.double(), attention[4], attention[5])
                self.assert_close(out, lse, ref_out, ref_lse)

    def test_arguments_are_checked(self):
        attention = gpu_programs.RUNTIME_CALLS[0]
        q, k, v = self.inputs(attention, 64, 64)
        good = torch.tensor([[0, 64]], dtype=torch.int32, device="cuda")
        call = dict(kernels_dir=self.kernels_dir, softmax_scale=0.125)
        with self.assertRaisesRegex(ValueError, "must be torch.int32"):
            fattn.flex_flash_attn_func(q, k, v, good.long(), good, **call)
        past_the_end = torch.tensor([[0, 65]], dtype=torch.int32,
                                    device="cuda")
        for ranges_on, check in (("cpu", None), ("cuda", True)):
            with self.assertRaisesRegex(fattn.FattnError,
                                        r"slice 0: k range \[0, 65\) "
                                        "exceeds"):
                fattn.flex_flash_attn_func(
                    q, k, v, good.to(ranges_on), past_the_end.to(ranges_on),
                    check_ranges=check, **call)
        # Unchecked, a refusal on the GPU leaves NaN rather than a wrong
        # answer, and the next call is unaffected.
        out, lse = fattn.flex_flash_attn_func(q, k, v, good, past_the_end,
                                              **call)
        self.assertTrue(torch.isnan(out).all() and torch.isnan(lse).all())
        out, lse = fattn.flex_flash_attn_func(q, k, v, good, good,
                                              check_ranges=True, **call)
        self.assertFalse(torch.isnan(out).any() or torch.isnan(lse).any())
        bad_seqlens = torch.tensor([0, 30, 63], dtype=torch.int32,
                                   device="cuda")
        with self.assertRaisesRegex(fattn.FattnError, "cu_seqlens"):
            fattn.flash_attn_varlen_func(q, k, v, bad_seqlens, bad_seqlens,
                                         causal=True, check_ranges=True,
                                         **call)
        with self.assertRaisesRegex(NotImplementedError, "gradients"):
            fattn.flex_flash_attn_func(q.requires_grad_(), k, v, good, good,
                                       **call)
        with self.assertRaisesRegex(NotImplementedError, "dropout"):
            fattn.flash_attn_varlen_func(q, k, v, good[0], good[0],
                                         dropout_p=0.1)


if __name__ == "__main__":
    unittest.main()
