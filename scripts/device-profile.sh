#!/usr/bin/env bash
#===- device-profile.sh - ncu figures and SASS of staged kernels -----------===#
#
# Run on the GPU machine from the repository root, after device-run.sh's
# build stage (BUILD_DIR, default build-rt, holds fattn-launch):
#
#   bash scripts/device-profile.sh STAGED_DIR LOG_DIR NAME[=STATIC]...
#
# For each staged kernel STAGED_DIR/kernels/NAME.manifest (NAME=STATIC runs
# a run-time kernel with the mask, lengths and heads of the static kernel
# STATIC, e.g. bench-runtime-i1-d64=bench-full-4096-d64), one ncu report of one timed
# launch (speed of light, occupancy, launch statistics, warp states) in
# LOG_DIR/NAME.ncu.txt and its SASS (ptxas for sm_90a, then cuobjdump) in
# LOG_DIR/NAME.sass, so that two kernels can be compared instruction by
# instruction. Exit status: 0 if every report was written.
#
#===------------------------------------------------------------------------===#

set -u -o pipefail

if [ $# -lt 3 ]; then
  echo "usage: bash scripts/device-profile.sh STAGED_DIR LOG_DIR NAME[=STATIC]..." >&2
  exit 2
fi
STAGED_DIR=$1
LOG_DIR=$2
shift 2
BUILD_DIR=${BUILD_DIR:-build-rt}
LAUNCH=$BUILD_DIR/bin/fattn-launch
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
CUDA_BIN=$(dirname "$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)")
mkdir -p "$LOG_DIR"
status=0

for request in "$@"; do
  name=${request%%=*}
  manifest=$STAGED_DIR/kernels/$name.manifest
  mask_of=()
  [[ $request == *=* ]] && mask_of=(--mask-of "$STAGED_DIR/kernels/${request#*=}.manifest")
  if [ ! -f "$manifest" ]; then
    echo "device-profile.sh: no $manifest" >&2
    status=1
    continue
  fi
  # The third launch: after the warm-up, with the L2 flushed before it.
  timeout 240 "$NCU" --kernel-name regex:^fattn_ --launch-skip 2 --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section LaunchStats \
    --section WarpStateStats --section SchedulerStats \
    "$LAUNCH" "$manifest" "${mask_of[@]}" --time --iters 1 --warmup 2 \
    >"$LOG_DIR/$name.ncu.txt" 2>&1 || status=1
  ptx=$STAGED_DIR/kernels/$(sed -n 's/^ptx //p' "$manifest")
  cubin=$(mktemp --suffix=.cubin)
  if "$CUDA_BIN/ptxas" -arch=sm_90a "$ptx" -o "$cubin" &&
    "$CUDA_BIN/cuobjdump" -sass "$cubin" >"$LOG_DIR/$name.sass"; then
    echo "$name: $(grep -c '/\*[0-9a-f]\{4,\}\*/' "$LOG_DIR/$name.sass") SASS instructions"
  else
    status=1
  fi
  rm -f "$cubin"
  grep -E "Duration|Registers Per|Achieved Occupancy|Theoretical Occupancy|Compute \(SM\) Throughput|Memory Throughput|Issued Warp|No Eligible" \
    "$LOG_DIR/$name.ncu.txt" | sed "s/^/$name: /"
done
exit $status
