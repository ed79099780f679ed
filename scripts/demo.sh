#!/usr/bin/env bash
# The main job on the bundled example: parse, verify and summarise the sparse
# network in examples/sparse_cnn.mlir, then print it back (large weight
# constants elided).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
MODEL=${1:-examples/sparse_cnn.mlir}
echo "== sparse-opt --sparsenn-print-summary $MODEL"
"$BUILD_DIR/bin/sparse-opt" --sparsenn-print-summary "$MODEL" \
  --mlir-elide-elementsattrs-if-larger=16
