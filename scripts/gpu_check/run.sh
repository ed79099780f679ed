#!/bin/bash
# The GPU device check, run on the device machine from a pack made by
#   scripts/gpu-check.sh prepare <dir>        (on the CPU machine)
# Usage: bash <dir>/run.sh        results in $OUT (default <dir>/out)
#
# Runs every case of cases.tsv with snn-driver under a timeout each (a case
# that crashes, hangs or mismatches is recorded and the rest go on), the
# AOT example program, the PyTorch CUDA baselines (baselines.py, if torch
# with CUDA imports), ncu on two kernels (if ncu is found and time is left),
# and writes $OUT/results.json and $OUT/results.txt (summarize.py), plus
# the per-case JSON and logs under $OUT/cases/. Needs bash, coreutils, gzip
# and python3 (for the baselines and the summary; without python3 the
# results are the raw JSON lines). Safe to run again: $OUT is rewritten.
#
# Exit status: 0 all cases passed; 1 some failed; 77 no usable NVIDIA GPU
# (results.json says "no_gpu" with the reason; nothing else is run).
# Environment: OUT, SPARSENN_GPU_DEVICE, SPARSENN_LIBCUDA (as the runtime),
# GPU_CHECK_BUDGET_S (default 420: optional steps are skipped past it),
# GPU_CHECK_TIMEOUT_S (overrides every case's timeout, cases.tsv column 2).
set -u
PACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$PACK/out}
BUDGET=${GPU_CHECK_BUDGET_S:-420}
START=$(date +%s)
mkdir -p "$OUT"
rm -rf "$OUT/cases" "$OUT/results.json" "$OUT/results.txt" "$OUT/ncu"
mkdir -p "$OUT/cases"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
cd "$PACK" || exit 1
export LD_LIBRARY_PATH="$PACK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export SPARSENN_GPU_QUIET=1
PY=$(command -v python3 || true)
elapsed() { echo $(( $(date +%s) - START )); }
say() { echo "[gpu-check $(elapsed)s] $*" | tee -a "$OUT/run.log"; }
: > "$OUT/run.log"

# Host facts (a SIGILL means the device CPU lacks a feature of the
# preparing CPU: manifest.json's build_cpu).
{
  echo "host: $(uname -a)"
  grep -m1 "model name" /proc/cpuinfo
  grep -m1 -o -w "avx512f\|avx2" /proc/cpuinfo | sort -u | tr '\n' ' '; echo
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem --format=csv 2>&1
} > "$OUT/host.txt" 2>&1

# 1. Is there a GPU?
PROBE=$(timeout 60 bin/snn-driver --probe 2>"$OUT/probe.err")
RC=$?
echo "$PROBE" > "$OUT/probe.json"
if [ $RC -ne 0 ]; then
  [ -n "$PROBE" ] || PROBE="{\"status\": \"error\", \"error\": \"snn-driver --probe exited $RC\"}"
  echo "{\"status\": \"no_gpu\", \"probe\": $PROBE, \"probe_rc\": $RC}" > "$OUT/results.json"
  echo "GPU check: no usable NVIDIA GPU (probe exit $RC): $PROBE" | tee "$OUT/results.txt"
  [ $RC -eq 77 ] && exit 77
  exit 1
fi
say "device: $PROBE"

# 2. References into the scratch folder.
mkdir -p "$SCRATCH/ref"
for f in ref/*.npy.gz; do
  gzip -dc "$f" > "$SCRATCH/ref/$(basename "${f%.gz}")" || say "cannot unpack $f"
done

# 3. The cases.
FAILED=0
while IFS=$'\t' read -r -a F; do
  [ ${#F[@]} -ge 2 ] || continue
  NAME=${F[0]}; TMO=${GPU_CHECK_TIMEOUT_S:-${F[1]}}
  ARGS=("${F[@]:2}")
  ARGS=("${ARGS[@]//@SCRATCH@/$SCRATCH}")
  timeout -k 5 "$TMO" bin/snn-driver "${ARGS[@]}" \
    > "$OUT/cases/$NAME.json" 2> "$OUT/cases/$NAME.log"
  RC=$?
  if ! grep -q '"status"' "$OUT/cases/$NAME.json" 2>/dev/null; then
    case $RC in
      124|137) WHY="timed out after ${TMO} s" ;;
      132) WHY="SIGILL (illegal instruction): the host code needs a CPU feature of the preparing machine" ;;
      134) WHY="aborted (SIGABRT)" ;;
      139) WHY="segmentation fault" ;;
      *) WHY="exit status $RC" ;;
    esac
    TAIL=$(tail -c 1500 "$OUT/cases/$NAME.log" | tr '\n\t"\\' '    ')
    echo "{\"name\": \"$NAME\", \"status\": \"crash\", \"rc\": $RC, \"error\": \"$WHY: $TAIL\"}" > "$OUT/cases/$NAME.json"
  fi
  [ $RC -eq 0 ] || FAILED=$((FAILED + 1))
  ST=$(grep -o '"status": "[a-z_]*"' "$OUT/cases/$NAME.json" | head -n 1 | cut -d'"' -f4)
  say "$NAME: $ST [rc $RC] $(tail -n 1 "$OUT/cases/$NAME.log" 2>/dev/null | cut -c1-160)"
done < cases.tsv

# 4. The AOT example program (examples/aot/run_mlp_gpu.c).
timeout -k 5 "${GPU_CHECK_TIMEOUT_S:-60}" bin/run_mlp_gpu > "$OUT/cases/aot_run_mlp_gpu.out" 2> "$OUT/cases/aot_run_mlp_gpu.log"
RC=$?
if [ $RC -eq 0 ] && paste -d' ' expected/run_mlp.txt "$OUT/cases/aot_run_mlp_gpu.out" | awk '
    { n = NF / 2; if (n != int(n) || n == 0) bad = 1
      for (i = 1; i <= n; ++i) { a = $i; b = $(i + n); d = a - b; if (d < 0) d = -d
        m = (a < 0 ? -a : a); if (d > 1e-5 * m + 1e-6) bad = 1 } }
    END { exit bad }'; then
  ST=ok; WHY=""
else
  ST=$([ $RC -eq 0 ] && echo mismatch || echo error)
  WHY="exit $RC; got: $(tr '\n"\\' '   ' < "$OUT/cases/aot_run_mlp_gpu.out" | cut -c1-300) expected: $(tr '\n' ' ' < expected/run_mlp.txt)"
  FAILED=$((FAILED + 1))
fi
echo "{\"name\": \"aot_run_mlp_gpu\", \"status\": \"$ST\", \"rc\": $RC, \"error\": \"$WHY\"}" > "$OUT/cases/aot_run_mlp_gpu.json"
say "aot_run_mlp_gpu $ST"

# 5. cuBLAS / torch.topk / dense CNN baselines through PyTorch.
if [ -n "$PY" ] && [ "$(elapsed)" -lt "$BUDGET" ]; then
  timeout -k 5 180 "$PY" baselines.py manifest.json > "$OUT/baselines.json" 2> "$OUT/baselines.log"
  say "baselines: exit $? ($(head -c 200 "$OUT/baselines.json"))"
else
  echo '{"status": "skipped", "error": "no python3 or out of time"}' > "$OUT/baselines.json"
fi

# 6. Nsight Compute on the ELL and SPGC8 batch-1 kernels (optional).
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda-*/bin/ncu 2>/dev/null | head -n 1)
if [ -n "$NCU" ]; then
  mkdir -p "$OUT/ncu"
  for C in linear_ell_b1:ell linear_spgc8_b1:spgc8; do
    NAME=${C%%:*}; K=${C##*:}
    [ "$(elapsed)" -lt "$BUDGET" ] || { say "ncu $NAME skipped: out of time"; continue; }
    LINE=$(awk -F"\t" -v n="$NAME" '$1 == n' cases.tsv); [ -n "$LINE" ] || continue
    IFS=$'\t' read -r -a F <<< "$LINE"
    ARGS=("${F[@]:2}")
    ARGS=("${ARGS[@]//@SCRATCH@/$SCRATCH}")
    timeout -k 5 120 "$NCU" --target-processes all -k "regex:$K" --launch-skip 2 \
      --launch-count 1 --section SpeedOfLight --section MemoryWorkloadAnalysis \
      --section LaunchStats --section Occupancy \
      bin/snn-driver "${ARGS[@]}" --repeat 3 > "$OUT/ncu/$NAME.txt" 2>&1
    say "ncu $NAME: exit $?"
  done
else
  say "ncu not found: no profile"
fi

# 7. Summary.
if [ -n "$PY" ]; then
  "$PY" summarize.py "$PACK" "$OUT" || say "summarize.py failed"
fi
if [ ! -s "$OUT/results.json" ]; then
  { echo "{\"status\": \"raw\", \"probe\": $PROBE, \"cases\": ["
    SEP=""
    for f in "$OUT"/cases/*.json; do echo "$SEP$(cat "$f")"; SEP=","; done
    echo "]}"; } > "$OUT/results.json"
  cat "$OUT"/cases/*.log > "$OUT/results.txt" 2>/dev/null
fi
say "done: $FAILED failed cases, $(elapsed) s"
[ $FAILED -eq 0 ]
