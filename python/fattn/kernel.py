"""Compiled kernels (NAME.manifest + NAME.ptx) launched on torch tensors.

A kernel is specialized to one shape, dtype and mask at compile time, and the
C API only sees raw device pointers; a mismatched tensor would be read out of
bounds or misinterpreted rather than rejected. So every launch checks the
tensors against the kernel's own description first and raises ValueError
naming the culprit. torch is imported only where tensors are allocated, so
that loading and inspecting kernels works without it.
"""

import ctypes
import dataclasses
import os
import sys
import weakref

from .library import (DTYPE_NAMES, DeviceMaskStruct, KernelInfoStruct,
                      ParamInfoStruct,
                      load_library)
from .masks import Slice

# Kernel dtype names to str(torch dtype): comparing names keeps the checks
# free of a torch import and lets tensor-like objects with torch's dtype
# spelling through.
TORCH_DTYPE_NAMES = {"f32": "torch.float32", "f16": "torch.float16",
                     "bf16": "torch.bfloat16"}


@dataclasses.dataclass(frozen=True)
class KernelInfo:
    """fattn_kernel_info_t in Python types; dtype is "f32", "f16" or "bf16".

    scale is the effective softmax scale (1/sqrt(head_dim) unless the program
    set one), softcap 0 means none, flops = 4 * attended_pairs * heads_q *
    head_dim, and the *_bytes fields are the buffer sizes the kernel reads
    and writes. A run-time-mask kernel that takes them per call has -1 for
    num_q, num_k, heads_q, heads_k and scale, and softcap -1 where it was
    compiled with one.
    """

    kernel_name: str
    grid: tuple
    block: tuple
    shared_bytes: int
    dtype: str
    num_q: int
    num_k: int
    heads_q: int
    heads_k: int
    head_dim: int
    scale: float
    softcap: float
    num_slices: int
    attended_pairs: int
    flops: float
    q_bytes: int
    kv_bytes: int
    out_bytes: int
    lse_bytes: int
    num_registers: int
    # The mask and token counts come with each launch (launch_ranges).
    runtime_mask: bool = False

    @property
    def q_shape(self):
        """Shape of q and out: (num_q, heads_q, head_dim)."""
        return (self.num_q, self.heads_q, self.head_dim)

    @property
    def kv_shape(self):
        """Shape of k and v: (num_k, heads_k, head_dim)."""
        return (self.num_k, self.heads_k, self.head_dim)

    @property
    def lse_shape(self):
        """Shape of lse (float32): (num_q, heads_q)."""
        return (self.num_q, self.heads_q)

    @classmethod
    def from_struct(cls, raw):
        return cls(kernel_name=(raw.kernel_name or b"").decode(),
                   grid=tuple(raw.grid), block=tuple(raw.block),
                   shared_bytes=raw.shared_bytes,
                   dtype=DTYPE_NAMES.get(raw.dtype, f"dtype{raw.dtype}"),
                   num_q=raw.num_q, num_k=raw.num_k, heads_q=raw.heads_q,
                   heads_k=raw.heads_k, head_dim=raw.head_dim,
                   scale=raw.scale, softcap=raw.softcap,
                   num_slices=raw.num_slices,
                   attended_pairs=raw.attended_pairs, flops=raw.flops,
                   q_bytes=raw.q_bytes, kv_bytes=raw.kv_bytes,
                   out_bytes=raw.out_bytes, lse_bytes=raw.lse_bytes,
                   num_registers=raw.num_registers,
                   runtime_mask=bool(raw.runtime_mask))


def _check_tensor(name, tensor, shape, dtype_name, device):
    """Raises ValueError unless TENSOR is a contiguous CUDA tensor of SHAPE
    and DTYPE_NAME on DEVICE (when given)."""
    if not callable(getattr(tensor, "data_ptr", None)):
        raise TypeError(f"{name} is a {type(tensor).__name__}, not a tensor "
                        "(an object with data_ptr())")
    tensor_device = getattr(tensor, "device", None)
    if getattr(tensor_device, "type", None) != "cuda":
        raise ValueError(f"{name} is on {tensor_device}, not on a CUDA "
                         "device")
    if device is not None and tensor_device != device:
        raise ValueError(f"{name} is on {tensor_device}, the first tensor on "
                         f"{device}; all tensors must be on one device")
    if str(tensor.dtype) != dtype_name:
        raise ValueError(f"{name} has dtype {tensor.dtype}; the kernel takes "
                         f"{dtype_name}")
    if tuple(tensor.shape) != shape:
        raise ValueError(f"{name} has shape {tuple(tensor.shape)}; the kernel "
                         f"takes {shape}")
    if not tensor.is_contiguous():
        raise ValueError(f"{name} is not contiguous (strides "
                         f"{tuple(tensor.stride())}); the kernel reads "
                         "packed rows: pass .contiguous()")


def _stream_handle(stream, device):
    """The CUstream to launch on, as an int, or None for the legacy default
    stream.

    Without an explicit STREAM this is torch's current stream of the
    tensors' device when torch is in use, so that the launch is ordered after
    the work that produced the inputs and before the work that reads the
    outputs, exactly as a torch operator would be.
    """
    if stream is None:
        torch = sys.modules.get("torch")
        if torch is None:
            return None
        return torch.cuda.current_stream(device).cuda_stream or None
    if isinstance(stream, int):
        return stream or None
    handle = getattr(stream, "cuda_stream", None)
    if not isinstance(handle, int):
        raise TypeError(f"stream is a {type(stream).__name__}; pass a "
                        "torch.cuda.Stream, a CUstream handle (int) or None")
    return handle or None


def _int32_array(name, values, columns):
    """VALUES (a CPU tensor, or nested sequences of ints) as a ctypes int32
    array of rows of COLUMNS."""
    if hasattr(values, "device") and getattr(values.device, "type",
                                             "cpu") != "cpu":
        raise ValueError(f"{name} is on {values.device}; pass it on the host "
                         "(the runtime plans the call on the CPU)")
    if str(getattr(values, "dtype", "")) == "torch.int32":
        # Every value fits already: one copy, no loop over the values (a
        # call's ranges are planned per launch).
        flat = values.contiguous().reshape(-1)
        count = flat.numel()
        if count % columns:
            raise ValueError(f"{name} must have {columns} columns")
        array = (ctypes.c_int32 * max(1, count))()
        if count:
            ctypes.memmove(array, flat.data_ptr(), 4 * count)
        return array
    flat = values.reshape(-1).tolist() if hasattr(values, "reshape") else [
        item for row in values
        for item in (row if isinstance(row, (list, tuple)) else [row])]
    if len(flat) % columns:
        raise ValueError(f"{name} must have {columns} columns")
    for value in flat:
        if not isinstance(value, int) or not -2**31 <= value < 2**31:
            raise ValueError(f"{name} holds {value!r}, not an int32")
    return (ctypes.c_int32 * max(1, len(flat)))(*flat)


def _dim(tensor, index):
    """TENSOR's extent INDEX, or 0 where it has no such dimension (the
    shape check then names the tensor)."""
    shape = getattr(tensor, "shape", ())
    return int(shape[index]) if len(shape) > index else 0


def _range_arrays(q_ranges, k_ranges, kinds):
    """The C API's arrays of a run-time mask, and its slice count."""
    q_array = _int32_array("q_ranges", q_ranges, 2)
    k_array = _int32_array("k_ranges", k_ranges, 2)
    count = len(q_array) // 2 if len(q_ranges) else 0
    if (len(k_array) // 2 if len(k_ranges) else 0) != count:
        raise ValueError(f"q_ranges has {count} rows and k_ranges "
                         f"{len(k_ranges)}")
    kinds_array = None
    if kinds is not None:
        kinds_array = _int32_array("kinds", kinds, 1)
        if (len(kinds_array) if len(kinds) else 0) != count:
            raise ValueError(f"kinds has {len(kinds)} entries for {count} "
                             "slices")
    return q_array, k_array, kinds_array, count


def _check_call(kernel, q, k, v, out, lse):
    """(num_q, num_k, heads_q, heads_k) of a run-time call of KERNEL, whose
    tensors must have its dtype and the call's shapes (ValueError)."""
    info = kernel.info
    if not info.runtime_mask:
        raise ValueError(f"kernel {kernel.manifest_path} was compiled with "
                         "its mask; use launch()")
    num_q, num_k = _dim(q, 0), _dim(k, 0)
    heads_q = info.heads_q if info.heads_q > 0 else _dim(q, 1)
    heads_k = info.heads_k if info.heads_k > 0 else _dim(k, 1)
    dtype_name = TORCH_DTYPE_NAMES.get(info.dtype, info.dtype)
    device = None
    for name, tensor, shape, dtype in (
            ("q", q, (num_q, heads_q, info.head_dim), dtype_name),
            ("k", k, (num_k, heads_k, info.head_dim), dtype_name),
            ("v", v, (num_k, heads_k, info.head_dim), dtype_name),
            ("out", out, (num_q, heads_q, info.head_dim), dtype_name),
            ("lse", lse, (num_q, heads_q), "torch.float32")):
        _check_tensor(name, tensor, shape, dtype, device)
        device = device or tensor.device
    return num_q, num_k, heads_q, heads_k


def _call_scalars(info, scale, softcap):
    """The scale and softcap a call passes (None: the kernel's own where it
    fixes one, -1 in its info, else the default 0)."""
    if scale is None:
        scale = info.scale if info.scale > 0 else 0.0
    if softcap is None:
        softcap = info.softcap if info.softcap >= 0 else 0.0
    return float(scale), float(softcap)


def check_int32(name, tensor, shape, device, host_too=False):
    """Raises unless TENSOR is an int32 tensor of SHAPE (None: any extent)
    on DEVICE (or, with HOST_TOO, on the host): a mask tensor of a call."""
    if not callable(getattr(tensor, "data_ptr", None)):
        raise TypeError(f"{name} is a {type(tensor).__name__}, not a tensor")
    if str(getattr(tensor, "dtype", "")) != "torch.int32":
        raise ValueError(f"{name} has dtype {tensor.dtype}; it must be "
                         "torch.int32")
    on_host = getattr(tensor.device, "type", None) == "cpu"
    if tensor.device != device and not (host_too and on_host):
        raise ValueError(f"{name} is on {tensor.device}; q is on {device}")
    if len(tensor.shape) != len(shape) or any(
            want is not None and got != want
            for got, want in zip(tensor.shape, shape)):
        spelled = ", ".join("N" if want is None else str(want)
                            for want in shape)
        raise ValueError(f"{name} has shape {tuple(tensor.shape)}; expected "
                         f"({spelled}{',' if len(shape) == 1 else ''})")


def _device_int32(name, tensor, shape, device):
    """The device address of TENSOR, which must be a contiguous int32
    tensor of SHAPE (None: any length) on DEVICE; 0 for None."""
    if tensor is None:
        return 0
    check_int32(name, tensor, shape, device)
    if not tensor.is_contiguous():
        raise ValueError(f"{name} is not contiguous (strides "
                         f"{tuple(tensor.stride())})")
    return tensor.data_ptr()


def launch_device_ranges(kernels, q, k, v, out, lse, *, q_ranges=None,
                         k_ranges=None, kinds=None, cu_seqlens_q=None,
                         cu_seqlens_k=None, causal=False, scale=None,
                         softcap=None, stream=None):
    """launch_ranges with the mask in device memory, planned on the GPU
    (fattn_kernels_launch_device_ranges): nothing is copied to the host and
    nothing waits for STREAM. The mask is either Q_RANGES and K_RANGES
    ((N, 2) int32 CUDA tensors) with KINDS ((N,) int32, None: all full), or
    FlashAttention's CU_SEQLENS_Q and CU_SEQLENS_K ((B + 1,) int32), every
    sequence one slice, causal (bottom-right aligned) or full. KERNELS are
    1 to 4 kernels of one attention that differ only in their item class,
    ascending; the planner picks the smallest that holds the call. Bad
    ranges are refused on the GPU: out and lse are left NaN and
    KERNELS[0].device_plan_status() raises FattnError naming the slice."""
    kernels = list(kernels)
    if not kernels:
        raise ValueError("launch_device_ranges needs at least one kernel")
    num_q, num_k, heads_q, heads_k = _check_call(kernels[0], q, k, v, out,
                                                 lse)
    mask = DeviceMaskStruct()
    if cu_seqlens_q is not None or cu_seqlens_k is not None:
        if q_ranges is not None or k_ranges is not None or kinds is not None:
            raise ValueError("give either ranges or cu_seqlens, not both")
        if cu_seqlens_q is None or cu_seqlens_k is None:
            raise ValueError("cu_seqlens_q and cu_seqlens_k must both be "
                             "given")
        mask.cu_seqlens_q = _device_int32("cu_seqlens_q", cu_seqlens_q,
                                          (None,), q.device)
        batch = _dim(cu_seqlens_q, 0)
        mask.cu_seqlens_k = _device_int32("cu_seqlens_k", cu_seqlens_k,
                                          (batch,), q.device)
        if batch < 1:
            raise ValueError("cu_seqlens_q must have at least one entry")
        mask.count = batch - 1
        mask.seqlens_kind = 1 if causal else 0
    else:
        count = _dim(q_ranges, 0)
        mask.q_ranges = _device_int32("q_ranges", q_ranges, (None, 2),
                                      q.device)
        mask.k_ranges = _device_int32("k_ranges", k_ranges, (count, 2),
                                      q.device)
        mask.kinds = _device_int32("kinds", kinds, (count,), q.device)
        mask.count = count
    scale, softcap = _call_scalars(kernels[0].info, scale, softcap)
    library = kernels[0].library
    handles = (ctypes.c_void_p * len(kernels))(
        *[kernel.handle for kernel in kernels])
    library.check(library.lib.fattn_kernels_launch_device_ranges(
        handles, len(kernels), q.data_ptr(), k.data_ptr(), v.data_ptr(),
        out.data_ptr(), lse.data_ptr(), ctypes.byref(mask), num_q, num_k,
        heads_q, heads_k, scale, softcap, _stream_handle(stream, q.device)))


@dataclasses.dataclass(frozen=True)
class KernelParam:
    """One kernel parameter as the manifest describes it: the kernel takes a
    device pointer to a contiguous buffer of DTYPE and SHAPE."""

    name: str
    role: str  # "input", "output", "schedule" or "scalar"
    dtype: str  # "bf16", "f16", "f32"; "i32" for schedule and scalar
    shape: tuple  # -1 where each launch decides
    bytes: int

    ROLES = ("input", "output", "schedule", "scalar")

    @classmethod
    def from_struct(cls, raw):
        return cls(name=(raw.name or b"").decode(),
                   role=cls.ROLES[raw.role] if 0 <= raw.role < 4
                   else f"role{raw.role}",
                   dtype=DTYPE_NAMES.get(raw.dtype, f"dtype{raw.dtype}"),
                   shape=tuple(raw.extents[:raw.rank]), bytes=raw.bytes)


class Kernel:
    """A loaded kernel. Create it with Kernel.load(manifest_path).

    The module is unloaded by close(), by leaving a `with` block, or when the
    object is garbage collected; not at interpreter exit, where the CUDA
    driver and PyTorch may already have torn down the context it lives in
    (the process exit reclaims it anyway).
    """

    def __init__(self, library, handle, manifest_path):
        """Takes ownership of HANDLE (a fattn_kernel *); use Kernel.load."""
        self.library = library
        self.manifest_path = manifest_path
        self._handle = handle
        self._finalizer = weakref.finalize(
            self, library.lib.fattn_kernel_destroy, ctypes.c_void_p(handle))
        self._finalizer.atexit = False
        try:
            raw = KernelInfoStruct()
            library.check(library.lib.fattn_kernel_info(
                handle, ctypes.byref(raw)))
            self.info = KernelInfo.from_struct(raw)
            self.slices = self._read_slices()
            self.params = self._read_params()
        except BaseException:
            self.close()
            raise

    @classmethod
    def load(cls, manifest_path, library=None):
        """Loads MANIFEST_PATH and the PTX it names, JIT-compiled for the
        CUDA context current on this thread (torch's, once torch has used
        the device), else device 0's primary context.

        Raises FattnError: FATTN_STATUS_BAD_MANIFEST for a missing or
        malformed manifest or PTX, FATTN_STATUS_NO_DRIVER without libcuda,
        FATTN_STATUS_NO_DEVICE, FATTN_STATUS_PTX_LOAD_FAILED, ...
        """
        library = library or load_library()
        handle = ctypes.c_void_p()
        library.check(library.lib.fattn_kernel_load(
            os.fsencode(manifest_path), ctypes.byref(handle)))
        return cls(library, handle.value, manifest_path)

    def _read_slices(self):
        count = ctypes.c_int64()
        capacity = self.info.num_slices
        values = (ctypes.c_int64 * (5 * max(1, capacity)))()
        self.library.check(self.library.lib.fattn_kernel_slices(
            self._handle, values, capacity, ctypes.byref(count)))
        return [Slice(*values[5 * i:5 * i + 5]) for i in range(count.value)]

    def _read_params(self):
        count = ctypes.c_int64()
        self.library.check(self.library.lib.fattn_kernel_num_params(
            self._handle, ctypes.byref(count)))
        params = []
        for index in range(count.value):
            raw = ParamInfoStruct()
            self.library.check(self.library.lib.fattn_kernel_param(
                self._handle, index, ctypes.byref(raw)))
            params.append(KernelParam.from_struct(raw))
        return params

    def _check_open(self):
        if self._handle is None:
            raise ValueError(f"kernel {self.manifest_path} is closed")

    @property
    def handle(self):
        """The fattn_kernel * as an int, for calling the C API directly."""
        self._check_open()
        return self._handle

    @property
    def closed(self):
        """True after close() or detach(): the handle is gone."""
        return self._handle is None

    def close(self):
        """Unloads the module (fattn_kernel_destroy). Idempotent."""
        self._finalizer()
        self._handle = None

    def detach(self):
        """Gives up ownership without unloading and returns the handle.

        For when the CUDA context is known to be lost (a kernel faulted):
        unloading would then only touch a dead context. The object is closed
        afterwards.
        """
        handle = self.handle
        self._finalizer.detach()
        self._handle = None
        return handle

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        if self.closed:
            return f"<fattn.Kernel {self.manifest_path} (closed)>"
        info = self.info
        return (f"<fattn.Kernel {info.kernel_name} from {self.manifest_path}:"
                f" {info.dtype} q{info.q_shape} kv{info.kv_shape}, "
                f"{len(self.slices)} slices>")

    def check_arguments(self, q, k, v, out, lse):
        """Raises ValueError (TypeError for non-tensors) unless the five
        tensors are what the kernel reads and writes: contiguous CUDA
        tensors on one device, q and out (num_q, heads_q, head_dim), k and v
        (num_k, heads_k, head_dim) of the kernel's dtype, lse (num_q,
        heads_q) float32."""
        self.check_tensors(dict(q=q, k=k, v=v, out=out, lse=lse))

    def check_tensors(self, tensors):
        """check_arguments for any kernel: TENSORS maps every parameter's
        name to a tensor of the parameter's dtype and shape (self.params)."""
        names = [param.name for param in self.params]
        if sorted(tensors) != sorted(names):
            raise ValueError(f"the kernel takes {', '.join(names)}; got "
                             f"{', '.join(tensors) or 'nothing'}")
        device = None
        for param in self.params:
            tensor = tensors[param.name]
            dtype_name = TORCH_DTYPE_NAMES.get(param.dtype, param.dtype)
            _check_tensor(param.name, tensor, param.shape, dtype_name, device)
            device = device or tensor.device

    def launch(self, q, k, v, out, lse, stream=None):
        """Enqueues the kernel: out and lse receive the attention of q over
        k, v under the kernel's mask. Asynchronous, on STREAM (a
        torch.cuda.Stream, a CUstream int, or None for torch's current
        stream; see _stream_handle). Checks the tensors first
        (check_arguments); a failure of the launch itself raises FattnError.
        """
        self.launch_tensors(dict(q=q, k=k, v=v, out=out, lse=lse),
                            stream=stream)

    def launch_tensors(self, tensors, stream=None):
        """launch() for any kernel: TENSORS maps each parameter's name to its
        tensor (check_tensors); they are passed in the manifest's order."""
        handle = self.handle
        self.check_tensors(tensors)
        pointers = (ctypes.c_void_p * len(self.params))(
            *[tensors[param.name].data_ptr() for param in self.params])
        first = tensors[self.params[0].name]
        self.library.check(self.library.lib.fattn_kernel_launch_params(
            handle, pointers, len(self.params),
            _stream_handle(stream, first.device)))

    def launch_ranges(self, q, k, v, out, lse, q_ranges, k_ranges,
                      kinds=None, scale=None, softcap=None, stream=None):
        """launch() for a kernel compiled for a run-time mask: the mask is
        Q_RANGES and K_RANGES ((N, 2) int32, [begin, end) rows) and KINDS (N
        int32 codes, None: all full) as host (CPU) tensors or sequences, the
        token and head counts q's and k's first two dimensions, SCALE the
        softmax scale (0: 1/sqrt(head_dim)) and SOFTCAP the softcap (0:
        none); None means the kernel's own where it fixes one (else the
        default, 1/sqrt(head_dim) and no softcap). A kernel compiled for
        fixed counts, scale or softcap takes only calls that agree, and one
        compiled with a softcap needs one.
        The runtime validates the slices, plans them and copies the plan on
        STREAM before the launch (fattn_kernel_launch_ranges)."""
        handle = self.handle
        num_q, num_k, heads_q, heads_k = _check_call(self, q, k, v, out, lse)
        q_array, k_array, kinds_array, count = _range_arrays(
            q_ranges, k_ranges, kinds)
        scale, softcap = _call_scalars(self.info, scale, softcap)
        self.library.check(self.library.lib.fattn_kernel_launch_ranges(
            handle, q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr(),
            lse.data_ptr(), q_array, k_array, kinds_array, count, num_q,
            num_k, heads_q, heads_k, scale, softcap,
            _stream_handle(stream, q.device)))

    def device_plan_status(self):
        """Waits for the stream of the last call planned on the GPU with
        this kernel first (launch_device_ranges) and raises FattnError
        naming the slice and the value if it was refused (its out and lse
        are then NaN)."""
        self.library.check(
            self.library.lib.fattn_kernel_device_plan_status(self.handle))

    def plan_ranges(self, q_ranges, k_ranges, kinds, num_q, num_k):
        """What launch_ranges would plan for this mask and these token
        counts, without launching: a dict of schedule_bytes, num_slots and
        max_items (fattn_kernel_plan_ranges). Raises FattnError as
        launch_ranges would."""
        handle = self.handle
        q_array, k_array, kinds_array, count = _range_arrays(
            q_ranges, k_ranges, kinds)
        values = [ctypes.c_int64() for _ in range(3)]
        self.library.check(self.library.lib.fattn_kernel_plan_ranges(
            handle, q_array, k_array, kinds_array, count, num_q, num_k,
            *[ctypes.byref(value) for value in values]))
        return dict(zip(("schedule_bytes", "num_slots", "max_items"),
                        (value.value for value in values)))

    def attention(self, q, k, v, stream=None):
        """Returns (out, lse), freshly allocated with torch and computed by
        launch() on STREAM. Rows with no attended key get out 0 and lse
        -inf (docs/spec.md section 1)."""
        import torch

        self._check_open()  # Before anything is allocated.
        info = self.info
        dtype_name = TORCH_DTYPE_NAMES.get(info.dtype, info.dtype)
        # Checked before allocating: a q that is not a CUDA tensor would
        # otherwise fail inside torch.empty, with torch's message, not ours.
        _check_tensor("q", q, info.q_shape, dtype_name, None)
        out = torch.empty(info.q_shape, dtype=q.dtype, device=q.device)
        lse = torch.empty(info.lse_shape, dtype=torch.float32,
                          device=q.device)
        self.launch(q, k, v, out, lse, stream=stream)
        return out, lse

    __call__ = attention
