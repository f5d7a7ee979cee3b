#!/usr/bin/env bash
#===- stage-device.sh - Compile kernels for the GPU machine ----------------===#
#
# Run on the compiler machine (LLVM/MLIR, no GPU), from the repository root:
#
#   bash scripts/stage-device.sh [--bench] [--python] [--adversarial] BUILD_DIR STAGED_DIR [PROGRAM.mlir ...]
#
# Compiles each PROGRAM with
#   BUILD_DIR/bin/fattn-run PROGRAM --target=gpu --emit-dir STAGED_DIR/kernels
# which writes STAGED_DIR/kernels/NAME.ptx and NAME.manifest (NAME is the
# program's file name without .mlir), and records the compile time fattn-run
# reports as a "NAME SECONDS" line of STAGED_DIR/kernels/compile-seconds.txt
# (bench.py prints it). With --bench it first writes the
# benchmark's programs, STAGED_DIR/programs/bench-<family>-<S>.mlir for every
# case that `bench/bench.py --list-cases` lists, with BUILD_DIR/bin/fattn-synth
# (Hq = Hk = 16, D = 128, bf16, sliding window 1024, blocks of 2048), and
# compiles them too, and the ahead-of-time run-time kernels into
# STAGED_DIR/aot-kernels (bench.py --aot-kernels); bench.py finds its
# kernels by those names. With
# BENCH_HEAD_DIM=64 the programs have D = 64 and names ending in -d64
# (bench.py --head-dim 64 looks for those), with BENCH_HEADS=H (default 16)
# H query and key/value heads and names ending in -h<H>; BENCH_CASES adds bench.py
# arguments to the case list (e.g. "--seqlens 131072 --families causal").
# With --python
# it also compiles the Python package's GPU test programs into
# STAGED_DIR/python-kernels (python/tests/gpu_programs.py), which
# device-run.sh's python stage hands to the tests.
#
# Then hand STAGED_DIR to the GPU machine with the repository and run
# `bash scripts/device-run.sh STAGED_DIR LOG_DIR` there (scripts/README.md).
#
# Extra fattn-run flags (e.g. --warps=4): FATTN_RUN_FLAGS, and for one
# program a first line "// fattn-run-flags: FLAGS". Exit status: 0 if
# every program compiled, 1 if some did not, 2 on usage errors.
#
#===------------------------------------------------------------------------===#

set -u -o pipefail

BENCH=0
PYTHON=0
ADVERSARIAL=0
while [ "${1:-}" = "--bench" ] || [ "${1:-}" = "--python" ] ||
  [ "${1:-}" = "--adversarial" ]; do
  [ "$1" = "--bench" ] && BENCH=1
  [ "$1" = "--python" ] && PYTHON=1
  [ "$1" = "--adversarial" ] && ADVERSARIAL=1
  shift
done
if [ $# -lt 2 ]; then
  echo "usage: bash scripts/stage-device.sh [--bench] [--python] BUILD_DIR STAGED_DIR [PROGRAM.mlir ...]" >&2
  exit 2
fi
BUILD_DIR=$1
STAGED_DIR=$2
shift 2
FATTN_RUN=$BUILD_DIR/bin/fattn-run
FATTN_SYNTH=$BUILD_DIR/bin/fattn-synth
FATTN_RUN_FLAGS=${FATTN_RUN_FLAGS:-}
BENCH_HEAD_DIM=${BENCH_HEAD_DIM:-128}
BENCH_HEADS=${BENCH_HEADS:-16}

if [ ! -x "$FATTN_RUN" ]; then
  echo "stage-device.sh: $FATTN_RUN not found; build first (ninja -C $BUILD_DIR)" >&2
  exit 2
fi
if [ $BENCH -eq 0 ] && [ $PYTHON -eq 0 ] && [ $ADVERSARIAL -eq 0 ] && [ $# -eq 0 ]; then
  echo "stage-device.sh: no programs given (and no --bench, --python or --adversarial)" >&2
  exit 2
fi
mkdir -p "$STAGED_DIR/kernels"

PROGRAMS=("$@")
if [ $BENCH -eq 1 ]; then
  if [ ! -x "$FATTN_SYNTH" ]; then
    echo "stage-device.sh: --bench needs $FATTN_SYNTH" >&2
    exit 2
  fi
  mkdir -p "$STAGED_DIR/programs"
  # shellcheck disable=SC2086 # BENCH_CASES is a list of arguments
  if ! cases=$(python3 bench/bench.py --list-cases --head-dim "$BENCH_HEAD_DIM" \
    --heads "$BENCH_HEADS" ${BENCH_CASES:-}) ||
    [ -z "$cases" ]; then
    echo "stage-device.sh: bench.py --list-cases listed no cases" >&2
    exit 1
  fi
  # And the run-time-mask kernels that run every case (bench.py's run-time
  # column): bench-runtime searches up to 4 slices a query tile,
  # bench-runtime-i1 one, -i256 and -i1024 as many (the random-slices rows
  # need them; bench.py takes the smallest class that holds a case).
  suffix=$([ "$BENCH_HEAD_DIM" = 128 ] || echo "-d$BENCH_HEAD_DIM")
  for items in 4 1 256 1024; do
    name=bench-runtime$([ "$items" = 4 ] || echo "-i$items")$suffix
    cases=$(printf '%s\nruntime %s %s' "$cases" "$items" "$name")
  done
  while read -r family seqlen name; do
    program=$STAGED_DIR/programs/$name.mlir
    size_flags=(--seq="$seqlen")
    [ "$family" = runtime ] && size_flags=(--seq=1 --max-items-per-tile="$seqlen")
    if ! "$FATTN_SYNTH" --mask="$family" "${size_flags[@]}" --heads-q="$BENCH_HEADS" \
      --heads-k="$BENCH_HEADS" --head-dim="$BENCH_HEAD_DIM" --dtype=bf16 --window=1024 \
      --block=2048 --slices=10000 -o "$program"; then
      echo "stage-device.sh: fattn-synth failed for $name" >&2
      exit 1
    fi
    PROGRAMS+=("$program")
  done <<<"$cases"
  # The ahead-of-time run-time kernels, for bench.py --aot-kernels (the
  # Python functions' column).
  if ! FATTN_RUN=$FATTN_RUN FATTN_SYNTH=$FATTN_SYNTH \
    python3 scripts/build-kernels.py "$STAGED_DIR/aot-kernels" >/dev/null; then
    echo "stage-device.sh: the ahead-of-time kernels did not build" >&2
    exit 1
  fi
fi

ok=0
failed=()
TIMES=$STAGED_DIR/kernels/compile-seconds.txt
touch "$TIMES"
for program in "${PROGRAMS[@]}"; do
  name=$(basename "$program" .mlir)
  log=$(mktemp)
  program_flags=$(sed -n '1s|^// fattn-run-flags: ||p' "$program")
  # shellcheck disable=SC2086 # the flags are lists of flags
  if "$FATTN_RUN" "$program" --target=gpu --emit-dir "$STAGED_DIR/kernels" \
    $FATTN_RUN_FLAGS $program_flags >"$log" 2>&1; then
    if [ -f "$STAGED_DIR/kernels/$name.manifest" ] &&
      [ -f "$STAGED_DIR/kernels/$name.ptx" ]; then
      ok=$((ok + 1))
      seconds=$(sed -n 's/.*compiled in \([0-9.]*\) s.*/\1/p' "$log" | head -1)
      grep -v "^$name " "$TIMES" >"$TIMES.new"
      echo "$name ${seconds:-?}" >>"$TIMES.new"
      mv "$TIMES.new" "$TIMES"
      echo "staged $name (compiled in ${seconds:-?} s)"
      rm -f "$log"
      continue
    fi
    echo "stage-device.sh: fattn-run wrote no $name.manifest/.ptx" >&2
  fi
  cat "$log" >&2
  rm -f "$log"
  failed+=("$name")
done

# The run-time kernel the adversarial calls run (device-run.sh's
# adversarial stage, scripts/adversarial-ranges.py): kept out of kernels/,
# which the check stage runs without a mask.
if [ $ADVERSARIAL -eq 1 ]; then
  mkdir -p "$STAGED_DIR/adversarial"
  program=$STAGED_DIR/adversarial/adversarial.mlir
  if "$FATTN_SYNTH" --mask=runtime --seq=1 --heads-q=2 --heads-k=1 \
    --head-dim=64 --dtype=bf16 --max-items-per-tile=1024 -o "$program" &&
    "$FATTN_RUN" "$program" --target=gpu --max-items-per-tile=1024 \
      --emit-dir "$STAGED_DIR/adversarial" >/dev/null &&
    python3 scripts/adversarial-ranges.py "$STAGED_DIR/adversarial"; then
    echo "stage-device.sh: adversarial kernel and calls in $STAGED_DIR/adversarial"
  else
    failed+=("adversarial")
  fi
fi

if [ $PYTHON -eq 0 ]; then
  :
elif FATTN_RUN=$FATTN_RUN FATTN_SYNTH=$FATTN_SYNTH \
  python3 python/tests/gpu_programs.py "$STAGED_DIR/python-kernels"; then
  echo "stage-device.sh: Python test kernels staged in $STAGED_DIR/python-kernels"
else
  failed+=("python-kernels")
fi

size=$(du -sm "$STAGED_DIR" | cut -f1)
echo "stage-device.sh: $ok of ${#PROGRAMS[@]} programs staged in $STAGED_DIR/kernels (${size} MiB)"
if [ "$size" -gt 48 ]; then
  echo "stage-device.sh: warning: a device call carries at most 64 MiB in all" >&2
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "stage-device.sh: failed: ${failed[*]}" >&2
  exit 1
fi
exit 0
