#!/usr/bin/env python3
"""Times the compiler's and the runtime's front doors on the inputs that used
to take minutes (issue 7): masks of 100,000 slices, lengths of 2^31 - 1 and
manifests of 100,000 slices. Each case runs the real tool once and prints the
wall time; bench/NOTES.md records the figures.

    bench/front_door.py [--bin build/bin]
"""

import argparse
import os
import subprocess
import tempfile
import time


def attention(rows, keys, mask, dtype="f32", heads=1, dim=64):
    q = f"tensor<{rows}x{heads}x{dim}x{dtype}>"
    k = f"tensor<{keys}x{heads}x{dim}x{dtype}>"
    lse = f"tensor<{rows}x{heads}xf32>"
    return (f"func.func @f(%q: {q}, %k: {k}, %v: {k}, %o: {q}, %l: {lse}) -> ({q}, {lse}) {{\n"
            f"  %r:2 = fattn.attention ins(%q, %k, %v : {q}, {k}, {k}) outs(%o, %l : {q}, {lse}) "
            f"mask <{mask}> -> {q}, {lse}\n"
            f"  return %r#0, %r#1 : {q}, {lse}\n}}\n")


def manifest(rows, slices):
    head = ("fattn-manifest 1\nkernel k0\nptx k.ptx\ngrid 1 1 1\nblock 128 1 1\n"
            f"shared 0\nparams q k v out lse\ndtype bf16\nshape {rows} {rows} 1 1 64\n"
            "scale 0.125\nsoftcap 0\n")
    return head + "".join(f"slice {a} {b} {c} {d} {kind}\n" for a, b, c, d, kind in slices)


def cases():
    n = 100_000
    rows = ", ".join(f"full [{i}:{i + 1}, 0:{i + 1}]" for i in range(n))
    stripes = ", ".join(f"full [0:{n}, {i}:{i + 1}]" for i in range(n))
    blocks = ", ".join(f"full [{2 * i}:{2 * i + 2}, {2 * i}:{2 * i + 2}]" for i in range(n))
    big = 2**31 - 1
    yield "100k one-row slices (merge to 1 causal)", "opt", attention(n, n, rows)
    yield "100k one-key stripes (merge to 1 full)", "opt", attention(n, n, stripes)
    yield "100k diagonal blocks (no merge)", "opt", attention(2 * n, 2 * n, blocks)
    yield "2^31-1 rows, causal", "opt", attention(big, big, f"causal [0:{big}, 0:{big}]", "bf16", 1, 8)
    yield ("2^31-1 rows, two slices overlapping at one cell", "opt-fail",
           attention(big, big, f"bi_causal [0:{big}, 0:{big}], full [{big - 7}:{big - 6}, 0:{big}]",
                     "bf16", 1, 8))
    yield ("manifest, 100k one-row slices, --info", "info",
           manifest(n, [(i, i + 1, 0, i + 1, 0) for i in range(n)]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        for name, tool, text in cases():
            path = os.path.join(scratch, "case.manifest" if tool == "info" else "case.mlir")
            with open(path, "w") as f:
                f.write(text)
            if tool == "info":
                command = [os.path.join(args.bin, "fattn-launch"), path, "--info"]
            else:
                command = [os.path.join(args.bin, "fattn-opt"), path, "--fattn-normalize-mask",
                           "-o", os.devnull]
            start = time.perf_counter()
            result = subprocess.run(command, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            expected = 1 if tool == "opt-fail" else 0
            verdict = "ok" if result.returncode == expected else f"UNEXPECTED exit {result.returncode}"
            print(f"{name:50s} {seconds:7.3f} s  {verdict}  ({len(text) / 1e6:.1f} MB input)")
            if result.returncode != expected or tool == "opt-fail":
                print("   ", (result.stderr or result.stdout).strip().splitlines()[0][:160])


if __name__ == "__main__":
    main()
