#!/usr/bin/env bash
# Every test: set-up and build, then ctest (lit, GoogleTest, sanitizer and
# fuzz runs, pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 "$@"
