#!/usr/bin/env python3
"""build-kernels.py DIR: the ahead-of-time run-time-mask kernel set.

Compiles fattn.functional.AOT_KERNELS x AOT_ITEM_CLASSES with fattn-synth
and fattn-run ($FATTN_RUN / $FATTN_SYNTH, else build/bin) into DIR, named as
fattn.flex_flash_attn_func looks them up, so that a GPU machine without LLVM
runs any mask, length, head count, scale and softcap with them. The build runs it as the
target fattn-kernels (DIR = build/kernels); carry DIR to the GPU machine.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "python"))

from fattn import functional  # noqa: E402


def main(argv):
    if len(argv) != 2:
        print("usage: build-kernels.py DIR", file=sys.stderr)
        return 2
    start = time.monotonic()
    try:
        manifests = functional.build_kernel_set(argv[1])
    except functional.FattnError as error:
        print(f"build-kernels.py: {error}", file=sys.stderr)
        return 1
    print(f"build-kernels.py: {len(manifests)} kernels in {argv[1]} "
          f"({time.monotonic() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
