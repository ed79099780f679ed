#!/bin/bash
# gpu.check.prepare: the CPU side of the GPU device check (scripts/
# gpu-check.sh; docs/performance.md, "GPU"). Prepares a pack into a temp
# folder, checks it (check_pack.py), then runs its run.sh here three ways:
#  - without a GPU: must exit 77 with results.json "no_gpu", quickly;
#  - snn-driver --allow-no-gpu: the interposed launches are seen;
#  - against a fake libcuda (fake_libcuda.c: driver calls succeed, kernels
#    do nothing), twice, one kernel crashing and one hanging: every case is
#    recorded (crash / timeout / mismatch, never ok), results.json and
#    results.txt are written and run.sh exits 1.
# usage: gpu_check_test.sh BIN_DIR SRC_ROOT PYTHON [CC]   (77: no C compiler)
set -u
BIN=$1; SRC=$2; PY=$3; CC=${4:-cc}
command -v "$CC" >/dev/null || { echo "SKIPPED: no C compiler ($CC)"; exit 77; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail() { echo "gpu.check.prepare: FAILED: $*"; exit 1; }
PACK=$TMP/pack

PYTHON=$PY "$SRC/scripts/gpu-check.sh" prepare "$PACK" --bin "$BIN" || fail "prepare"
bash -n "$PACK/run.sh" || fail "bash -n run.sh"
"$PY" "$SRC/test/GPU/check_pack.py" "$PACK" "$BIN/sparse-run" "$SRC" || fail "check_pack"

# No GPU: a clean skip code, no hang.
OUT=$TMP/out0 SPARSENN_LIBCUDA=$TMP/no-such-libcuda.so timeout 60 bash "$PACK/run.sh"
RC=$?
[ $RC -eq 77 ] || fail "run.sh without a GPU exited $RC, not 77"
grep -q '"status": "no_gpu"' "$TMP/out0/results.json" || fail "no_gpu results.json"
echo "run.sh without a GPU: exit 77, $(cat "$TMP/out0/results.txt")"

# The driver's interposition of the runtime's launches (soft failure).
cd "$PACK" || exit 1
J=$(LD_LIBRARY_PATH=$PACK/lib SPARSENN_GPU_QUIET=1 SPARSENN_LIBCUDA=$TMP/none \
    bin/snn-driver --lib lib/linear_ell.so --entry b1 --rank 2 \
    --input gen:1:1x4096 --allow-no-gpu 2>/dev/null)
echo "$J" | grep -q '"intercepted_launches": [1-9]' || fail "no launch intercepted: $J"

# A fake driver: the whole flow, twice.
"$CC" -shared -fPIC -O1 "$SRC/scripts/gpu_check/fake_libcuda.c" -o "$TMP/libcuda-fake.so" || fail "cc fake libcuda"
for i in 1 2; do
  OUT=$TMP/out1 SPARSENN_LIBCUDA=$TMP/libcuda-fake.so FAKE_CUDA_CRASH=block16 \
    FAKE_CUDA_HANG=spgc8 GPU_CHECK_TIMEOUT_S=3 PATH=$(dirname "$PY"):$PATH \
    timeout 150 bash "$PACK/run.sh" > "$TMP/run$i.log" 2>&1
  RC=$?
  [ $RC -eq 1 ] || { cat "$TMP/run$i.log"; fail "run.sh with the fake driver exited $RC, not 1"; }
  "$PY" - "$TMP/out1" "$PACK" <<'PYEOF' || fail "results of the fake run"
import json, os, sys
out, pack = sys.argv[1:3]
r = json.load(open(os.path.join(out, "results.json")))
names = set(json.load(open(os.path.join(pack, "manifest.json")))["cases"])
names.add("aot_run_mlp_gpu")
cases = r["cases"]
assert set(cases) == names, set(cases) ^ names
assert not any(c["status"] == "ok" for c in cases.values()), "a fake kernel passed"
for n, c in cases.items():
    if "block16" in n or n == "net_gpu_inputs_mlp":
        assert c["status"] == "crash" and "segmentation" in c["error"], (n, c)
    elif "spgc8" in n:
        assert c["status"] == "crash" and "timed out" in c["error"], (n, c)
    elif n.startswith("linear_ell"):
        assert c["status"] == "mismatch" and c["kernels"], (n, c)
        assert c["kernels"][0]["name"].startswith("sparsenn_ell_linear"), c["kernels"]
    elif n.startswith(("net_gpu_inputs_cnn", "cnn_seed000")):
        assert c["status"] == "mismatch", (n, c)  # entry @main works
assert r["device"]["device"]["sm"] == 90
assert os.path.getsize(os.path.join(out, "results.txt")) > 0
print(f"fake-driver run: {len(cases)} cases recorded, none ok (as expected)")
PYEOF
done
echo "gpu.check.prepare: ok"
