#!/usr/bin/env bash
# Makes sure the gpu.ptxas test has a ptxas that can assemble PTX for sm_90
# (no GPU needed), and records its path in $BUILD_DIR/ptxas/PTXAS, where
# test/GPU/ptxas_check.py looks. Idempotent and quiet once recorded; called
# by scripts/setup.sh.
#
# Order: $SPARSENN_PTXAS; a ptxas already recorded that still runs; the
# pinned pip wheel nvidia-cuda-nvcc-cu12 (ptxas only, unpacked into
# $BUILD_DIR/ptxas/, about 40 MB); a CUDA toolkit (/usr/local/cuda/bin/ptxas,
# then PATH). Without any, it warns loudly and gpu.ptxas fails, unless
# SPARSENN_SKIP_PTXAS=1 (offline builds without CUDA: the test is skipped).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
WHEEL_SPEC=${SPARSENN_PTXAS_WHEEL:-nvidia-cuda-nvcc-cu12==12.9.86}
DEST="$BUILD_DIR/ptxas"
RECORD="$DEST/PTXAS"
PYTHON=/usr/bin/python3
mkdir -p "$DEST"

works() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }
record() { echo "$1" >"$RECORD"; }

if [ -n "${SPARSENN_PTXAS:-}" ]; then
  works "$SPARSENN_PTXAS" || { echo "setup: SPARSENN_PTXAS='$SPARSENN_PTXAS' does not run" >&2; exit 1; }
  record "$SPARSENN_PTXAS"
  exit 0
fi
if [ -f "$RECORD" ] && works "$(cat "$RECORD")"; then
  exit 0
fi

# The pinned wheel: download (no install) and unpack bin/ptxas.
if [ ! -x "$DEST/bin/ptxas" ]; then
  echo "setup: fetching ptxas ($WHEEL_SPEC) into $DEST"
  rm -rf "$DEST/wheel"
  if "$PYTHON" -m pip download --no-deps --only-binary=:all: --timeout 20 \
       --retries 1 --quiet -d "$DEST/wheel" "$WHEEL_SPEC" >/dev/null 2>&1; then
    "$PYTHON" - "$DEST" <<'PY'
import glob, os, sys, zipfile
dest = sys.argv[1]
wheel = glob.glob(os.path.join(dest, "wheel", "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("/bin/ptxas"))
    os.makedirs(os.path.join(dest, "bin"), exist_ok=True)
    out = os.path.join(dest, "bin", "ptxas")
    with z.open(name) as src, open(out, "wb") as dst:
        dst.write(src.read())
    os.chmod(out, 0o755)
PY
    rm -rf "$DEST/wheel"
  fi
fi
if works "$DEST/bin/ptxas"; then
  record "$(cd "$DEST/bin" && pwd)/ptxas"
  exit 0
fi

for candidate in /usr/local/cuda/bin/ptxas "$(command -v ptxas || true)"; do
  if [ -n "$candidate" ] && works "$candidate"; then
    echo "setup: pip wheel $WHEEL_SPEC not available; using $candidate"
    record "$candidate"
    exit 0
  fi
done

rm -f "$RECORD"
echo "setup: WARNING: no ptxas: the pip wheel $WHEEL_SPEC could not be" >&2
echo "setup: WARNING: fetched and no CUDA toolkit is installed. The ctest test" >&2
echo "setup: WARNING: gpu.ptxas will FAIL; set SPARSENN_PTXAS=/path/to/ptxas," >&2
echo "setup: WARNING: or SPARSENN_SKIP_PTXAS=1 to skip it (offline builds)." >&2
exit 0
