#!/usr/bin/env python3
"""The programs test_gpu.py runs, and staging them for a GPU machine.

The GPU machines have PyTorch and a driver but no LLVM/MLIR, so fattn-run
cannot compile there: kernels are compiled on the compiler machine and
carried over, as scripts/stage-device.sh does for the benchmark. On the
compiler machine:

    python3 python/tests/gpu_programs.py build-stage/python-kernels

writes every program below and compiles it into that folder; on the GPU
machine, point the tests at it:

    FATTN_TEST_KERNELS=build-stage/python-kernels \\
        python3 -m unittest discover -s python/tests -v

Without FATTN_TEST_KERNELS, test_gpu.py compiles the programs itself when
fattn-run is at hand (a machine with both a GPU and LLVM).

Each program states its mask twice: as the slices written into the program
(or the fattn-synth flags that produce it) and as `attends(row, key)`, a
definition the tests turn into the boolean mask of their fp64 reference, so
that the compiled kernel is checked end to end against something it did not
produce.
"""

import os
import subprocess
import sys
from collections import namedtuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

import fattn  # noqa: E402

REPO_ROOT = fattn.library.REPO_ROOT

# slices: written into the program text; None for fattn-synth programs.
# synth_flags: fattn-synth's mask flags (--mask, --window, ...) otherwise.
# attends(row, key) -> bool: the mask's definition, independent of slices
# (None: take docs/spec.md section 1 over `slices`).
GpuProgram = namedtuple(
    "GpuProgram", "name dtype num_q num_k heads_q heads_k head_dim slices "
    "synth_flags attends scale softcap")


def _window_attends(window):
    def attends(row, key):
        return (row - window < key) & (key <= row)
    return attends


SLIDING_WINDOW = 100

PROGRAMS = [
    # examples/causal.mlir in bf16: GQA 8:2, D = 64.
    GpuProgram("py-causal-bf16-d64", "bf16", 1024, 1024, 8, 2, 64,
               [(0, 1024, 0, 1024, fattn.CAUSAL)], None, None, None, None),
    # Every kind, Sq != Sk globally and per slice, a query row in two slices
    # (rows 150..199), key-less rows (200..279 partly, 280..299 wholly), D =
    # 128, f16, a scale of its own.
    GpuProgram("py-mixed-f16-d128", "f16", 300, 500, 4, 2, 128,
               [(0, 100, 0, 50, fattn.FULL),
                (0, 100, 50, 170, fattn.CAUSAL),
                (100, 200, 200, 330, fattn.INV_CAUSAL),
                (150, 280, 330, 500, fattn.BI_CAUSAL)],
               None, None, 0.05, None),
    # examples/shared_question.mlir's shape of mask in bf16, D = 128, MQA.
    GpuProgram("py-shared-question-bf16-d128", "bf16", 1024, 1024, 8, 1,
               128,
               [(0, 256, 0, 256, fattn.CAUSAL),
                (256, 512, 0, 256, fattn.FULL),
                (256, 512, 256, 512, fattn.CAUSAL),
                (512, 1024, 0, 256, fattn.FULL),
                (512, 1024, 512, 1024, fattn.CAUSAL)],
               None, None, None, None),
    # fattn-synth's sliding window with a softcap: row i attends keys
    # (i - 100, i].
    GpuProgram("py-window-softcap-bf16-d128", "bf16", 640, 640, 4, 2, 128,
               None, ["--mask=sliding-window", f"--window={SLIDING_WINDOW}"],
               _window_attends(SLIDING_WINDOW), None, 30.0),
]


# The attentions test_gpu.py calls flex_flash_attn_func and
# flash_attn_varlen_func with: (dtype, heads_q, heads_k, head_dim, scale,
# softcap). Entries 0, 3, 4 and 5 share one kernel (bf16, D = 64, no
# softcap).
RUNTIME_CALLS = [
    ("bf16", 8, 2, 64, 0.125, 0.0),
    ("f16", 4, 2, 128, 0.05, 0.0),
    ("bf16", 4, 4, 128, 1 / 128 ** 0.5, 30.0),
    ("bf16", 32, 4, 64, 0.3, 0.0),
    ("bf16", 16, 16, 64, 0.125, 0.0),
    ("bf16", 3, 1, 64, 0.01, 0.0),
]
# The kernels those calls need, (dtype, head_dim, softcapped), staged as
# run-time-mask kernels of item classes 1 and 4.
RUNTIME_ATTENTIONS = sorted({(dtype, head_dim, softcap > 0)
                             for dtype, _, _, head_dim, _, softcap
                             in RUNTIME_CALLS})
RUNTIME_ITEM_CLASSES = (1, 4)


def _f32_literal(value):
    return "%.9e" % value


def program_text(program):
    """The MLIR of a program with written slices, in the form of examples/
    (and of fattn-synth's output)."""
    q_type = (f"tensor<{program.num_q}x{program.heads_q}x"
              f"{program.head_dim}x{program.dtype}>")
    kv_type = (f"tensor<{program.num_k}x{program.heads_k}x"
               f"{program.head_dim}x{program.dtype}>")
    lse_type = f"tensor<{program.num_q}x{program.heads_q}xf32>"
    mask = ", ".join(f"{fattn.KIND_NAMES[kind]} [{qb}:{qe}, {kb}:{ke}]"
                     for qb, qe, kb, ke, kind in program.slices)
    attributes = []
    if program.scale is not None:
        attributes.append(f"scale = {_f32_literal(program.scale)} : f32")
    if program.softcap is not None:
        attributes.append(f"softcap = {_f32_literal(program.softcap)} : f32")
    attribute_text = " {" + ", ".join(attributes) + "}" if attributes else ""
    return (
        f"func.func @attention(%q: {q_type}, %k: {kv_type}, %v: {kv_type})"
        f" -> ({q_type}, {lse_type}) {{\n"
        f"  %out = tensor.empty() : {q_type}\n"
        f"  %lse = tensor.empty() : {lse_type}\n"
        f"  %o, %l = fattn.attention\n"
        f"      ins(%q, %k, %v : {q_type}, {kv_type}, {kv_type})\n"
        f"      outs(%out, %lse : {q_type}, {lse_type})\n"
        f"      mask <{mask}>{attribute_text}\n"
        f"      -> {q_type}, {lse_type}\n"
        f"  return %o, %l : {q_type}, {lse_type}\n"
        "}\n")


def find_fattn_synth():
    """$FATTN_SYNTH, else <repo>/build/bin/fattn-synth; None if neither."""
    for path in (os.environ.get("FATTN_SYNTH"),
                 os.path.join(REPO_ROOT, "build", "bin", "fattn-synth")):
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def write_program(program, directory):
    """Writes DIRECTORY/NAME.mlir and returns its path. Raises FattnError if
    the program needs fattn-synth and it is missing or fails."""
    path = os.path.join(directory, program.name + ".mlir")
    if program.slices is not None:
        with open(path, "w") as file:
            file.write(program_text(program))
        return path
    synth = find_fattn_synth()
    if synth is None:
        raise fattn.FattnError("fattn-synth not found (set FATTN_SYNTH)")
    command = [synth, *program.synth_flags, f"--seq={program.num_q}",
               f"--keys={program.num_k}", f"--heads-q={program.heads_q}",
               f"--heads-k={program.heads_k}",
               f"--head-dim={program.head_dim}", f"--dtype={program.dtype}",
               "-o", path]
    if program.softcap is not None:
        command.append(f"--softcap={program.softcap}")
    process = subprocess.run(command, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, check=False)
    if process.returncode != 0:
        raise fattn.FattnError(f"{' '.join(command)} failed: "
                               f"{process.stderr.strip()}")
    return path


def stage(directory):
    """Writes and compiles every program into DIRECTORY (the programs into
    DIRECTORY/programs); returns {name: manifest path}."""
    programs_dir = os.path.join(directory, "programs")
    os.makedirs(programs_dir, exist_ok=True)
    manifests = {}
    for program in PROGRAMS:
        path = write_program(program, programs_dir)
        manifests[program.name] = fattn.compile_program(
            path, directory).manifest_path
    for attention in RUNTIME_ATTENTIONS:
        for items in RUNTIME_ITEM_CLASSES:
            manifests[fattn.runtime_kernel_name(*attention, items)] = (
                fattn.functional.compile_runtime_kernel(attention, items,
                                                        directory))
    return manifests


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        print(f"usage: {argv[0]} KERNELS_DIR", file=sys.stderr)
        return 2
    for name, manifest in stage(argv[1]).items():
        print(f"staged {name}: {manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
