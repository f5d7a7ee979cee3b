#!/usr/bin/env bash
#===- device-run.sh - Build, test and benchmark fattn on a GPU machine -----===#
#
# Run from the repository root on the GPU machine (CMake, ninja, nvcc, g++,
# PyTorch; no LLVM/MLIR needed):
#
#   bash scripts/device-run.sh STAGED_DIR LOG_DIR
#
# STAGED_DIR is what scripts/stage-device.sh made on the compiler machine:
# STAGED_DIR/kernels/NAME.{manifest,ptx}. Stages, in order (STAGES selects):
#
#   build     the runtime alone: cmake -S runtime -B $BUILD_DIR, ninja
#   selftest  fattn-launch --self-test: the GPU reference against the CPU one
#   check     fattn-launch --check on every STAGED_DIR/kernels/*.manifest
#             (runtime-NAME with --mask-of NAME.manifest: a run-time mask)
#   sanitize  compute-sanitizer memcheck on the kernels whose name contains
#             "sanitize", else on the $SANITIZE_COUNT smallest (of those
#             whose name matches the glob $SANITIZE_MATCH, e.g. 'runtime-*')
#   adversarial  compute-sanitizer memcheck on the run-time calls of
#             STAGED_DIR/adversarial (stage-device.sh --adversarial): refused-*
#             must be refused before any launch (exit 2, run without the
#             sanitizer) and the others pass the check (its logs go to
#             sanitize.log)
#   python    the Python package's tests (python/tests) on the GPU, with the
#             kernels of STAGED_DIR/python-kernels (stage-device.sh --python)
#   bench     bench/bench.py with the staged kernels (peers only if none)
#
# LOG_DIR receives at most 8 files (what a device call can bring back):
# build.log check.log (self-test first) check.jsonl sanitize.log python.log
# bench.log bench.json summary.txt. The summary is printed last.
#
# Environment: STAGES (default build,selftest,check,sanitize,adversarial,
# python,bench),
# BUILD_DIR (build-rt), JOBS (nproc), SANITIZE_COUNT (3), SANITIZE_MATCH
# (*), CHECK_TIMEOUT
# (180 s a kernel), BENCH_TIMEOUT (420 s), BENCH_ARGS (extra bench.py
# arguments, e.g. "--seqlens 4096 --iters 10"), DEVICE_PLAN (1: run-time
# calls are planned on the GPU too, fattn-launch --device-plan, and the
# refused adversarial calls run under memcheck, refused alike on the GPU).
#
# Exit status: 0 when every stage that ran passed, 1 otherwise, 2 on usage.
#
#===------------------------------------------------------------------------===#

set -u -o pipefail

if [ $# -ne 2 ]; then
  echo "usage: bash scripts/device-run.sh STAGED_DIR LOG_DIR" >&2
  exit 2
fi
STAGED_DIR=$1
LOG_DIR=$2
STAGES=${STAGES:-build,selftest,check,sanitize,adversarial,python,bench}
BUILD_DIR=${BUILD_DIR:-build-rt}
JOBS=${JOBS:-$(nproc)}
SANITIZE_COUNT=${SANITIZE_COUNT:-3}
SANITIZE_MATCH=${SANITIZE_MATCH:-*}
CHECK_TIMEOUT=${CHECK_TIMEOUT:-180}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-420}
BENCH_ARGS=${BENCH_ARGS:-}
DEVICE_PLAN_ARG=""
[ "${DEVICE_PLAN:-0}" = 1 ] && DEVICE_PLAN_ARG=--device-plan
LAUNCH=$BUILD_DIR/bin/fattn-launch

if [ ! -f runtime/CMakeLists.txt ]; then
  echo "device-run.sh: run it from the repository root" >&2
  exit 2
fi
mkdir -p "$LOG_DIR"
SUMMARY=$LOG_DIR/summary.txt
: >"$SUMMARY"
STATUS=0

say() { echo "$*" | tee -a "$SUMMARY"; }
wants() { [[ ",$STAGES," == *",$1,"* ]]; }
# A kernel compiled for a run-time mask, runtime-NAME, runs with the mask,
# token and head counts, scale and softcap of the static kernel NAME
# (gpu-suite-programs writes both); the benchmark's run-time kernels with
# a static bench kernel's: bench-runtime-i1[-dD] with bench-causal-4096's,
# bench-runtime[-dD] (four items a tile) with bench-block-causal-4096's,
# bench-runtime-i256 and -i1024 with bench-random-slices-16384's and -4096's.
mask_args() {
  local name source=""
  name=$(basename "$1" .manifest)
  if [[ $name == runtime-* ]]; then
    source="$STAGED_DIR/kernels/${name#runtime-}.manifest"
  elif [[ $name =~ ^bench-runtime(-i[0-9]+)?(-d[0-9]+)?$ ]]; then
    local static
    case "${BASH_REMATCH[1]}" in
    -i1) static=bench-causal-4096 ;;
    "") static=bench-block-causal-4096 ;;
    -i256) static=bench-random-slices-16384 ;;
    *) static=bench-random-slices-4096 ;;
    esac
    source="$STAGED_DIR/kernels/$static${BASH_REMATCH[2]}.manifest"
  fi
  if [ -n "$source" ] && [ -f "$source" ]; then
    echo "--mask-of $source $DEVICE_PLAN_ARG"
  fi
}
seconds() { date +%s; }

KERNELS=()
if [ -d "$STAGED_DIR/kernels" ]; then
  while IFS= read -r manifest; do
    KERNELS+=("$manifest")
  done < <(find "$STAGED_DIR/kernels" -maxdepth 1 -name '*.manifest' | sort)
fi

say "== fattn device run: $(date -u +%Y-%m-%dT%H:%M:%SZ), ${#KERNELS[@]} staged kernels, stages $STAGES"
say "   $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"

#===--- build ---------------------------------------------------------------===#
if wants build; then
  start=$(seconds)
  {
    nvidia-smi -L 2>&1
    command -v nvcc >/dev/null && nvcc --version | tail -2
    cmake --version | head -1
    cmake -S runtime -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release &&
      ninja -C "$BUILD_DIR" -j "$JOBS"
  } >"$LOG_DIR/build.log" 2>&1
  rc=$?
  if [ $rc -ne 0 ] || [ ! -x "$LAUNCH" ]; then
    say "build: FAILED ($(($(seconds) - start)) s); last lines of build.log:"
    tail -25 "$LOG_DIR/build.log" | tee -a "$SUMMARY"
    exit 1
  fi
  if grep -q "nvcc not found" "$LOG_DIR/build.log"; then
    say "build: ok but WITHOUT nvcc: the GPU reference is unavailable"
    STATUS=1
  else
    say "build: ok ($(($(seconds) - start)) s)"
  fi
  if [ -x "$BUILD_DIR/unittests/RuntimeTests" ]; then
    if "$BUILD_DIR/unittests/RuntimeTests" >>"$LOG_DIR/build.log" 2>&1; then
      say "unit tests: PASS"
    else
      say "unit tests: FAIL (see build.log)"
      STATUS=1
    fi
  fi
fi
if [ ! -x "$LAUNCH" ]; then
  say "no $LAUNCH: run the build stage first"
  exit 1
fi

#===--- selftest ------------------------------------------------------------===#
SELFTEST_LOG=$LOG_DIR/selftest.tmp
if wants selftest; then
  "$LAUNCH" --self-test >"$SELFTEST_LOG" 2>&1
  rc=$?
  case $rc in
  0) say "selftest: PASS ($(grep -c '^self-test .*: PASS' "$SELFTEST_LOG") cases)" ;;
  1)
    say "selftest: FAIL (GPU reference disagrees with the CPU one):"
    grep '^self-test .*FAIL' "$SELFTEST_LOG" | tee -a "$SUMMARY"
    STATUS=1
    ;;
  *)
    say "selftest: ERROR $rc: $(tail -1 "$SELFTEST_LOG")"
    STATUS=1
    ;;
  esac
  # One log fewer to bring back: the self-test opens check.log.
  { echo "=== self-test"; cat "$SELFTEST_LOG"; } >"$LOG_DIR/check.log"
  rm -f "$SELFTEST_LOG"
fi

#===--- check ---------------------------------------------------------------===#
if wants check; then
  wants selftest || : >"$LOG_DIR/check.log"
  : >"$LOG_DIR/check.jsonl"
  pass=0 fail=0 error=0
  failed=()
  if [ ${#KERNELS[@]} -eq 0 ]; then
    say "check: no kernels in $STAGED_DIR/kernels"
  fi
  for manifest in "${KERNELS[@]}"; do
    name=$(basename "$manifest" .manifest)
    json=$(mktemp)
    echo "=== $name" >>"$LOG_DIR/check.log"
    # shellcheck disable=SC2046 # mask_args is a list of arguments
    timeout "$CHECK_TIMEOUT" "$LAUNCH" "$manifest" $(mask_args "$manifest") --check --json "$json" \
      >>"$LOG_DIR/check.log" 2>&1
    rc=$?
    [ -s "$json" ] && cat "$json" >>"$LOG_DIR/check.jsonl"
    rm -f "$json"
    case $rc in
    0) pass=$((pass + 1)) ;;
    1)
      fail=$((fail + 1))
      failed+=("$name")
      ;;
    124)
      error=$((error + 1))
      failed+=("$name(timeout)")
      echo "TIMEOUT after $CHECK_TIMEOUT s" >>"$LOG_DIR/check.log"
      ;;
    *)
      error=$((error + 1))
      failed+=("$name(exit $rc)")
      ;;
    esac
  done
  if [ ${#KERNELS[@]} -gt 0 ]; then
    say "check: $pass PASS, $fail FAIL, $error ERROR of ${#KERNELS[@]} kernels"
    if [ ${#failed[@]} -gt 0 ]; then
      say "  not passing: ${failed[*]}"
      STATUS=1
    fi
  fi
fi

#===--- sanitize ------------------------------------------------------------===#
if wants sanitize; then
  : >"$LOG_DIR/sanitize.log"
  SANITIZER=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  chosen=()
  for manifest in "${KERNELS[@]}"; do
    [[ $(basename "$manifest") == *sanitize* ]] && chosen+=("$manifest")
  done
  if [ ${#chosen[@]} -eq 0 ] && [ ${#KERNELS[@]} -gt 0 ]; then
    # The smallest problems: memcheck slows kernels down a hundredfold.
    while IFS= read -r manifest; do
      chosen+=("$manifest")
    done < <(for manifest in "${KERNELS[@]}"; do
      # shellcheck disable=SC2053 # SANITIZE_MATCH is a glob
      [[ $(basename "$manifest" .manifest) == $SANITIZE_MATCH ]] || continue
      # shellcheck disable=SC2046
      work=$("$LAUNCH" "$manifest" $(mask_args "$manifest") --info 2>/dev/null | sed -n 's/.* work=\([0-9]*\).*/\1/p')
      [ -n "$work" ] && echo "$work $manifest"
    done | sort -n | head -"$SANITIZE_COUNT" | cut -d' ' -f2-)
  fi
  if [ ! -x "$SANITIZER" ]; then
    say "sanitize: compute-sanitizer not found"
  elif [ ${#chosen[@]} -eq 0 ]; then
    say "sanitize: no kernels"
  else
    for manifest in "${chosen[@]}"; do
      name=$(basename "$manifest" .manifest)
      log=$(mktemp)
      # shellcheck disable=SC2046
      timeout 300 "$SANITIZER" --tool memcheck "$LAUNCH" "$manifest" $(mask_args "$manifest") --check \
        >"$log" 2>&1
      rc=$?
      { echo "=== $name (exit $rc)"; cat "$log"; } >>"$LOG_DIR/sanitize.log"
      errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) error.*/\1/p' "$log" | tail -1)
      if [ "$errors" = "0" ]; then
        verdict="clean"
        case $rc in
        0) ;;
        1) verdict="clean (but the check FAILED)" ;;
        *) verdict="clean (but fattn-launch exited $rc, see sanitize.log)" ;;
        esac
        [ $rc -ne 0 ] && STATUS=1
      elif [ -n "$errors" ]; then
        verdict="$errors MEMORY ERRORS"
        STATUS=1
      else
        verdict="no verdict (exit $rc): $(grep -m1 -i 'error' "$log" | cut -c1-120)"
        STATUS=1
      fi
      say "sanitize $name: $verdict"
      rm -f "$log"
    done
  fi
fi

#===--- adversarial ---------------------------------------------------------===#
if wants adversarial; then
  SANITIZER=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  kernel=$STAGED_DIR/adversarial/adversarial.manifest
  if [ ! -f "$kernel" ]; then
    say "adversarial: not staged (stage-device.sh --adversarial)"
  elif [ ! -x "$SANITIZER" ]; then
    say "adversarial: compute-sanitizer not found"
    STATUS=1
  else
    for calls in "$STAGED_DIR"/adversarial/*.ranges; do
      name=$(basename "$calls" .ranges)
      log=$(mktemp)
      want=0
      if [[ $name == refused-* ]]; then
        # Refused before any device work (some before the driver is even
        # loaded, which compute-sanitizer reports as a failure of its own):
        # nothing to instrument.
        want=2
        if [ -n "$DEVICE_PLAN_ARG" ]; then
          # The GPU planner must refuse it alike, and the kernel launched on
          # its plan touch nothing.
          timeout 300 "$SANITIZER" --tool memcheck "$LAUNCH" "$kernel" --ranges "$calls" \
            --check --device-plan >"$log" 2>&1
          rc=$?
          # Refused before the driver is loaded (a bad file, bad heads or
          # scale): memcheck has nothing to instrument and exits 255, so
          # the call's own exit status comes from a run without it.
          if ! grep -q '^device plan' "$log" &&
            grep -q 'terminated before first instrumented API call' "$log"; then
            timeout 300 "$LAUNCH" "$kernel" --ranges "$calls" --check \
              --device-plan >>"$log" 2>&1
            rc=$?
            echo "ERROR SUMMARY: 0 errors (not launched)" >>"$log"
          fi
        else
          timeout 300 "$LAUNCH" "$kernel" --ranges "$calls" --check >"$log" 2>&1
          rc=$?
          # Refused means no plan reached the device (a planned call prints
          # "plan:" first).
          [ "$(grep -c 'fattn-launch:' "$log")" -gt 0 ] &&
            [ "$(grep -c '^plan:' "$log")" -eq 0 ] &&
            echo "ERROR SUMMARY: 0 errors (not launched)" >>"$log"
        fi
      else
        # shellcheck disable=SC2086 # empty or one option
        timeout 300 "$SANITIZER" --tool memcheck "$LAUNCH" "$kernel" --ranges "$calls" \
          --check $DEVICE_PLAN_ARG >"$log" 2>&1
        rc=$?
      fi
      { echo "=== adversarial $name (exit $rc)"; cat "$log"; } >>"$LOG_DIR/sanitize.log"
      errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) error.*/\1/p' "$log" | tail -1)
      if [ "$errors" = "0" ] && [ $rc -eq $want ]; then
        verdict="clean, exit $rc as expected"
        [ $want -eq 2 ] && verdict="$verdict: $(grep -m1 'fattn-launch:' "$log" | cut -c1-150)"
      else
        verdict="FAILED: exit $rc (want $want), ${errors:-no} memcheck errors"
        STATUS=1
      fi
      say "adversarial $name: $verdict"
      rm -f "$log"
    done
  fi
fi

#===--- python --------------------------------------------------------------===#
if wants python; then
  start=$(seconds)
  kernels_env=()
  if [ -d "$STAGED_DIR/python-kernels" ]; then
    kernels_env=(FATTN_TEST_KERNELS="$STAGED_DIR/python-kernels")
  fi
  env FATTN_RUNTIME_LIB="$BUILD_DIR/lib/libfattn_runtime.so" "${kernels_env[@]}" \
    timeout 600 python3 -m unittest discover -s python/tests -v \
    >"$LOG_DIR/python.log" 2>&1
  rc=$?
  ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' "$LOG_DIR/python.log" | tail -1)
  skipped=$(grep -c ' \.\.\. skipped' "$LOG_DIR/python.log")
  if [ $rc -eq 0 ]; then
    say "python: OK ($ran tests, $skipped skipped, $(($(seconds) - start)) s)"
  else
    say "python: FAILED (exit $rc); last lines of python.log:"
    tail -15 "$LOG_DIR/python.log" | tee -a "$SUMMARY"
    STATUS=1
  fi
fi

#===--- bench ---------------------------------------------------------------===#
if wants bench; then
  bench_kernels=()
  [ ${#KERNELS[@]} -gt 0 ] && bench_kernels=(--kernels "$STAGED_DIR/kernels")
  [ -d "$STAGED_DIR/aot-kernels" ] &&
    bench_kernels+=(--aot-kernels "$STAGED_DIR/aot-kernels")
  start=$(seconds)
  # shellcheck disable=SC2086 # BENCH_ARGS is a list of arguments
  PYTHONUNBUFFERED=1 timeout "$BENCH_TIMEOUT" python3 bench/bench.py \
    "${bench_kernels[@]}" --lib "$BUILD_DIR/lib/libfattn_runtime.so" \
    --json "$LOG_DIR/bench.json" $BENCH_ARGS >"$LOG_DIR/bench.log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    say "bench: ok ($(($(seconds) - start)) s)"
    sed -n '/^forward TFLOP\/s/,$p' "$LOG_DIR/bench.log" | tee -a "$SUMMARY"
  else
    say "bench: exit $rc after $(($(seconds) - start)) s$([ $rc -eq 124 ] && echo ' (timeout)'); last lines:"
    tail -15 "$LOG_DIR/bench.log" | tee -a "$SUMMARY"
    STATUS=1
  fi
fi

say "== $([ $STATUS -eq 0 ] && echo 'ALL PASSED' || echo 'SOMETHING FAILED') (logs in $LOG_DIR)"
exit $STATUS
