"""fattn from Python: range masks, compiled attention kernels, torch tensors.

    import fattn, torch
    compiled = fattn.compile_program("causal.mlir", "kernels")  # fattn-run
    with fattn.Kernel.load(compiled.manifest_path) as kernel:
        q = torch.randn(kernel.info.q_shape, dtype=torch.bfloat16,
                        device="cuda")
        ...
        out, lse = kernel(q, k, v)

    # Any mask and length, one kernel per (dtype, heads, head dim, scale,
    # softcap): MagiAttention's and FlashAttention's forward calls.
    out, lse = fattn.flex_flash_attn_func(q, k, v, q_ranges, k_ranges,
                                          attn_type_map=kinds)

A thin layer over libfattn_runtime.so (ctypes) and the fattn-run tool: the
mask semantics, the kernels and their checks all live in the C++ runtime, so
that Python, the command-line tools and the benchmark agree. Importing the
package loads nothing; the library is found on first use (see
load_library), and torch is imported only to allocate outputs.
"""

from .compiler import CompiledProgram, compile_program, find_fattn_run
from .errors import CompileError, FattnError
from .functional import (ITEM_CLASSES, flash_attn_varlen_func,
                         flex_flash_attn_func, kernel_dirs,
                         runtime_kernel_name, window_slices)
from .kernel import Kernel, KernelInfo, KernelParam
from .library import (DTYPE_NAMES, Library, default_library_paths,
                      load_library)
from .masks import (BI_CAUSAL, CAUSAL, FULL, INV_CAUSAL, KIND_NAMES, Slice,
                    count_pairs, same_pairs)

__all__ = [
    "BI_CAUSAL", "CAUSAL", "CompileError", "CompiledProgram", "DTYPE_NAMES",
    "FULL", "FattnError", "INV_CAUSAL", "ITEM_CLASSES", "KIND_NAMES", "Kernel",
    "KernelInfo", "KernelParam", "Library", "Slice", "compile_program",
    "count_pairs", "default_library_paths", "find_fattn_run",
    "flash_attn_varlen_func", "flex_flash_attn_func", "kernel_dirs",
    "load_library", "runtime_kernel_name", "same_pairs", "window_slices",
]
