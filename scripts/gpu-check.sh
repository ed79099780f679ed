#!/bin/bash
# The GPU device check (docs/performance.md, "GPU"; issue 16).
#
#   scripts/gpu-check.sh prepare <dir> [--bin DIR] [prepare.py options]
#       On the CPU machine: AOT-compiles the GPU test networks and the
#       benchmark cases with `sparse-compile --gpu`, builds the driver,
#       writes the CPU references and packs them with run.sh in <dir>
#       (replaced if it is a pack; keep it inside the repository, git-
#       ignored, e.g. build-gpu-pack/, so the device tool can carry it).
#       --bin: folder of sparse-compile / sparse-run / sparse-opt
#       (default: $SPARSENN_BIN, else build/bin of the repository).
#   bash <dir>/run.sh
#       On the device machine: runs it all, results in $OUT (results.json,
#       results.txt). Exit 0 ok, 1 failures, 77 no usable GPU.
set -eu
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
cmd=${1:-}
case $cmd in
  prepare)
    [ $# -ge 2 ] || { echo "usage: $0 prepare <dir> [--bin DIR] ..." >&2; exit 2; }
    dir=$2; shift 2
    bin=${SPARSENN_BIN:-$ROOT/build/bin}
    if [ "${1:-}" = "--bin" ]; then bin=$2; shift 2; fi
    exec "$PY" "$ROOT/scripts/gpu_check/prepare.py" --out "$dir" --bin "$bin" "$@"
    ;;
  *)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
