#!/usr/bin/env bash
# The main job on the bundled example (examples/sparse_cnn.mlir, or the file
# given as $1): parse, verify and summarise the sparse network, then show
# what SPGC8 compression makes of its weights as they are and after
# SPGC8-aligned group pruning (seed 003 [0135]-[0175]), and finally compile it
# to native code, run it on the CPU and compare its speed with the dense
# version of the same network.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
OPT="$BUILD_DIR/bin/sparse-opt"
MODEL=${1:-examples/sparse_cnn.mlir}

echo "== 1. parse, verify, summarise: sparse-opt --sparsenn-print-summary $MODEL"
"$OPT" "$MODEL" --sparsenn-print-summary --mlir-elide-elementsattrs-if-larger=16

echo
echo "== 2. SPGC8 (int8) on the weights as they are (unstructured fixed fan-in)"
"$OPT" "$MODEL" --sparsenn-compress-weights=report=- -o /dev/null

echo
echo "== 3. SPGC8-aligned pruning to 90% (1x16 input-channel groups), then SPGC8"
"$OPT" "$MODEL" \
  --sparsenn-prune-weights="spgc8-aligned sparsity=0.9" \
  --sparsenn-print-summary \
  --sparsenn-compress-weights=report=- -o /dev/null

echo
echo "== 4. compile to native code (sparsenn-lower-to-llvm + JIT) and run on the CPU"
/usr/bin/python3 examples/run_compiled.py "$MODEL" --build "$BUILD_DIR"
