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


def reference_attention(q, k, v, mask, scale, softcap):
    """fp64 attention in "thd" layout: returns out (Sq, Hq, D), lse (Sq, Hq)
    and the capped scores (Hq, Sq, Sk), with docs/spec.md §1's conventions:
    GQA head h reads kv head h // (Hq / Hk), empty rows give out 0 and lse
    -inf."""
    group = q.shape[1] // k.shape[1]
    k64 = k.double().repeat_interleave(group, dim=1)
    v64 = v.double().repeat_interleave(group, dim=1)
    scores = torch.einsum("qhd,khd->hqk", q.double(), k64) * scale
    if softcap:
        scores = softcap * torch.tanh(scores / softcap)
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


if __name__ == "__main__":
    unittest.main()
