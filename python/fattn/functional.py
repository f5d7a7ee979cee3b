"""MagiAttention's and FlashAttention's forward calls, on fattn's run-time-
mask kernels.

    out, lse = fattn.flex_flash_attn_func(q, k, v, q_ranges, k_ranges,
                                          max_seqlen_q, max_seqlen_k,
                                          attn_type_map=kinds)
    out, lse = fattn.flash_attn_varlen_func(q, k, v, cu_seqlens_q,
                                            cu_seqlens_k, max_seqlen_q,
                                            max_seqlen_k, causal=True)

Packed (tokens, heads, dim) CUDA tensors; out has q's dtype and lse is
float32 (heads, tokens). One compiled kernel serves every mask, length,
head count (any GQA ratio), scale and softcap value of a (dtype, head dim,
softcap on or off), on torch's current stream. The mask is planned per call
where its tensors are: range tensors on the host are validated and planned
by the C runtime (a bad range raises FattnError naming the slice and the
value); range tensors (and cu_seqlens) on q's device are planned on the GPU
by the runtime's planning kernel, with no copy to the host and no wait for
the stream (so the call can be captured in a CUDA graph). A bad range is
then refused on the GPU: out and lse are left NaN, and FattnError naming
the slice is raised when the call is checked (check_ranges=True, or
FATTN_CHECK_RANGES=1, which wait for the stream; by default only a call
that may need more slices per query tile than the kernels at hand search
is checked, so that no valid call ends in NaN, except under a CUDA graph
capture, which nothing may wait for). A call is captured in a CUDA graph
once a call with as many slices and query tokens has run on the capturing
stream before the capture (kernels are kept per stream, and the planner's
buffer cannot grow during one): warm up under torch.cuda.stream(s), then
capture with torch.cuda.graph(g, stream=s). FATTN_PLAN_ON_GPU=0
plans CUDA range tensors on the host instead (a copy and a wait).

The kernels are found by name (runtime_kernel_name) in the folders of
kernel_dirs(): $FATTN_KERNELS, <repo>/build/kernels, then the cache that
compiling on demand fills when fattn-run and fattn-synth are at hand
($FATTN_KERNEL_CACHE, else ~/.cache/fattn/kernels). A
kernel searches a fixed number of slices per query tile (its item class,
ITEM_CLASSES); the smallest class that holds a call's plan is used, since
the search costs 6-9% (bench/NOTES.md).

Forward only: gradients are the backward issue's, and a call on inputs that
need them raises NotImplementedError rather than return outputs that
silently detach.
"""

import contextlib
import math
import os
import subprocess
import sys
import tempfile
import threading

from .compiler import find_fattn_run
from .errors import CompileError, FattnError
from .kernel import Kernel, _dim, check_int32, launch_device_ranges
from .library import REPO_ROOT, load_library
from .masks import CAUSAL, FULL, BI_CAUSAL, INV_CAUSAL

KERNELS_ENV = "FATTN_KERNELS"
CACHE_ENV = "FATTN_KERNEL_CACHE"
FATTN_SYNTH_ENV = "FATTN_SYNTH"
# Slices one query tile may attend, by kernel build (max-items-per-tile).
ITEM_CLASSES = (1, 4, 16, 64, 256, 1024)
# The runtime's refusal of a plan past a kernel's item class
# (RuntimeSchedule.cpp): the next class is tried.
_TOO_MANY_ITEMS = "work items (slices attending its rows)"

# A run-time kernel is compiled for a (dtype, head_dim, softcapped) and an
# item class; heads, scale and the softcap's value are its arguments. The
# build writes this set into build/kernels (target fattn-kernels,
# scripts/build-kernels.py); larger item classes are compiled on demand
# where the compiler is.
AOT_KERNELS = [(dtype, head_dim, softcapped)
               for dtype in ("bf16", "f16")
               for head_dim in (64, 128)
               for softcapped in (False, True)]
# 64 and 256 let a GPU-planned call of many short documents (a query tile
# meeting up to 256 of them) run without a synchronisation.
AOT_ITEM_CLASSES = (1, 4, 16, 64, 256)
# What the compiled program fixes, which its kernel takes per call instead:
# only the program's own launch uses these.
_PROGRAM_HEADS = 1
_PROGRAM_SOFTCAP = 30.0

CHECK_RANGES_ENV = "FATTN_CHECK_RANGES"
# "1": CUDA range tensors are planned on the GPU (checked there and in CI
# on emulated threads, bench/NOTES.md issue 9 step 5); "0": copied to the
# host and planned there (a synchronisation), as before the GPU planner.
PLAN_ON_GPU_ENV = "FATTN_PLAN_ON_GPU"
PLAN_ON_GPU_DEFAULT = "1"
# Item classes one GPU-planned call launches at most (the C API's bound).
_MAX_DEVICE_CLASSES = 4
# Rows of the largest query tile of a run-time kernel: a query tile meets
# at most this many sequences of a cu_seqlens call.
_MAX_BLOCK_Q = 128

_DTYPES = {"torch.bfloat16": "bf16", "torch.float16": "f16"}
_loaded = {}
_found = {}  # (name, dirs, stream) -> _loaded's entry, or None: not found
_loaded_lock = threading.Lock()


def runtime_kernel_name(dtype, head_dim, softcapped, items):
    """The file name (without .manifest) of the run-time-mask kernel of this
    dtype, head dim, softcap on or off, and item class."""
    return (f"runtime-{dtype}-d{head_dim}{'-softcap' if softcapped else ''}"
            f"-i{items}")


def kernel_dirs(kernels_dir=None):
    """Where kernels are looked for, in order: KERNELS_DIR (if given), the
    folders of $FATTN_KERNELS (os.pathsep-separated), <repo>/build/kernels,
    and the compile cache ($FATTN_KERNEL_CACHE, else
    ~/.cache/fattn/kernels)."""
    dirs = [kernels_dir] if kernels_dir else []
    dirs += [d for d in os.environ.get(KERNELS_ENV, "").split(os.pathsep)
             if d]
    dirs.append(os.path.join(REPO_ROOT, "build", "kernels"))
    dirs.append(_cache_dir())
    return dirs


def _cache_dir():
    """$FATTN_KERNEL_CACHE, else the user's cache folder (a shared temporary
    folder would let another user plant kernels)."""
    if os.environ.get(CACHE_ENV):
        return os.environ[CACHE_ENV]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(base, "fattn", "kernels")


def _find_fattn_synth(fattn_run):
    candidates = [os.environ.get(FATTN_SYNTH_ENV),
                  os.path.join(os.path.dirname(fattn_run), "fattn-synth")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _compile(name, attention, items):
    """Compiles the kernel NAME into the cache; its path, or None without a
    compiler here."""
    try:
        fattn_run = find_fattn_run()
    except FattnError:
        return None
    if not _find_fattn_synth(fattn_run):
        return None
    return compile_runtime_kernel(attention, items, _cache_dir())


def compile_runtime_kernel(attention, items, directory):
    """Compiles the run-time-mask kernel of ATTENTION (dtype, head_dim,
    softcapped) and item class ITEMS into DIRECTORY with fattn-synth and
    fattn-run, under runtime_kernel_name; returns the manifest's path.
    Raises CompileError (FattnError without the tools)."""
    fattn_run = find_fattn_run()
    fattn_synth = _find_fattn_synth(fattn_run)
    if not fattn_synth:
        raise FattnError(f"fattn-synth not found beside {fattn_run} (set "
                         f"{FATTN_SYNTH_ENV})")
    name = runtime_kernel_name(*attention, items)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    # Compiled beside the folder and moved in, PTX before manifest, so that
    # a process looking the kernel up (another rank, say) never finds a
    # manifest without its whole PTX.
    staging = tempfile.mkdtemp(prefix=".compiling-", dir=directory)
    try:
        _compile_into(staging, name, attention, items, fattn_run,
                      fattn_synth)
        for suffix in (".mlir", ".ptx", ".manifest"):
            os.replace(os.path.join(staging, name + suffix),
                       os.path.join(directory, name + suffix))
    finally:
        for leftover in os.listdir(staging):
            os.remove(os.path.join(staging, leftover))
        os.rmdir(staging)
    return os.path.join(directory, name + ".manifest")


def _compile_into(cache, name, attention, items, fattn_run, fattn_synth):
    """fattn-synth's program of the kernel NAME, and fattn-run's kernel, in
    CACHE."""
    dtype, head_dim, softcapped = attention
    program = os.path.join(cache, name + ".mlir")
    softcap = _PROGRAM_SOFTCAP if softcapped else 0.0
    steps = [
        [fattn_synth, "--mask=runtime", "--seq=1",
         f"--heads-q={_PROGRAM_HEADS}", f"--heads-k={_PROGRAM_HEADS}",
         f"--head-dim={head_dim}", f"--dtype={dtype}",
         f"--softcap={softcap!r}", f"--max-items-per-tile={items}", "-o",
         program],
        [fattn_run, program, "--target=gpu", f"--max-items-per-tile={items}",
         "--emit-dir", cache],
    ]
    for command in steps:
        result = subprocess.run(command, capture_output=True, text=True,
                                check=False)
        if result.returncode != 0:
            raise CompileError(
                f"compiling {name} failed: "
                f"{(result.stderr or result.stdout).strip()}", command,
                result.returncode, result.stdout, result.stderr)


def build_kernel_set(directory, attentions=None, item_classes=None):
    """Compiles the ahead-of-time set (AOT_KERNELS x AOT_ITEM_CLASSES by
    default) into DIRECTORY; returns the manifests' paths."""
    return [compile_runtime_kernel(attention, items, directory)
            for attention in (attentions or AOT_KERNELS)
            for items in (item_classes or AOT_ITEM_CLASSES)]


def _kernel(name, attention, items, dirs, library, stream):
    """The loaded kernel NAME from DIRS (compiled on demand), or None: one
    per CUDA stream, since a kernel keeps one buffer for its call's plan
    (which a launch on another stream could overwrite while in use), with
    a lock for the threads that share a stream. Looked up once per (NAME,
    DIRS, stream), found or not, since every call asks for its classes
    (forget_kernels() looks again)."""
    lookup = (name, tuple(dirs), stream)
    with _loaded_lock:
        if lookup in _found:
            return _found[lookup]
    path = next((os.path.join(d, name + ".manifest") for d in dirs
                 if os.path.isfile(os.path.join(d, name + ".manifest"))),
                None)
    with _loaded_lock:
        if path is None:
            path = _compile(name, attention, items)
        loaded = None
        if path is not None:
            key = (os.path.realpath(path), stream)
            if key not in _loaded:
                _loaded[key] = (Kernel.load(key[0], library=library),
                                threading.Lock())
            loaded = _loaded[key]
        _found[lookup] = loaded
        return loaded


def forget_kernels():
    """Makes the next calls look their kernels up again (kernels staged or
    compiled since, by another process say); loaded kernels stay loaded."""
    with _loaded_lock:
        _found.clear()


def _launch_smallest_class(attention, launch, kernels_dir, library, stream):
    """Calls LAUNCH(kernel) with the kernel of ATTENTION (dtype, head_dim,
    softcapped) of the smallest item class that holds
    the call's plan, under the lock of its launches on STREAM (a CUstream
    handle). The runtime plans each call before it launches and refuses a
    plan past the kernel's class untouched, so the refusal moves the call
    to the next class: one plan per class tried, none made twice. Raises
    FattnError for an invalid call (from the planner) or when no kernel is
    found."""
    library = library or load_library()
    dirs = kernel_dirs(kernels_dir)
    missing = []
    for items in ITEM_CLASSES:
        name = runtime_kernel_name(*attention, items)
        found = _kernel(name, attention, items, dirs, library, stream)
        if found is None:
            missing.append(name)
            continue
        kernel, lock = found
        try:
            with lock:
                launch(kernel)
            return
        except FattnError as error:
            if _TOO_MANY_ITEMS not in str(error):
                raise
    raise _no_kernel_error(missing, dirs)


def _device_classes(bound):
    """The item classes a call planned on the GPU launches when a query tile
    meets at most BOUND slices: the classes below BOUND and the first one
    that holds it (the planner gives the call to the smallest that holds
    its plan), at most _MAX_DEVICE_CLASSES of them: the smallest and the
    largest ones."""
    wanted = [items for items in ITEM_CLASSES if items < bound]
    wanted += [items for items in ITEM_CLASSES if items >= bound][:1]
    if len(wanted) > _MAX_DEVICE_CLASSES:
        wanted = wanted[:1] + wanted[1 - _MAX_DEVICE_CLASSES:]
    return wanted


def _launch_planned_on_device(attention, bound, launch, check, kernels_dir,
                              library, stream):
    """Calls LAUNCH(kernels) with the kernels of ATTENTION of the item
    classes of _device_classes(BOUND) found (or compiled), under their
    locks on STREAM. With CHECK (None: when the largest class found is
    below BOUND), waits for the plan and raises FattnError if the GPU
    refused the call."""
    library = library or load_library()
    dirs = kernel_dirs(kernels_dir)
    found, missing = [], []  # found: (items, kernel, lock), ascending
    for items in _device_classes(bound):
        name = runtime_kernel_name(*attention, items)
        loaded = _kernel(name, attention, items, dirs, library, stream)
        if loaded:
            found.append((items, *loaded))
        else:
            missing.append(name)
    if not found:
        raise _no_kernel_error(missing, dirs)
    capturing = _capturing()
    if check and capturing:
        raise ValueError("check_ranges waits for the stream, which a CUDA "
                         "graph capture forbids: check outside the capture")
    if check is None:
        check = not capturing and (
            os.environ.get(CHECK_RANGES_ENV, "") not in ("", "0")
            or found[-1][0] < bound)
    with contextlib.ExitStack() as held:
        # Ascending, as every caller takes them: no two calls deadlock.
        for _, _, lock in found:
            held.enter_context(lock)
        launch([kernel for _, kernel, _ in found])
        if check:
            found[0][1].device_plan_status()


def _plan_on_gpu():
    """Whether mask tensors on the GPU are planned there (FATTN_PLAN_ON_GPU,
    PLAN_ON_GPU_DEFAULT)."""
    return os.environ.get(PLAN_ON_GPU_ENV, PLAN_ON_GPU_DEFAULT) != "0"


def _capturing():
    """Whether torch's current stream is capturing a CUDA graph."""
    torch = sys.modules.get("torch")
    return bool(torch and torch.cuda.is_current_stream_capturing())


def _no_kernel_error(missing, dirs):
    return FattnError(
        "no run-time kernel holds this call: looked for " +
        ", ".join(missing[:2]) + (" ..." if len(missing) > 2 else "") +
        " in " + ", ".join(dirs) + " (stage them with fattn-synth "
        "--mask=runtime and fattn-run --target=gpu --max-items-per-tile=N, "
        "or run where fattn-run is built)")


def _check_inputs(q, k, v):
    """The attention of Q, K, V: (dtype, heads_q, heads_k, head_dim)."""
    for name, tensor in (("q", q), ("k", k), ("v", v)):
        if not callable(getattr(tensor, "data_ptr", None)):
            raise TypeError(f"{name} is a {type(tensor).__name__}, not a "
                            "tensor")
        if getattr(tensor.device, "type", None) != "cuda":
            raise ValueError(f"{name} is on {tensor.device}, not a CUDA "
                             "device")
        if tensor.dim() != 3:
            raise ValueError(f"{name} has shape {tuple(tensor.shape)}; "
                             "fattn takes packed (tokens, heads, dim)")
        if tensor.stride(-1) != 1:
            raise ValueError(f"{name}'s last dimension is not contiguous "
                             f"(strides {tuple(tensor.stride())})")
    if q.device != k.device or q.device != v.device:
        raise ValueError(f"q, k, v are on {q.device}, {k.device}, "
                         f"{v.device}; they must share one device")
    dtype = _DTYPES.get(str(q.dtype))
    if dtype is None or k.dtype != q.dtype or v.dtype != q.dtype:
        raise ValueError(f"q, k, v have dtypes {q.dtype}, {k.dtype}, "
                         f"{v.dtype}; fattn takes bfloat16 or float16, all "
                         "the same")
    if k.shape != v.shape:
        raise ValueError(f"k has shape {tuple(k.shape)} and v "
                         f"{tuple(v.shape)}; they must agree")
    if q.shape[1] == 0 or k.shape[1] == 0:
        raise ValueError(f"q {tuple(q.shape)} and k {tuple(k.shape)}: "
                         "heads must be at least 1")
    if q.shape[2] != k.shape[2] or q.shape[1] % k.shape[1]:
        raise ValueError(f"q {tuple(q.shape)} and k {tuple(k.shape)}: the "
                         "head dims must agree and k's heads divide q's")
    for tensor in (q, k, v):
        if tensor.requires_grad and _grad_enabled():
            raise NotImplementedError(
                "fattn: gradients are not supported yet (no backward "
                "kernels); call under torch.no_grad() or pass detached "
                "tensors")
    return dtype, int(q.shape[1]), int(k.shape[1]), int(q.shape[2])


def _grad_enabled():
    import torch
    return torch.is_grad_enabled()


def _host_int32(name, tensor, columns, device):
    """TENSOR (int32, on the host or on DEVICE) as a contiguous host tensor
    of COLUMNS columns (0: a vector)."""
    check_int32(name, tensor, (None, columns) if columns else (None,), device,
                host_too=True)
    # The plan is made on the host: this copy synchronizes with the stream.
    return tensor.to("cpu").contiguous()


def _ranges_on_device(tensors):
    """True when the given mask TENSORS (name: tensor or None) are all on a
    device (launch_device_ranges checks that it is q's), False when all are
    on the host."""
    places = {}
    for name, tensor in tensors.items():
        if tensor is None:
            continue
        if not callable(getattr(tensor, "data_ptr", None)):
            raise TypeError(f"{name} is a {type(tensor).__name__}, not a "
                            "tensor")
        places[name] = getattr(tensor.device, "type", "cpu") != "cpu"
    if len(set(places.values())) > 1:
        raise ValueError(
            "the mask's tensors must all be on the host or all on q's "
            "device (" + ", ".join(f"{name} on {tensors[name].device}"
                                   for name in places) + ")")
    return any(places.values())


def _check_lengths(name, value, ranges=None):
    """VALUE (max_seqlen_*) must be None or a non-negative int, and not
    below the longest of RANGES (host ranges only: a device tensor would
    have to be read back)."""
    if value is None:
        return
    if not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    if ranges is None:
        return
    longest = int((ranges[:, 1] - ranges[:, 0]).max()) if len(ranges) else 0
    if longest > value:
        raise ValueError(f"{name} is {value}, but a range is {longest} "
                         "tokens long")


class _Call:
    """A call's attention, scalars, stream and outputs, checked and
    allocated once for either planner."""

    def __init__(self, q, k, v, softmax_scale, softcap):
        import torch
        dtype, heads_q, _, head_dim = _check_inputs(q, k, v)
        scale = (float(softmax_scale) if softmax_scale
                 else 1 / math.sqrt(head_dim))
        softcap = float(softcap or 0.0)
        if not (math.isfinite(scale) and scale > 0 and math.isfinite(softcap)
                and softcap >= 0):
            raise ValueError(f"softmax_scale {softmax_scale!r} must be "
                             f"positive and softcap {softcap!r} "
                             "non-negative, both finite")
        self.attention = (dtype, head_dim, softcap > 0)
        self.scale, self.softcap = scale, softcap
        self.stream = torch.cuda.current_stream(q.device).cuda_stream
        self.q, self.k, self.v = q.contiguous(), k.contiguous(), v.contiguous()
        self.out = torch.empty_like(self.q)
        self.lse = torch.empty(q.shape[0], heads_q, dtype=torch.float32,
                               device=q.device)

    def on_host(self, q_ranges, k_ranges, kinds, kernels_dir, library):
        """Planned by the C runtime from host ranges."""
        _launch_smallest_class(
            self.attention,
            lambda kernel: kernel.launch_ranges(
                self.q, self.k, self.v, self.out, self.lse, q_ranges,
                k_ranges, kinds, scale=self.scale, softcap=self.softcap,
                stream=self.stream),
            kernels_dir, library, self.stream)

    def on_device(self, bound, check, kernels_dir, library, **mask):
        """Planned on the GPU from MASK (launch_device_ranges' tensors, made
        contiguous: a stream-ordered copy where they are not), whose query
        tiles meet at most BOUND slices."""
        mask = {name: tensor if tensor is None or not callable(
                    getattr(tensor, "contiguous", None)) else
                tensor.contiguous()
                for name, tensor in mask.items()}
        _launch_planned_on_device(
            self.attention, bound,
            lambda kernels: launch_device_ranges(
                kernels, self.q, self.k, self.v, self.out, self.lse,
                scale=self.scale, softcap=self.softcap, stream=self.stream,
                **mask),
            check, kernels_dir, library, self.stream)

    def results(self):
        """(out, lse) with lse (heads, tokens), as the callers return them."""
        return self.out, self.lse.transpose(0, 1).contiguous()


def flex_flash_attn_func(q, k, v, q_ranges, k_ranges, max_seqlen_q=None,
                         max_seqlen_k=None, attn_type_map=None,
                         softmax_scale=None, softcap=0.0,
                         deterministic=False, *, check_ranges=None,
                         kernels_dir=None, library=None):
    """MagiAttention's flex_flash_attn_func: slice i lets rows
    q_ranges[i] attend keys k_ranges[i] with kind attn_type_map[i] (0 full,
    1 causal, 2 inv_causal, 3 bi_causal; None: all full). Ranges are int32
    (N, 2) tensors of [begin, end), all on q's device (planned on the GPU,
    no synchronisation; max_seqlen_* are then not compared with the ranges)
    or all on the host. Returns (out, lse): out like q, lse float32 (heads,
    tokens); rows no slice attends get out 0 and lse -inf, and a cell two
    slices share counts once per slice. CHECK_RANGES: see the module's
    docstring. The forward is deterministic whatever DETERMINISTIC says."""
    del deterministic  # one CTA owns each output row: always deterministic
    import torch
    mask = {"q_ranges": q_ranges, "k_ranges": k_ranges,
            "attn_type_map": attn_type_map}
    _check_inputs(q, k, v)
    if _ranges_on_device(mask) and _plan_on_gpu():
        for name, value in (("max_seqlen_q", max_seqlen_q),
                            ("max_seqlen_k", max_seqlen_k)):
            _check_lengths(name, value)
        call = _Call(q, k, v, softmax_scale, softcap)
        call.on_device(_dim(q_ranges, 0),
                       check_ranges, kernels_dir, library, q_ranges=q_ranges,
                       k_ranges=k_ranges, kinds=attn_type_map)
        return call.results()
    qr = _host_int32("q_ranges", q_ranges, 2, q.device)
    kr = _host_int32("k_ranges", k_ranges, 2, q.device)
    if qr.shape[0] != kr.shape[0]:
        raise ValueError(f"q_ranges has {qr.shape[0]} rows and k_ranges "
                         f"{kr.shape[0]}")
    kinds = (torch.zeros(qr.shape[0], dtype=torch.int32)
             if attn_type_map is None else
             _host_int32("attn_type_map", attn_type_map, 0, q.device))
    if kinds.shape[0] != qr.shape[0]:
        raise ValueError(f"attn_type_map has {kinds.shape[0]} entries for "
                         f"{qr.shape[0]} slices")
    _check_lengths("max_seqlen_q", max_seqlen_q, qr)
    _check_lengths("max_seqlen_k", max_seqlen_k, kr)
    call = _Call(q, k, v, softmax_scale, softcap)
    call.on_host(qr, kr, kinds, kernels_dir, library)
    return call.results()


def window_slices(num_q, num_k, left, right, q_offset=0, k_offset=0):
    """FlashAttention's window over one sequence of NUM_Q queries and NUM_K
    keys, bottom-right aligned: query i attends key j when
    i + num_k - num_q - left <= j <= i + num_k - num_q + right (a side of
    -1 unbounded), as slices (rows and keys offset by Q_OFFSET, K_OFFSET).
    Rows are cut where the band meets the sequence's first or last key, so
    each piece is one kind: full, causal, inv_causal or bi_causal."""
    if num_q <= 0 or num_k <= 0:
        return []
    shift = num_k - num_q
    low = None if left < 0 else shift - left      # j >= i + low
    high = None if right < 0 else shift + right   # j <= i + high
    first = 0 if high is None else max(0, -high)
    last = num_q if low is None else min(num_q, num_k - low)
    # A row whose band starts at key 0 exactly (or ends at the last key)
    # fits the neighbouring piece's kind too: cut only where the band
    # passes the edge.
    cuts = {first, last}
    if low is not None:
        cuts.add(min(max(first, -low), last))
    if high is not None:
        cuts.add(min(max(first, num_k - high), last))
    bounds = sorted(cuts)
    slices = []
    for a, b in zip(bounds, bounds[1:]):
        if a >= b:
            continue
        clipped_low = low is None or a + low < 0
        clipped_high = high is None or a + high >= num_k
        k_begin = 0 if clipped_low else a + low
        k_end = num_k if clipped_high else b + high
        kind = {(True, True): FULL, (True, False): CAUSAL,
                (False, True): INV_CAUSAL,
                (False, False): BI_CAUSAL}[(clipped_low, clipped_high)]
        slices.append((q_offset + a, q_offset + b, k_offset + k_begin,
                       k_offset + k_end, kind))
    return slices


def flash_attn_varlen_func(q, k, v, cu_seqlens_q, cu_seqlens_k,
                           max_seqlen_q=None, max_seqlen_k=None,
                           dropout_p=0.0, softmax_scale=None, causal=False,
                           window_size=(-1, -1), softcap=0.0,
                           return_attn_probs=False, *, check_ranges=None,
                           kernels_dir=None, library=None):
    """FlashAttention's flash_attn_varlen_func over packed sequences:
    sequence b holds queries cu_seqlens_q[b]:cu_seqlens_q[b+1] and keys
    cu_seqlens_k[b]:cu_seqlens_k[b+1] (int32 tensors of batch + 1 entries,
    from 0, non-decreasing). causal and window_size are FlashAttention's
    (bottom-right aligned; causal sets the right window to 0). Returns
    (out, lse), lse float32 (heads, tokens); a row with no key gets out 0
    and lse -inf (docs/spec.md, as MagiAttention; FlashAttention's forward
    writes +inf there). cu_seqlens on q's device are planned there
    (no synchronisation) unless a window is set, whose slices are cut on the
    host from a copy of them. CHECK_RANGES: see the module's docstring.
    dropout_p > 0 and return_attn_probs are not supported and raise."""
    if dropout_p:
        raise NotImplementedError("fattn: dropout is not supported "
                                  f"(dropout_p={dropout_p})")
    if return_attn_probs:
        raise NotImplementedError("fattn: return_attn_probs is not supported")
    import torch
    _check_inputs(q, k, v)
    left, right = (int(side) for side in window_size)
    if causal:
        right = 0
    seqlens = {"cu_seqlens_q": cu_seqlens_q, "cu_seqlens_k": cu_seqlens_k}
    if (_ranges_on_device(seqlens) and _plan_on_gpu() and left < 0
            and right in (-1, 0)):
        for name, value in (("max_seqlen_q", max_seqlen_q),
                            ("max_seqlen_k", max_seqlen_k)):
            _check_lengths(name, value)
        call = _Call(q, k, v, softmax_scale, softcap)
        sequences = max(_dim(cu_seqlens_q, 0) - 1, 0)
        call.on_device(min(sequences, _MAX_BLOCK_Q), check_ranges,
                       kernels_dir, library, cu_seqlens_q=cu_seqlens_q,
                       cu_seqlens_k=cu_seqlens_k, causal=right == 0)
        return call.results()
    cq = _host_int32("cu_seqlens_q", cu_seqlens_q, 0, q.device).tolist()
    ck = _host_int32("cu_seqlens_k", cu_seqlens_k, 0, q.device).tolist()
    for name, cu, total in (("cu_seqlens_q", cq, q.shape[0]),
                            ("cu_seqlens_k", ck, k.shape[0])):
        if not cu or cu[0] != 0 or cu[-1] != total or any(
                b < a for a, b in zip(cu, cu[1:])):
            raise ValueError(f"{name} must run from 0 to {total} without "
                             f"decreasing; got {cu[:4]}{'...' if len(cu) > 4 else ''}")
    if len(cq) != len(ck):
        raise ValueError(f"cu_seqlens_q has {len(cq)} entries and "
                         f"cu_seqlens_k {len(ck)}")
    slices = []
    for b in range(len(cq) - 1):
        slices += window_slices(cq[b + 1] - cq[b], ck[b + 1] - ck[b], left,
                                right, cq[b], ck[b])
    rows = torch.tensor([s[:2] for s in slices] or torch.zeros(0, 2),
                        dtype=torch.int32).reshape(-1, 2)
    keys = torch.tensor([s[2:4] for s in slices] or torch.zeros(0, 2),
                        dtype=torch.int32).reshape(-1, 2)
    kinds = torch.tensor([s[4] for s in slices], dtype=torch.int32)
    return flex_flash_attn_func(
        q, k, v, rows, keys, max_seqlen_q, max_seqlen_k, kinds,
        softmax_scale=softmax_scale, softcap=softcap,
        check_ranges=check_ranges, kernels_dir=kernels_dir, library=library)
