#!/usr/bin/env python3
"""Forward-attention benchmark: fattn kernels against PyTorch's peers.

One process, one GPU, the same inputs for everyone (docs/spec.md §4):

  fattn   compiled kernels (NAME.manifest + NAME.ptx), launched on torch
          tensors through the fattn package (python/fattn: ctypes over
          libfattn_runtime.so)
  FA2     torch.ops.aten._flash_attention_forward (dense, varlen, windowed)
  cuDNN   scaled_dot_product_attention with the cuDNN backend (full, causal)
  Flex    torch.compile(flex_attention) with a BlockMask of the same mask

For each mask family and sequence length (Hq = Hk = 16, D = 128, bf16) it
times every implementation with CUDA events (warm-up, L2 flushed before each
launch, median of --iters) and reports TFLOP/s = 4 * attended pairs * Hq * D
/ time, counting attended pairs only. Each fattn output is compared with a
peer's (max abs difference) to catch broken kernels.

Kernels are found by name in --kernels DIR: bench-<family>-<S>.manifest (see
--list-cases and scripts/stage-device.sh). The kernel's own mask is the
truth: varlen document boundaries are read from its slices, and every peer's
description of the mask (cu_seqlens, window, block size, Flex mask_mod) is
checked to attend exactly the kernel's pairs before it is timed.

Missing or failing peers are reported as "-" with the reason; nothing stops
the run. Without --kernels only the peers are measured. The last column is
the time fattn-run took to compile each kernel through the whole pipeline
(mask to PTX, on the compiler machine), read from DIR/compile-seconds.txt,
which scripts/stage-device.sh writes.

  python3 bench/bench.py --kernels STAGED/kernels --lib build-rt/lib/libfattn_runtime.so --json out.json
  python3 bench/bench.py --list-cases
"""

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
import traceback

# The fattn package lives in <repo>/python, next to this script's folder.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "python"))

import fattn  # noqa: E402
from fattn import BI_CAUSAL, CAUSAL, FULL, INV_CAUSAL  # noqa: E402

FAMILIES = ["full", "causal", "varlen-full", "varlen-causal", "sliding-window",
            "block-causal", "random-slices"]
SEQLENS = [4096, 16384]
HEADS_Q = 16
HEADS_K = 16
HEAD_DIM = 128  # --head-dim sets it (64 or 128)
WINDOW = 1024  # sliding window: keys before each query, itself included
BLOCK = 2048   # block-causal block size
# random-slices: fattn-synth's mask::randomBandsMask with 10,000 slices (the
# default), read from the kernel (Python cannot rebuild it).
MIN_DOC, MAX_DOC = 256, 4096
DOC_SEED = 1


def kernel_name(family, seqlen):
    """bench-<family>-<S>, with -d<D> when the head dim is not 128 and
    -h<H> when the head count is not 16 (--heads: fewer heads keep the
    S = 1M rows to seconds)."""
    suffix = "" if HEAD_DIM == 128 else f"-d{HEAD_DIM}"
    suffix += "" if HEADS_Q == 16 else f"-h{HEADS_Q}"
    return f"bench-{family}-{seqlen}{suffix}"


def read_compile_seconds(kernels_dir):
    """NAME -> seconds from the 'NAME SECONDS' lines stage-device.sh writes."""
    seconds = {}
    path = os.path.join(kernels_dir, "compile-seconds.txt") if kernels_dir else None
    if path and os.path.exists(path):
        with open(path) as file:
            for line in file:
                fields = line.split()
                if len(fields) == 2:
                    try:
                        seconds[fields[0]] = float(fields[1])
                    except ValueError:
                        pass
    return seconds


# ---------------------------------------------------------------------------
# Masks as slices (q_begin, q_end, k_begin, k_end, kind), docs/spec.md §1
# ---------------------------------------------------------------------------

def default_documents(seqlen):
    """Document boundaries used when no kernel fixes them: lengths uniform in
    [MIN_DOC, MAX_DOC], the last cut at seqlen. A kernel compiled by
    fattn-synth has its own (its generator differs); the bench then reads the
    boundaries from the kernel's slices instead."""
    rng = random.Random(DOC_SEED)
    bounds = [0]
    while bounds[-1] < seqlen:
        bounds.append(min(seqlen, bounds[-1] + rng.randint(MIN_DOC, MAX_DOC)))
    return bounds


def varlen_slices(bounds, causal):
    kind = CAUSAL if causal else FULL
    return [(b, e, b, e, kind) for b, e in zip(bounds, bounds[1:]) if e > b]


def window_slices(seqlen, window):
    """Row i attends keys [i - window + 1, i]: a causal square for the rows
    whose window is clipped at key 0, then a bi_causal band."""
    left = window - 1
    if seqlen <= left + 1:
        return [(0, seqlen, 0, seqlen, CAUSAL)]
    return [(0, left + 1, 0, left + 1, CAUSAL),
            (left + 1, seqlen, 1, seqlen, BI_CAUSAL)]


def block_causal_slices(seqlen, block):
    """As mask::blockCausalMask: each block attends the earlier blocks and
    itself, written with overlapping q ranges."""
    slices = []
    for begin in range(0, seqlen, block):
        end = min(begin + block, seqlen)
        if begin > 0:
            slices.append((begin, end, 0, begin, FULL))
        slices.append((begin, end, begin, end, FULL))
    return slices


def documents_of(slices, seqlen):
    """cu_seqlens of a varlen mask (one square slice per document, in order,
    covering [0, seqlen)), or None if the slices are not of that form."""
    docs = sorted(slices)
    bounds = [0]
    for q_begin, q_end, k_begin, k_end, _ in docs:
        if q_begin != bounds[-1] or (k_begin, k_end) != (q_begin, q_end):
            return None
        bounds.append(q_end)
    return bounds if bounds[-1] == seqlen else None


class Case:
    """One (family, seqlen): its slices and how each peer expresses them."""

    def __init__(self, family, seqlen, slices=None):
        self.family = family
        self.seqlen = seqlen
        self.name = kernel_name(family, seqlen)
        self.bounds = None
        self.mask_source = "kernel" if slices is not None else "bench"
        if family in ("varlen-full", "varlen-causal"):
            self.bounds = (documents_of(slices, seqlen) if slices is not None
                           else default_documents(seqlen))
            expected = (varlen_slices(self.bounds, family == "varlen-causal")
                        if self.bounds else None)
        elif family == "full":
            expected = [(0, seqlen, 0, seqlen, FULL)]
        elif family == "causal":
            expected = [(0, seqlen, 0, seqlen, CAUSAL)]
        elif family == "sliding-window":
            expected = window_slices(seqlen, WINDOW)
        elif family == "block-causal":
            expected = block_causal_slices(seqlen, BLOCK)
        elif family == "random-slices":
            # The peers are given the kernel's slices themselves.
            expected = slices
        else:
            raise ValueError(f"unknown family {family}")
        # What the peers are told (cu_seqlens, window, block) must describe
        # the kernel's mask; `expected` is that description as slices.
        self.expected = expected
        self.slices = slices if slices is not None else (expected or [])


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

class Timer:
    def __init__(self, torch, iters, warmup):
        self.torch = torch
        self.iters = iters
        self.warmup = warmup
        props = torch.cuda.get_device_properties(0)
        l2 = getattr(props, "L2_cache_size", 50 << 20)
        # Rewriting twice the L2 (at least 256 MiB) before each launch evicts
        # the inputs, so that each launch reads them from memory.
        self.flush = torch.empty(max(256 << 20, 2 * l2), dtype=torch.uint8,
                                 device="cuda")
        # About 1 ms at Hopper clocks.
        self.sleep_cycles = 2_000_000

    def __call__(self, fn):
        torch = self.torch
        for _ in range(self.warmup):
            fn()
        torch.cuda.synchronize()
        starts = [torch.cuda.Event(enable_timing=True)
                  for _ in range(self.iters)]
        ends = [torch.cuda.Event(enable_timing=True)
                for _ in range(self.iters)]
        sleep = getattr(torch.cuda, "_sleep", None)
        for start, end in zip(starts, ends):
            self.flush.zero_()
            # Keep the GPU busy while Python enqueues the launch, so that the
            # host's launch overhead (ctypes, torch.compile guards, context
            # managers) is not timed as kernel time.
            if sleep:
                sleep(self.sleep_cycles)
            start.record()
            fn()
            end.record()
        torch.cuda.synchronize()
        times = [s.elapsed_time(e) for s, e in zip(starts, ends)]
        return statistics.median(times), min(times)


# ---------------------------------------------------------------------------
# Peers
# ---------------------------------------------------------------------------

def short(error):
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return (type(error).__name__ + ": " + line)[:160]


class Unavailable(Exception):
    """A peer that cannot express this case; its message is the reason."""


class Peers:
    """Each peer method returns (run, to_thd): `run` launches the peer and
    returns its output in the peer's own layout (what is timed), `to_thd`
    brings that output to (S, H, D) for the comparisons (not timed)."""

    def __init__(self, torch):
        self.torch = torch
        self.flex = None
        self.flex_error = None
        try:
            import torch._dynamo
            from torch.nn.attention.flex_attention import (create_block_mask,
                                                           flex_attention)
            # One compilation per mask; the default limit of 8 would fall
            # back to eager (and its timings) halfway through the table.
            torch._dynamo.config.cache_size_limit = 64
            self.flex = torch.compile(flex_attention, dynamic=False)
            self.create_block_mask = create_block_mask
        except Exception as error:  # noqa: BLE001 - reported, not fatal
            self.flex_error = short(error)

    @staticmethod
    def _bhsd(case, tensors):
        return [t.view(1, case.seqlen, -1, HEAD_DIM).transpose(1, 2)
                for t in tensors]

    @staticmethod
    def _from_bhsd(case):
        return lambda out: out.transpose(1, 2).reshape(case.seqlen, HEADS_Q,
                                                       HEAD_DIM)

    def fa2(self, case, q, k, v):
        torch = self.torch
        if not torch.backends.cuda.is_flash_attention_available():
            raise Unavailable("PyTorch built without FlashAttention")
        op = torch.ops.aten._flash_attention_forward
        S = case.seqlen
        family = case.family
        if family in ("block-causal", "random-slices"):
            raise Unavailable(f"no FA2 form of {family}")
        if family in ("varlen-full", "varlen-causal"):
            cu = torch.tensor(case.bounds, dtype=torch.int32, device="cuda")
            longest = max(e - b for b, e in zip(case.bounds, case.bounds[1:]))
            causal = family == "varlen-causal"
            return (lambda: op(q, k, v, cu, cu, longest, longest, 0.0, causal,
                               False)[0]), (lambda out: out)
        q4, k4, v4 = (t.view(1, S, -1, HEAD_DIM) for t in (q, k, v))
        to_thd = lambda out: out.view(S, HEADS_Q, HEAD_DIM)  # noqa: E731
        if family == "sliding-window":
            return (lambda: op(q4, k4, v4, None, None, S, S, 0.0, True, False,
                               window_size_left=WINDOW - 1,
                               window_size_right=0)[0]), to_thd
        causal = family == "causal"
        return (lambda: op(q4, k4, v4, None, None, S, S, 0.0, causal,
                           False)[0]), to_thd

    def cudnn(self, case, q, k, v):
        if case.family not in ("full", "causal"):
            raise Unavailable("cuDNN SDPA takes dense full/causal masks only")
        import torch.nn.functional as F
        from torch.nn.attention import SDPBackend, sdpa_kernel
        qh, kh, vh = self._bhsd(case, (q, k, v))
        causal = case.family == "causal"

        def run():
            with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
                return F.scaled_dot_product_attention(qh, kh, vh,
                                                      is_causal=causal)
        return run, self._from_bhsd(case)

    def flex_mask_mod(self, case):
        torch = self.torch
        family = case.family
        if family == "full":
            return None
        if family == "causal":
            return lambda b, h, qi, ki: qi >= ki
        if family == "sliding-window":
            return lambda b, h, qi, ki: (qi >= ki) & (qi - ki < WINDOW)
        if family == "block-causal":
            return lambda b, h, qi, ki: qi // BLOCK >= ki // BLOCK
        if family == "random-slices":
            dense = self.dense_mask(case)
            return lambda b, h, qi, ki: dense[qi, ki]
        bounds = torch.tensor(case.bounds, device="cuda")
        doc = torch.bucketize(torch.arange(case.seqlen, device="cuda"),
                              bounds[1:], right=True)
        if family == "varlen-full":
            return lambda b, h, qi, ki: doc[qi] == doc[ki]
        return lambda b, h, qi, ki: (doc[qi] == doc[ki]) & (qi >= ki)

    def dense_mask(self, case):
        """The case's slices as an (S, S) bool tensor (docs/spec.md section
        1: causal bottom-right aligned in its rectangle, inv_causal top-left,
        bi_causal both)."""
        torch = self.torch
        S = case.seqlen
        dense = torch.zeros(S, S, dtype=torch.bool, device="cuda")
        for q_begin, q_end, k_begin, k_end, kind in case.slices:
            rows = torch.arange(q_end - q_begin, device="cuda")[:, None]
            cols = torch.arange(k_end - k_begin, device="cuda")[None, :]
            cells = torch.ones_like(rows >= cols)
            if kind in (CAUSAL, BI_CAUSAL):
                cells &= cols <= rows + (k_end - k_begin) - (q_end - q_begin)
            if kind in (INV_CAUSAL, BI_CAUSAL):
                cells &= cols >= rows
            dense[q_begin:q_end, k_begin:k_end] |= cells
        return dense

    def flex_pairs(self, mask_mod, seqlen):
        """Pairs the mask_mod attends, evaluated densely in row chunks."""
        torch = self.torch
        if mask_mod is None:
            return seqlen * seqlen
        keys = torch.arange(seqlen, device="cuda")[None, :]
        total = 0
        for begin in range(0, seqlen, 1024):
            rows = torch.arange(begin, min(seqlen, begin + 1024),
                                device="cuda")[:, None]
            total += int(mask_mod(0, 0, rows, keys).sum())
        return total

    def flex_attention(self, case, q, k, v, pairs):
        if self.flex is None:
            raise Unavailable("FlexAttention unavailable: " + self.flex_error)
        S = case.seqlen
        mask_mod = self.flex_mask_mod(case)
        flex_pairs = self.flex_pairs(mask_mod, S)
        if flex_pairs != pairs:
            raise Unavailable(f"mask_mod attends {flex_pairs} pairs, the mask "
                              f"{pairs}")
        block_mask = (None if mask_mod is None else
                      self.create_block_mask(mask_mod, None, None, S, S,
                                             device="cuda"))
        qh, kh, vh = self._bhsd(case, (q, k, v))
        flex = self.flex
        return (lambda: flex(qh, kh, vh, block_mask=block_mask)), \
            self._from_bhsd(case)


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def runtime_kernel_name(items=None):
    """The benchmark's kernel compiled for a run-time mask that searches
    ITEMS slices a query tile: bench-runtime-i<ITEMS>, or bench-runtime for
    4 (ITEMS None), with -d<D> when the head dim is not 128. The run-time
    column takes the smallest class staged that holds a case's plan."""
    suffix = "" if HEAD_DIM == 128 else f"-d{HEAD_DIM}"
    return f"bench-runtime{'' if items is None else f'-i{items}'}{suffix}"


def load_runtime_kernel(kernels_dir, name, runtime, rows):
    """The run-time-mask kernel NAME of KERNELS_DIR, or None (noted in every
    row) when there is none or it is not the bench's problem."""
    if not kernels_dir:
        return None
    manifest = os.path.join(kernels_dir, name + ".manifest")
    if not os.path.exists(manifest):
        return None
    try:
        kernel = fattn.Kernel.load(manifest, library=runtime)
        info = kernel.info
        # Heads -1: the kernel takes the call's.
        got = (info.runtime_mask, info.heads_q if info.heads_q > 0 else
               HEADS_Q, info.heads_k if info.heads_k > 0 else HEADS_K,
               info.head_dim, info.dtype)
        wanted = (True, HEADS_Q, HEADS_K, HEAD_DIM, "bf16")
        if got != wanted:
            raise RuntimeError(f"run-time kernel {got}, bench needs {wanted}")
        return kernel
    except Exception as error:  # noqa: BLE001
        for row in rows:
            row["notes"].append("run-time kernel: " + short(error))
        return None


def check_and_time(torch, timer, row, entry, label, launch, query, reference,
                   reference_name, flops, timed=None):
    """Runs LAUNCH(out, lse) once on poisoned outputs, checks them (nothing
    left NaN, within 0.05 of the reference peer), times it (or TIMED(), the
    same work without writing into out and lse) into ENTRY. Returns why the
    CUDA context is lost, or None."""
    q, seqlen = query
    out = torch.empty_like(q)
    lse = torch.empty(seqlen, HEADS_Q, dtype=torch.float32, device="cuda")
    out.fill_(float("nan"))
    lse.fill_(float("nan"))
    try:
        launch(out, lse)
        torch.cuda.synchronize()
        nan_out = int(torch.isnan(out).sum())
        nan_lse = int(torch.isnan(lse).sum())
        problems = []
        if nan_out or nan_lse:
            problems.append(f"{nan_out} out and {nan_lse} lse elements "
                            "left unwritten (NaN)")
        if reference is not None:
            diff = float((out.float() - reference.float()).abs().max())
            entry["max_abs_diff_vs_" + reference_name] = diff
            # Two correct bf16 attentions differ by a few bf16 ulps of
            # outputs of magnitude ~1; a broken kernel by far more.
            if not diff <= 0.05:
                problems.append(f"output differs from {reference_name} "
                                f"by {diff:.3g}")
        if problems:
            entry["check"] = "FAIL: " + "; ".join(problems)
            row["notes"].append(label + " check " + entry["check"])
        else:
            entry["check"] = "ok" if reference is not None else "unchecked"
        # Timed even when the check fails: the number is still useful to
        # whoever fixes the kernel, and the table marks it.
        median_ms, min_ms = timer(timed or (lambda: launch(out, lse)))
        entry.update(median_ms=median_ms, min_ms=min_ms,
                     tflops=flops / (median_ms * 1e-3) / 1e12)
    except Exception as error:  # noqa: BLE001
        entry["error"] = short(error)
        try:
            torch.cuda.synchronize()
        except Exception as sync_error:  # noqa: BLE001
            entry["error"] = (f"{row['mask']} S={seqlen} faulted "
                              f"({short(sync_error)}); the CUDA context is "
                              "lost")
            return entry["error"]
    return None


def list_cases(families, seqlens):
    return [(family, seqlen) for seqlen in seqlens for family in families]


def fmt(value, digits=1):
    return "-" if value is None else f"{value:.{digits}f}"


def kib(value):
    return None if value is None else value / 1024


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def parse_arguments():
    """The command line; --head-dim and --heads also set HEAD_DIM and
    HEADS_Q = HEADS_K."""
    global HEAD_DIM, HEADS_Q, HEADS_K
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kernels", help="folder of bench-<family>-<S>"
                        ".manifest/.ptx files (omit to time the peers only)")
    parser.add_argument("--lib", default=None,
                        help="libfattn_runtime.so (default: "
                             "$FATTN_RUNTIME_LIB, then "
                             "build-rt/lib/libfattn_runtime.so, then "
                             "build/lib/libfattn_runtime.so)")
    parser.add_argument("--json", help="write every number here")
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seqlens", default=",".join(map(str, SEQLENS)))
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--peers", default="fa2,cudnn,flex",
                        help="subset of fa2,cudnn,flex")
    parser.add_argument("--runtime-kernel", default=None,
                        help="the run-time-mask kernel of --kernels to run "
                             "every case with, before the other item classes "
                             "staged (default bench-runtime-i1[-d64])")
    parser.add_argument("--aot-kernels", default=None,
                        help="the ahead-of-time run-time kernels "
                             "(scripts/build-kernels.py DIR): adds the 'py' "
                             "column, fattn.flex_flash_attn_func with CUDA "
                             "range tensors (planned on the GPU, the "
                             "planner's time included)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--head-dim", type=int, choices=(64, 128),
                        default=HEAD_DIM,
                        help="head dim of every case (kernels of D = 64 are "
                             "named bench-<family>-<S>-d64)")
    parser.add_argument("--heads", type=int, default=HEADS_Q,
                        help="query and key/value heads of every case "
                             "(kernels of other than 16 are named "
                             "bench-<family>-<S>[-d64]-h<H>)")
    parser.add_argument("--list-cases", action="store_true",
                        help="print 'family seqlen kernel-name' lines and "
                             "exit (no GPU needed)")
    args = parser.parse_args()
    HEAD_DIM = args.head_dim
    if args.heads < 1:
        parser.error(f"--heads {args.heads} must be positive")
    HEADS_Q = HEADS_K = args.heads
    args.family_list = [f for f in args.families.split(",") if f]
    args.seqlen_list = [int(s) for s in args.seqlens.split(",") if s]
    for family in args.family_list:
        if family not in FAMILIES:
            parser.error(f"unknown family {family}; known: {FAMILIES}")
    return args


def load_static_kernel(row, kernels_dir, family, seqlen, runtime):
    """The case's static kernel from KERNELS_DIR, or None (why in ROW)."""
    kernel = None
    manifest = (os.path.join(kernels_dir, kernel_name(family, seqlen) +
                             ".manifest") if kernels_dir else None)
    if manifest and not os.path.exists(manifest):
        row["results"]["fattn"] = {"error": f"no {os.path.basename(manifest)}"}
    elif manifest:
        try:
            loaded = fattn.Kernel.load(manifest, library=runtime)
            info = loaded.info
            shape = (info.num_q, info.num_k, info.heads_q, info.heads_k,
                     info.head_dim, info.dtype)
            wanted = (seqlen, seqlen, HEADS_Q, HEADS_K, HEAD_DIM, "bf16")
            if shape != wanted:
                raise RuntimeError(f"kernel shape {shape}, bench needs "
                                   f"{wanted}")
            if info.softcap != 0 or not math.isclose(
                    info.scale, 1 / math.sqrt(HEAD_DIM), rel_tol=1e-6):
                raise RuntimeError(f"kernel scale {info.scale} softcap "
                                   f"{info.softcap}; peers use the "
                                   "defaults")
            kernel = loaded
        except Exception as error:  # noqa: BLE001
            row["results"]["fattn"] = {"error": short(error)}
    return kernel


def describe_case(row, case, seqlen, runtime):
    """The case's attended pairs (None if the mask is rejected) and whether
    the peers' description of the mask is the kernel's."""
    row["mask_source"] = case.mask_source
    row["num_slices"] = len(case.slices)
    if case.expected is None and case.family == "random-slices":
        row["notes"].append("random-slices needs its kernel's slices "
                            "(bench-random-slices-S)")
        return None, False
    try:
        pairs = fattn.count_pairs(case.slices, seqlen, seqlen,
                                  library=runtime)
    except Exception as error:  # noqa: BLE001
        row["notes"].append("mask rejected: " + short(error))
        pairs = None
    row["pairs"] = pairs
    # The peers are told cu_seqlens / window / block; that must be the
    # kernel's mask, else they would be timed on different work.
    description_ok = case.expected is not None
    if description_ok and case.mask_source == "kernel":
        try:
            description_ok = fattn.same_pairs(case.slices, case.expected,
                                              seqlen, seqlen,
                                              library=runtime)
        except Exception as error:  # noqa: BLE001
            description_ok = False
            row["notes"].append(short(error))
    if not description_ok:
        row["notes"].append("kernel mask differs from the family's "
                            "description; peers skipped")
    return pairs, description_ok


def time_peers(torch, timer, peers, peers_wanted, row, case, qkv, pairs,
               description_ok):
    """Runs, checks and times each wanted peer on QKV into ROW; returns the
    most trusted peer's output and name (the reference of the fattn
    kernels), or (None, None)."""
    q, k, v = qkv
    reference, reference_name = None, None
    for peer in ("fa2", "flex", "cudnn"):  # the order of trust
        if peer not in peers_wanted:
            continue
        label = {"fa2": "FA2", "cudnn": "cuDNN", "flex": "Flex"}[peer]
        entry = {}
        row["results"][label] = entry
        if pairs is None or not description_ok:
            entry["error"] = "mask unavailable"
            continue
        try:
            if peer == "fa2":
                run, to_thd = peers.fa2(case, q, k, v)
            elif peer == "cudnn":
                run, to_thd = peers.cudnn(case, q, k, v)
            else:
                run, to_thd = peers.flex_attention(case, q, k, v, pairs)
            out = to_thd(run())
            torch.cuda.synchronize()
            if not torch.isfinite(out).all():
                entry["error"] = "non-finite output"
                continue
            if reference is None:
                reference, reference_name = out, label
            else:
                entry["max_abs_diff_vs_" + reference_name] = float(
                    (out.float() - reference.float()).abs().max())
            median_ms, min_ms = timer(run)
            entry.update(median_ms=median_ms, min_ms=min_ms,
                         tflops=4 * pairs * HEADS_Q * HEAD_DIM /
                         (median_ms * 1e-3) / 1e12)
        except Unavailable as reason:
            entry["error"] = str(reason)
        except Exception as error:  # noqa: BLE001
            entry["error"] = short(error)
            if os.environ.get("BENCH_TRACEBACK"):
                traceback.print_exc()
    return reference, reference_name


def run_static_kernels(torch, timer, cases, compile_seconds, stream):
    """Checks and times each case's static kernel; returns why the CUDA
    context is lost, or None."""
    context_lost = None
    for row, case, kernel, (q, k, v), reference, reference_name, pairs in \
            cases:
        if kernel is None:
            continue
        info = kernel.info
        entry = {"registers": info.num_registers,
                 "grid": list(info.grid), "block": list(info.block),
                 "shared_bytes": info.shared_bytes,
                 "compile_s": compile_seconds.get(case.name)}
        row["results"]["fattn"] = entry
        if context_lost:
            entry["error"] = "not run: " + context_lost
            continue
        if pairs is not None and info.attended_pairs != pairs:
            row["notes"].append("pair count mismatch")
        context_lost = check_and_time(
            torch, timer, row, entry, "fattn",
            lambda out, lse, q=q, k=k, v=v, kernel=kernel: kernel.launch(
                q, k, v, out, lse, stream=stream),
            (q, case.seqlen), reference, reference_name, info.flops)
    return context_lost


def load_runtime_kernels(kernels_dir, name, runtime, rows):
    """The run-time kernel NAME, then the item classes staged beside it,
    smallest first (bench-runtime-i1, bench-runtime with 4, -i16, -i64,
    -i256, -i1024), for masks whose query tiles hold more slices than NAME
    searches (block causal, random-slices)."""
    kernels = []
    primary = load_runtime_kernel(kernels_dir, name, runtime, rows)
    if primary is not None:
        kernels.append((name, primary))
    for items in (1, None, 16, 64, 256, 1024):
        candidate = runtime_kernel_name(items)
        if candidate != name:
            larger = load_runtime_kernel(kernels_dir, candidate, runtime, [])
            if larger is not None:
                kernels.append((candidate, larger))
    return kernels


def pick_runtime_kernel(kernels, ranges, seqlen):
    """The first of KERNELS whose item class holds the case's plan (the
    last one when none does or planning fails otherwise: its launch then
    records why)."""
    for name, kernel in kernels:
        try:
            kernel.plan_ranges(*ranges, seqlen, seqlen)
            return name, kernel
        except fattn.FattnError as error:
            if "work items" not in str(error):
                return name, kernel
    return kernels[-1] if kernels else (None, None)


def run_runtime_kernel(torch, timer, cases, runtime_kernels, stream,
                       context_lost):
    """Checks and times the run-time kernel (of the smallest staged item
    class that holds the case) on every case, with the host's share of a
    call; returns why the CUDA context is lost, or None."""
    for row, case, _, (q, k, v), reference, reference_name, pairs in cases:
        if not runtime_kernels or pairs is None:
            continue
        q_ranges = [[s[0], s[1]] for s in case.slices]
        k_ranges = [[s[2], s[3]] for s in case.slices]
        kinds = [s[4] for s in case.slices]
        name, runtime_kernel = pick_runtime_kernel(
            runtime_kernels, (q_ranges, k_ranges, kinds), case.seqlen)
        entry = {"registers": runtime_kernel.info.num_registers,
                 "kernel": name}
        row["results"]["runtime"] = entry
        if context_lost:
            entry["error"] = "not run: " + context_lost
            continue
        launch = (lambda out, lse, q=q, k=k, v=v, qr=q_ranges, kr=k_ranges,
                  kd=kinds: runtime_kernel.launch_ranges(
                      q, k, v, out, lse, qr, kr, kd, stream=stream))
        context_lost = check_and_time(
            torch, timer, row, entry, "run-time fattn", launch,
            (q, case.seqlen), reference, reference_name,
            4 * pairs * HEADS_Q * HEAD_DIM)
        # The host's share of a call: planning alone (validation and the
        # mask library's plan), and a whole call (plan, copy, launch) with
        # the GPU idle.
        if "error" not in entry:
            plans = []
            for _ in range(5):
                start = time.perf_counter()
                plan = runtime_kernel.plan_ranges(q_ranges, k_ranges, kinds,
                                                  case.seqlen, case.seqlen)
                plans.append((time.perf_counter() - start) * 1e6)
            entry.update(plan, plan_us=statistics.median(plans))
            out, lse = torch.empty_like(q), torch.empty(
                case.seqlen, HEADS_Q, dtype=torch.float32, device="cuda")
            calls = []
            for _ in range(3):
                torch.cuda.synchronize()
                start = time.perf_counter()
                launch(out, lse)
                calls.append((time.perf_counter() - start) * 1e6)
            torch.cuda.synchronize()
            entry["host_call_us"] = statistics.median(calls)
    return context_lost


def run_python_function(torch, timer, cases, aot_kernels, context_lost):
    """Times fattn.flex_flash_attn_func on every case as a training step
    calls it: int32 CUDA range tensors (planned on the GPU by the planning
    kernel, no synchronisation), the kernels of AOT_KERNELS, out and lse
    allocated per call. Returns why the CUDA context is lost, or None."""
    for row, case, _, (q, k, v), reference, reference_name, pairs in cases:
        if not aot_kernels or pairs is None:
            continue
        entry = {}
        row["results"]["py"] = entry
        if context_lost:
            entry["error"] = "not run: " + context_lost
            continue
        ranges = [torch.tensor([list(s[a:b]) for s in case.slices],
                               dtype=torch.int32, device="cuda").reshape(-1, 2)
                  for a, b in ((0, 2), (2, 4))]
        kinds = torch.tensor([s[4] for s in case.slices], dtype=torch.int32,
                             device="cuda")

        def call(ranges=ranges, kinds=kinds, q=q, k=k, v=v):
            return fattn.flex_flash_attn_func(
                q, k, v, *ranges, attn_type_map=kinds,
                kernels_dir=aot_kernels)

        def into(out, lse):
            result, result_lse = call()
            out.copy_(result)
            lse.copy_(result_lse.transpose(0, 1))  # (heads, tokens)
        # Checked through the copies into out and lse, timed without them.
        context_lost = check_and_time(
            torch, timer, row, entry, "flex_flash_attn_func", into,
            (q, case.seqlen), reference, reference_name,
            4 * pairs * HEADS_Q * HEAD_DIM, timed=call)
    return context_lost


def print_report(rows, args, device_name):
    """The table of TFLOP/s and ratios, then every error and note."""
    labels = ["fattn", "runtime", "py", "FA2", "cuDNN", "Flex"]
    header = (f"{'mask':<15} {'S':>6} {'fattn':>7} {'FA2':>7} {'cuDNN':>7} "
              f"{'Flex':>7} {'/FA2':>6} {'/cuDNN':>6} {'/Flex':>6} "
              f"{'max|fattn-ref|':>15} {'compile s':>9} {'run-time':>8} "
              f"{'rt/FA2':>6} {'rt/st':>6} {'plan us':>8} {'call us':>8} "
              f"{'sched KB':>8} {'py':>7} {'py/FA2':>6}")
    print(f"\nforward TFLOP/s (4*pairs*Hq*D / median time), {device_name}, "
          f"bf16 Hq={HEADS_Q} Hk={HEADS_K} D={HEAD_DIM}, median of "
          f"{args.iters} after {args.warmup} warm-up, L2 flushed")
    print(header)
    print("-" * len(header))
    reasons = []
    for row in rows:
        tflops = {label: row["results"].get(label, {}).get("tflops")
                  for label in labels}
        fattn_entry = row["results"].get("fattn", {})
        diff = next((value for key, value in fattn_entry.items()
                     if key.startswith("max_abs_diff_vs_")), None)
        # '!': timed, but its output failed the check.
        fattn_text = fmt(tflops["fattn"]) + (
            "!" if str(fattn_entry.get("check", "")).startswith("FAIL")
            else "")
        runtime_entry = row["results"].get("runtime", {})
        runtime_text = fmt(tflops["runtime"]) + (
            "!" if str(runtime_entry.get("check", "")).startswith("FAIL")
            else "")
        print(f"{row['mask']:<15} {row['S']:>6} {fattn_text:>7} "
              f"{fmt(tflops['FA2']):>7} {fmt(tflops['cuDNN']):>7} "
              f"{fmt(tflops['Flex']):>7} "
              f"{fmt(ratio(tflops['fattn'], tflops['FA2']), 2):>6} "
              f"{fmt(ratio(tflops['fattn'], tflops['cuDNN']), 2):>6} "
              f"{fmt(ratio(tflops['fattn'], tflops['Flex']), 2):>6} "
              f"{fmt(diff, 4):>15} "
              f"{fmt(fattn_entry.get('compile_s'), 2):>9} "
              f"{runtime_text:>8} "
              f"{fmt(ratio(tflops['runtime'], tflops['FA2']), 2):>6} "
              f"{fmt(ratio(tflops['runtime'], tflops['fattn']), 2):>6} "
              f"{fmt(runtime_entry.get('plan_us'), 0):>8} "
              f"{fmt(runtime_entry.get('host_call_us'), 0):>8} "
              f"{fmt(kib(runtime_entry.get('schedule_bytes')), 1):>8} "
              f"{fmt(tflops['py']):>7} "
              f"{fmt(ratio(tflops['py'], tflops['FA2']), 2):>6}")
        for label in labels:
            error = row["results"].get(label, {}).get("error")
            if error:
                reasons.append(f"  {row['mask']} S={row['S']} {label}: "
                               f"{error}")
        for note in row["notes"]:
            reasons.append(f"  {row['mask']} S={row['S']}: {note}")
    if reasons:
        print("\n'-' and notes:")
        print("\n".join(reasons))


def main():
    args = parse_arguments()
    families, seqlens = args.family_list, args.seqlen_list
    if args.list_cases:
        for family, seqlen in list_cases(families, seqlens):
            print(family, seqlen, kernel_name(family, seqlen))
        return 0
    peers_wanted = set(p for p in args.peers.split(",") if p)
    try:
        import torch
    except ImportError as error:
        print(f"bench: PyTorch is not installed ({error})", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("bench: no CUDA device visible to PyTorch", file=sys.stderr)
        return 2
    # The C API loads kernels into the context current on this thread:
    # make it PyTorch's before anything is loaded.
    torch.zeros(1, device="cuda")
    device_name = torch.cuda.get_device_name(0)

    # Attended pairs (the FLOP count of every implementation) come from the
    # mask library through the runtime, the one implementation of the mask
    # semantics, so the library is needed even to time the peers alone.
    try:
        runtime = fattn.load_library(args.lib)
    except fattn.FattnError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2

    compile_seconds = read_compile_seconds(args.kernels)
    timer = Timer(torch, args.iters, args.warmup)
    peers = Peers(torch)
    stream = torch.cuda.current_stream().cuda_stream
    rows = []

    # Phase 1: masks and peers. The fattn kernels run afterwards, so that a
    # kernel that faults (and takes the CUDA context with it) cannot erase
    # the peers' numbers.
    cases = []
    for family, seqlen in list_cases(families, seqlens):
        row = {"mask": family, "S": seqlen, "heads_q": HEADS_Q,
               "heads_k": HEADS_K, "head_dim": HEAD_DIM, "dtype": "bf16",
               "results": {}, "notes": []}
        rows.append(row)
        kernel = load_static_kernel(row, args.kernels, family, seqlen,
                                    runtime)
        case = Case(family, seqlen, kernel.slices if kernel else None)
        pairs, description_ok = describe_case(row, case, seqlen, runtime)
        generator = torch.Generator(device="cuda").manual_seed(args.seed)
        q = torch.randn(seqlen, HEADS_Q, HEAD_DIM, device="cuda",
                        dtype=torch.bfloat16, generator=generator)
        k = torch.randn(seqlen, HEADS_K, HEAD_DIM, device="cuda",
                        dtype=torch.bfloat16, generator=generator)
        v = torch.randn(seqlen, HEADS_K, HEAD_DIM, device="cuda",
                        dtype=torch.bfloat16, generator=generator)
        reference, reference_name = time_peers(
            torch, timer, peers, peers_wanted, row, case, (q, k, v), pairs,
            description_ok)
        cases.append((row, case, kernel, (q, k, v), reference, reference_name,
                      pairs))
        print(f"bench: {family} S={seqlen} peers done", file=sys.stderr,
              flush=True)

    # Phase 2: fattn kernels, the static ones then the run-time one.
    context_lost = run_static_kernels(torch, timer, cases, compile_seconds,
                                      stream)
    runtime_kernels = load_runtime_kernels(
        args.kernels, args.runtime_kernel or runtime_kernel_name(1), runtime,
        rows)
    context_lost = run_runtime_kernel(torch, timer, cases, runtime_kernels,
                                      stream, context_lost)
    context_lost = run_python_function(torch, timer, cases, args.aot_kernels,
                                       context_lost)
    print_report(rows, args, device_name)

    if args.json:
        with open(args.json, "w") as file:
            json.dump({"device": device_name, "torch": torch.__version__,
                       "iters": args.iters, "warmup": args.warmup,
                       "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                       "rows": rows}, file, indent=1)
    loaded = ([kernel for _, _, kernel, *_ in cases] +
              [kernel for _, kernel in runtime_kernels])
    for kernel in loaded:
        if kernel is None:
            continue
        # After a fault the context is gone; unloading would only touch it.
        if context_lost:
            kernel.detach()
        else:
            kernel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
