#!/usr/bin/env bash
# Sets up a fresh Debian machine, builds fattn, and runs one job:
#   ./run.sh examples   compile and run every mask in examples/ on the CPU
#   ./run.sh test       every test: GoogleTest suites and lit, through ctest
# Installs only what is missing; later runs just rebuild incrementally.
set -euo pipefail
cd "$(dirname "$0")"

job="${1:-}"
case "$job" in
  examples|test) ;;
  *) echo "usage: $0 examples|test" >&2; exit 2 ;;
esac

LLVM_PREFIX=/usr/lib/llvm-22
PACKAGES=(cmake ninja-build g++ python3 llvm-22-dev libmlir-22-dev mlir-22-tools
          llvm-22-tools libgtest-dev clang-22 libclang-rt-22-dev)

install_missing_packages() {
  local missing=()
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
      missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return
  echo "run.sh: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
}

build() {
  if [ ! -f build/build.ninja ]; then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
      -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/bin/lit"
  fi
  ninja -C build -j"${FATTN_JOBS:-2}"
}

# ASan + UBSan over the mask library, the dialect, the runtime's CPU parts,
# their unit tests and the libFuzzer targets (CMakeLists.txt, FATTN_SANITIZE).
build_sanitized() {
  if [ ! -f build-sanitize/build.ninja ]; then
    CC=clang-22 CXX=clang++-22 cmake -S . -B build-sanitize -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFATTN_SANITIZE=ON \
      -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
      -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/bin/lit"
  fi
  ninja -C build-sanitize -j"${FATTN_JOBS:-2}"
}

install_missing_packages
build

case "$job" in
  examples)
    status=0
    for program in examples/*.mlir; do
      build/bin/fattn-run "$program" || status=1
      echo
    done
    exit $status
    ;;
  test)
    ctest --test-dir build --output-on-failure -j"${FATTN_JOBS:-2}"
    build_sanitized
    # Unit tests under the sanitizers, then a bounded run of each fuzz target.
    ctest --test-dir build-sanitize --output-on-failure -j"${FATTN_JOBS:-2}"
    ;;
esac
