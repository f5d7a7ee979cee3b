"""Compiling attention programs to GPU kernels with fattn-run.

The compiler is an LLVM/MLIR tool that lives on the compiler machine, not a
library the package links: compile_program runs it as a subprocess, exactly
as scripts/stage-device.sh does, so that Python sees the same kernels and the
same diagnostics as the command line.
"""

import os
import re
import subprocess
from collections import namedtuple

from .errors import CompileError, FattnError
from .library import REPO_ROOT

FATTN_RUN_ENV = "FATTN_RUN"

# fattn-run's report line "  gpu: KERNEL for CHIP, ..., compiled in 0.510 s";
# stage-device.sh reads the same line.
_COMPILED_IN = re.compile(r"compiled in ([0-9.]+) s")

CompiledProgram = namedtuple("CompiledProgram", "manifest_path compile_seconds")
CompiledProgram.__doc__ = """What compile_program produced.

manifest_path: DIR/<program stem>.manifest (its PTX lies beside it), ready
for Kernel.load. compile_seconds: the pipeline time fattn-run reports (mask
to PTX, process start-up excluded), or None if its output no longer carries
the "compiled in X s" line."""


def find_fattn_run(fattn_run=None):
    """The fattn-run executable: FATTN_RUN if given, else $FATTN_RUN, else
    <repo>/build/bin/fattn-run. Raises FattnError naming what was tried."""
    if fattn_run:
        candidates = [fattn_run]
    else:
        candidates = [path for path in (
            os.environ.get(FATTN_RUN_ENV),
            os.path.join(REPO_ROOT, "build", "bin", "fattn-run")) if path]
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise FattnError("fattn-run not found; tried " + ", ".join(candidates) +
                     ("" if fattn_run else
                      f" (set {FATTN_RUN_ENV}, or build it: "
                      "ninja -C build fattn-run)"))


def compile_program(program_path, emit_dir, *, fattn_run=None, chip=None,
                    block_q=None, block_k=None, warps=None, stages=None):
    """Compiles the fattn program PROGRAM_PATH (a .mlir file) to a GPU kernel
    in EMIT_DIR and returns a CompiledProgram.

    Runs `fattn-run PROGRAM --target=gpu --emit-dir EMIT_DIR` with the
    options given (None keeps fattn-run's default: sm_90a, 128x64 tiles, 4
    warps, 2 stages). Programs must be bf16 or f16. Where a GPU is present
    fattn-run also runs and checks the kernel, and a failed check fails the
    compile.

    Raises CompileError (a FattnError) carrying fattn-run's diagnostics when
    it fails or writes no manifest, FattnError when it is not found.
    """
    command = [find_fattn_run(fattn_run), os.fspath(program_path),
               "--target=gpu", "--emit-dir", os.fspath(emit_dir)]
    options = (("chip", chip), ("block-q", block_q), ("block-k", block_k),
               ("warps", warps), ("stages", stages))
    command += [f"--{flag}={value}" for flag, value in options
                if value is not None]
    process = subprocess.run(command, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, check=False)
    stem = os.path.splitext(os.path.basename(os.fspath(program_path)))[0]
    manifest_path = os.path.join(os.fspath(emit_dir), stem + ".manifest")
    if process.returncode != 0:
        diagnostics = process.stderr.strip() or process.stdout.strip()
        raise CompileError(f"fattn-run failed on {program_path} (exit "
                           f"{process.returncode}):\n{diagnostics}",
                           command, process.returncode, process.stdout,
                           process.stderr)
    if not os.path.isfile(manifest_path):
        raise CompileError(f"fattn-run succeeded but wrote no {manifest_path}",
                           command, process.returncode, process.stdout,
                           process.stderr)
    match = _COMPILED_IN.search(process.stdout)
    return CompiledProgram(manifest_path,
                           float(match.group(1)) if match else None)
