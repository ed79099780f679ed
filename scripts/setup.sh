#!/usr/bin/env bash
# Installs what the project needs on Debian 12 (idempotent, quiet when all is
# there), configures with CMake + Ninja against Debian's LLVM/MLIR 22, and
# builds. Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  cmake ninja-build g++ git
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22
  libclang-rt-22-dev
  libgtest-dev libbenchmark-dev
  libhwy-dev libdnnl-dev
  python3 python3-numpy python3-pytest python3-torch libopenblas0-pthread
  dataset-fashion-mnist
  python3-torchvision
  python3-onnx
  python3-matplotlib
)
# The model benchmark runs ONNX Runtime through node (benchmarks/ort_run.js);
# a node that brings its own npm is kept as it is.
command -v node >/dev/null || PACKAGES+=(nodejs)
command -v npm >/dev/null || PACKAGES+=(npm)

# The runtime is also cross-built for aarch64 and its tests run under
# qemu-user (test runtime.aarch64.*): the arm64 multiarch packages.
ARM64_PACKAGES=(g++-aarch64-linux-gnu qemu-user libhwy-dev:arm64
  libgtest-dev:arm64)

missing=()
for p in "${PACKAGES[@]}" "${ARM64_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  dpkg --print-foreign-architectures | grep -qx arm64 ||
    $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
fi
cmake --build "$BUILD_DIR"
# ptxas for the gpu.ptxas test (PTX for sm_90 assembled without a GPU).
BUILD_DIR="$BUILD_DIR" ./scripts/fetch-ptxas.sh
