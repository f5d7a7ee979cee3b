#!/usr/bin/env python3
"""adversarial-ranges.py DIR: the run-time calls the sanitizer stage runs.

Writes DIR/NAME.ranges in fattn-launch --ranges' format ("tokens NUM_Q
NUM_K", "heads HQ HK", optionally "scale S", then "Q_BEGIN Q_END K_BEGIN
K_END KIND" a line) for the inputs a careless or hostile caller can give a
run-time-mask kernel. Files named refused-* must be refused before any
launch (fattn-launch exits 2 naming the slice or the value); the others
must run, pass the check and stay memcheck-clean. The kernel they run
takes its heads and scale per call, has head dim 64 and max-items-per-tile
of at least 1024 (stage-device.sh --adversarial).
"""
import os
import sys

FULL, CAUSAL, INV_CAUSAL, BI_CAUSAL = 0, 1, 2, 3


def cases():
    yield "refused-past-the-end", (1000, 1000), [(0, 1001, 0, 1000, FULL)]
    yield "refused-negative", (1000, 1000), [(-1, 10, 0, 10, FULL)]
    yield "refused-reversed", (1000, 1000), [(0, 10, 0, 10, FULL),
                                             (10, 5, 0, 10, CAUSAL)]
    yield "refused-keys-past-the-end", (64, 64), [(0, 64, 60, 65, FULL)]
    yield "no-slices", (1000, 1000), []
    yield "no-tokens", (0, 0), []
    yield "no-keys", (300, 0), [(0, 300, 0, 0, FULL)]
    # One slice a query row: 100,000 slices, 128 of them in each query tile.
    yield "hundred-thousand-slices", (100000, 100000), [
        (i, i + 1, i, i + 1, FULL) for i in range(100000)]
    # One row attending through 1,000 slices of 5 keys each.
    yield "one-row-thousand-slices", (300, 5000), [
        (100, 101, 5 * i, 5 * i + 5, FULL) for i in range(1000)]
    # Three copies of one slice: each shared cell weighs three times.
    yield "overlap-three-copies", (200, 200), [(0, 200, 0, 200, CAUSAL)] * 3
    yield "length-one", (1, 1), [(0, 1, 0, 1, FULL)]
    # Lengths that are no multiple of any tile, every kind.
    yield "ragged-every-kind", (1000, 777), [
        (0, 333, 0, 777, CAUSAL), (333, 500, 100, 301, INV_CAUSAL),
        (500, 999, 0, 777, BI_CAUSAL), (999, 1000, 776, 777, FULL)]


# The call's heads and scale: (2, 1) and the default unless listed.
HEADS = {
    "refused-heads-not-a-multiple": (3, 2),
    "refused-no-heads": (0, 1),
    "many-heads-gqa": (24, 3),
}
SCALES = {"many-heads-gqa": 0.3, "refused-negative-scale": -1.0}


def call_cases():
    yield from cases()
    yield "refused-heads-not-a-multiple", (100, 100), [(0, 100, 0, 100, FULL)]
    yield "refused-no-heads", (100, 100), [(0, 100, 0, 100, FULL)]
    yield "refused-negative-scale", (100, 100), [(0, 100, 0, 100, FULL)]
    yield "many-heads-gqa", (300, 400), [(0, 300, 0, 400, CAUSAL)]


def main():
    if len(sys.argv) != 2:
        print("usage: adversarial-ranges.py DIR", file=sys.stderr)
        return 2
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    for name, (num_q, num_k), slices in call_cases():
        with open(os.path.join(folder, name + ".ranges"), "w") as file:
            file.write(f"tokens {num_q} {num_k}\n")
            file.write("heads %d %d\n" % HEADS.get(name, (2, 1)))
            if name in SCALES:
                file.write(f"scale {SCALES[name]!r}\n")
            for slice_ in slices:
                file.write(" ".join(map(str, slice_)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
