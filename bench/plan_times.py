#!/usr/bin/env python3
"""Planning time of run-time masks, host against GPU, for N = 1 ... 10,000
slices and S = 4096 ... 1,048,576 (issue 9): each call is written as a
fattn-launch --ranges file and run with --device-plan, which plans it on the
host (lib/Mask) and on the GPU (the planning kernel), checks that the two
plans are equal word for word, runs the kernel once on the GPU's plan, and
reports both times.

  python3 bench/plan_times.py --launch build-rt/bin/fattn-launch \\
      --kernels STAGED/kernels [--seqlens 4096 65536 1048576]

Masks: causal (one slice), varlen causal (documents of 256-4096 tokens, as
the benchmark's) and random slices: N slices over N consecutive row
segments (a query tile meets about N * 128 / S + 1 of them), each attending
a random key range of at most 4096 keys with a random kind. The kernel of
each call is the smallest item class staged (bench-runtime-i1,
bench-runtime, -i256, -i1024) that holds its plan.
"""

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench import default_documents, varlen_slices  # noqa: E402

CAUSAL = 1
# Item classes 1, 4, 256, 1024 (stage-device.sh --bench).
CLASSES = ["bench-runtime-i1", "bench-runtime", "bench-runtime-i256",
           "bench-runtime-i1024"]
HOST = re.compile(r"^plan: ([0-9.]+) us on the host, (\d+) launch slots, "
                  r"(\d+) bytes", re.M)
DEVICE = re.compile(r"^device plan: equal to the host plan, ([0-9.]+) us",
                    re.M)


def random_slices(seqlen, count, rng):
    count = min(count, seqlen)
    cuts = sorted(rng.sample(range(1, seqlen), count - 1)) if count > 1 else []
    bounds = [0] + cuts + [seqlen]
    slices = []
    for begin, end in zip(bounds, bounds[1:]):
        width = rng.randint(1, min(seqlen, 4096))
        k_begin = rng.randint(0, seqlen - width)
        slices.append((begin, end, k_begin, k_begin + width,
                       rng.randint(0, 3)))
    return slices


def masks(seqlen):
    rng = random.Random(seqlen)
    yield "causal", [(0, seqlen, 0, seqlen, CAUSAL)]
    yield "varlen causal", varlen_slices(default_documents(seqlen), True)
    for count in (10, 100, 1000, 10000):
        yield f"random {count}", random_slices(seqlen, count, rng)


def write_call(path, seqlen, heads, slices):
    with open(path, "w") as file:
        file.write(f"tokens {seqlen} {seqlen}\nheads {heads} {heads}\n")
        for slice_ in slices:
            file.write(" ".join(map(str, slice_)) + "\n")


def plan(launch, kernels, path):
    """(kernel, host us, GPU us, slots, bytes) of the first class holding
    the call, or (None, why)."""
    last = ""
    for name in CLASSES:
        manifest = os.path.join(kernels, name + ".manifest")
        if not os.path.exists(manifest):
            continue
        result = subprocess.run([launch, manifest, "--ranges", path,
                                 "--device-plan"], capture_output=True,
                                text=True, check=False, timeout=300)
        output = result.stdout + result.stderr
        host, device = HOST.search(output), DEVICE.search(output)
        if result.returncode == 0 and host and device:
            return (name, float(host[1]), float(device[1]), int(host[2]),
                    int(host[3]))
        last = output.strip().splitlines()[-1] if output.strip() else ""
        if "work items" not in output:
            break
    return None, last


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launch", required=True)
    parser.add_argument("--kernels", required=True)
    parser.add_argument("--seqlens", type=int, nargs="+",
                        default=[4096, 65536, 1048576])
    args = parser.parse_args()
    print(f"{'mask':<15} {'S':>8} {'N':>6} {'host us':>9} {'GPU us':>8} "
          f"{'slots':>6} {'sched KB':>9} kernel")
    failed = False
    with tempfile.TemporaryDirectory() as directory:
        for seqlen in args.seqlens:
            heads = 16 if seqlen <= 65536 else 1
            for name, slices in masks(seqlen):
                path = os.path.join(directory, "call.ranges")
                write_call(path, seqlen, heads, slices)
                result = plan(args.launch, args.kernels, path)
                if result[0] is None:
                    failed = True
                    print(f"{name:<15} {seqlen:>8} {len(slices):>6} "
                          f"FAILED: {result[1]}")
                    continue
                kernel, host, device, slots, size = result
                print(f"{name:<15} {seqlen:>8} {len(slices):>6} {host:>9.1f} "
                      f"{device:>8.1f} {slots:>6} {size / 1024:>9.1f} "
                      f"{kernel}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
