"""Finding and loading libfattn_runtime.so, and calling its C API.

The bindings are plain ctypes so that the package needs no compiler on the
GPU machines, where the runtime is built alone (runtime/CMakeLists.txt) and
no Python extension toolchain is guaranteed. Prototypes mirror
include/FlashDialect/Runtime/fattn_runtime.h; keep the two in step.
"""

import ctypes
import os
import threading

from .errors import FattnError

LIBRARY_ENV = "FATTN_RUNTIME_LIB"

# The repository root, for the build trees' default locations: this file is
# <repo>/python/fattn/library.py.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# fattn_dtype codes to the names manifests and fattn tools use.
DTYPE_NAMES = {0: "f32", 1: "f16", 2: "bf16"}


class KernelInfoStruct(ctypes.Structure):
    """fattn_kernel_info_t, field for field."""

    _fields_ = [("kernel_name", ctypes.c_char_p),
                ("grid", ctypes.c_uint * 3),
                ("block", ctypes.c_uint * 3),
                ("shared_bytes", ctypes.c_uint),
                ("dtype", ctypes.c_int),
                ("num_q", ctypes.c_int64), ("num_k", ctypes.c_int64),
                ("heads_q", ctypes.c_int64), ("heads_k", ctypes.c_int64),
                ("head_dim", ctypes.c_int64),
                ("scale", ctypes.c_double), ("softcap", ctypes.c_double),
                ("num_slices", ctypes.c_int64),
                ("attended_pairs", ctypes.c_int64),
                ("flops", ctypes.c_double),
                ("q_bytes", ctypes.c_int64), ("kv_bytes", ctypes.c_int64),
                ("out_bytes", ctypes.c_int64), ("lse_bytes", ctypes.c_int64),
                ("num_registers", ctypes.c_int),
                ("runtime_mask", ctypes.c_int)]


MAX_PARAM_RANK = 8


class ParamInfoStruct(ctypes.Structure):
    """fattn_param_info_t, field for field."""

    _fields_ = [("name", ctypes.c_char_p),
                ("role", ctypes.c_int),
                ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int),
                ("extents", ctypes.c_int64 * MAX_PARAM_RANK),
                ("bytes", ctypes.c_int64)]


class DeviceMaskStruct(ctypes.Structure):
    """fattn_device_mask_t, field for field: device pointers (0 for none)."""

    _fields_ = [("q_ranges", ctypes.c_void_p),
                ("k_ranges", ctypes.c_void_p),
                ("kinds", ctypes.c_void_p),
                ("cu_seqlens_q", ctypes.c_void_p),
                ("cu_seqlens_k", ctypes.c_void_p),
                ("seqlens_kind", ctypes.c_int32),
                ("count", ctypes.c_int64)]


def default_library_paths():
    """Where load_library looks when given no path, in order.

    The GPU machines' standalone runtime build (build-rt) comes first: where
    both trees exist, build-rt is the one built against the local driver.
    """
    paths = []
    from_env = os.environ.get(LIBRARY_ENV)
    if from_env:
        paths.append(from_env)
    for build_dir in ("build-rt", "build"):
        paths.append(os.path.join(REPO_ROOT, build_dir, "lib",
                                  "libfattn_runtime.so"))
    return paths


class Library:
    """libfattn_runtime.so with its prototypes declared.

    Without argtypes ctypes would pass Python ints as C ints and truncate
    64-bit pointers and sizes, so every function used is declared here.
    """

    def __init__(self, path):
        self.path = path
        try:
            self.lib = ctypes.CDLL(path)
        except OSError as error:
            raise FattnError(f"cannot load {path}: {error}") from error
        lib = self.lib
        int64_p = ctypes.POINTER(ctypes.c_int64)
        lib.fattn_kernel_load.argtypes = [ctypes.c_char_p,
                                          ctypes.POINTER(ctypes.c_void_p)]
        lib.fattn_kernel_launch.argtypes = [ctypes.c_void_p] * 7
        lib.fattn_kernel_launch_params.argtypes = [
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int64,
            ctypes.c_void_p]
        int32_p = ctypes.POINTER(ctypes.c_int32)
        lib.fattn_kernel_launch_ranges.argtypes = (
            [ctypes.c_void_p] * 6 + [int32_p] * 3 + [ctypes.c_int64] * 5 +
            [ctypes.c_double] * 2 + [ctypes.c_void_p])
        lib.fattn_kernels_launch_device_ranges.argtypes = (
            [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int64] +
            [ctypes.c_void_p] * 5 + [ctypes.POINTER(DeviceMaskStruct)] +
            [ctypes.c_int64] * 4 + [ctypes.c_double] * 2 + [ctypes.c_void_p])
        lib.fattn_kernel_device_plan_status.argtypes = [ctypes.c_void_p]
        lib.fattn_kernel_plan_ranges.argtypes = (
            [ctypes.c_void_p] + [int32_p] * 3 + [ctypes.c_int64] * 3 +
            [int64_p] * 3)
        lib.fattn_kernel_num_params.argtypes = [ctypes.c_void_p, int64_p]
        lib.fattn_kernel_param.argtypes = [ctypes.c_void_p, ctypes.c_int64,
                                           ctypes.POINTER(ParamInfoStruct)]
        lib.fattn_kernel_info.argtypes = [ctypes.c_void_p,
                                          ctypes.POINTER(KernelInfoStruct)]
        lib.fattn_kernel_slices.argtypes = [ctypes.c_void_p, int64_p,
                                            ctypes.c_int64, int64_p]
        lib.fattn_kernel_destroy.argtypes = [ctypes.c_void_p]
        lib.fattn_kernel_destroy.restype = None
        lib.fattn_mask_count_pairs.argtypes = [
            int64_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, int64_p]
        lib.fattn_mask_same_pairs.argtypes = [
            int64_p, ctypes.c_int64, int64_p, ctypes.c_int64, ctypes.c_int64,
            ctypes.c_int64, ctypes.POINTER(ctypes.c_int)]
        lib.fattn_last_error.argtypes = []
        lib.fattn_last_error.restype = ctypes.c_char_p
        lib.fattn_status_name.argtypes = [ctypes.c_int]
        lib.fattn_status_name.restype = ctypes.c_char_p

    def check(self, status):
        """Raises FattnError for a failing STATUS.

        Must run right after the failing call, on the same thread: the C API
        keeps one last-error message per thread, overwritten by the next call.
        """
        if status == 0:
            return
        name = self.lib.fattn_status_name(status)
        message = self.lib.fattn_last_error()
        raise FattnError(message.decode(errors="replace") if message else "",
                         status=(name.decode() if name
                                 else f"FATTN_STATUS_{status}"),
                         status_code=status)

    def __repr__(self):
        return f"Library({self.path!r})"


_loaded = {}
_loaded_lock = threading.Lock()


def load_library(path=None):
    """The runtime library at PATH, else at the first of
    default_library_paths() that exists.

    Libraries are cached by real path, so that kernels and mask helpers
    called without a library share one handle and one set of prototypes.
    Raises FattnError naming every path tried when none exists.
    """
    candidates = [path] if path else default_library_paths()
    for candidate in candidates:
        if os.path.isfile(candidate):
            real = os.path.realpath(candidate)
            with _loaded_lock:
                if real not in _loaded:
                    _loaded[real] = Library(real)
                return _loaded[real]
    hint = ("" if path else f" (set {LIBRARY_ENV}, or build it: "
            "ninja -C build fattn_runtime)")
    raise FattnError("libfattn_runtime.so not found; tried " +
                     ", ".join(candidates) + hint)
