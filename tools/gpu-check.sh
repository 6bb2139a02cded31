#!/usr/bin/env bash
# One command measures the project on a GPU: the adapter, correctness (kernel/network/trainer tests and the
# published v1 generator against PyTorch on the same card), speed (bench suites, per-kernel profile) and
# PyTorch's own times beside ours. Prepare with `npm run gpu-pack`, then on the GPU machine, from the project root:
#     bash tools/gpu-check.sh "$OUT"            (≤ 6 minutes on an H200)
#     bash tools/gpu-check.sh --quick [OUT]     (here, on the software adapter at small sizes: tests the script)
# Each phase runs under its own timeout and, when it ends, refreshes OUT/gpu-check.json (every phase's results,
# the adapter and versions: tools/gpu-check-summary.mjs) and OUT/gpu-check-logs.tar.gz, so a late failure or a
# killed run still returns what finished; OUT never holds more than three files. The summary table comes last.
# GPU_CHECK_SKIP=phase,phase leaves phases out (a rerun after a partial check); GPU_CHECK_BUDGET=seconds.
# Commit the JSON as bench/results/<date>-<adapter>-gpu-check.json (the summary prints that name).
set -uo pipefail
quick=0
[ "${1:-}" = "--quick" ] && { quick=1; shift; }
OUT=${1:-gpu-check-out}
cd "$(dirname "$0")/.."
root=$(pwd)
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
[ -d .gpu/app ] || { echo "gpu-check: .gpu/ is missing: run \`npm run gpu-pack\` on the development machine first." >&2; exit 2; }
# shellcheck source=tools/gpu-prelude.sh
source tools/gpu-prelude.sh
WORK=$(mktemp -d)
START=$(date +%s)
# The whole check stays inside this budget: a phase that would start after it is skipped and says so.
BUDGET=${GPU_CHECK_BUDGET:-$([ $quick = 1 ] && echo 600 || echo 345)}
PYTHON=${PYTHON:-$(command -v python3)}
# Debian's PyTorch is for its own python3 (/usr/bin), not a pyenv shim's.
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null && PYTHON=/usr/bin/python3
if [ $quick = 1 ]; then
  PAGE=64x96; PARITY=(--device cpu --size 64x96 --crop 64 --batch 1 --width 32)
  GFWD=(--device cpu --size $PAGE --width 32 --runs 2 --warmup 1); STEP=(--device cpu --crop 32 --batch 1 --width 32 --steps 1)
  TESTS=(test/conv.test.ts test/recording.test.ts test/torch-parity.test.ts test/adam.test.ts)
  MATMUL=matmul/512x512x512; CONV=conv/bottleneck; PROFILE=(nets --size 64x64)
else
  PAGE=512x768; PARITY=(--device cuda)
  GFWD=(--device cuda --size 512x768); STEP=(--device cuda --crop 512 --batch 4 --steps 10)
  TESTS=(test/conv.test.ts test/matmul.test.ts test/elementwise.test.ts test/reduce.test.ts test/pool.test.ts
    test/spectral-norm.test.ts test/squeeze-excitation.test.ts test/pixel-shuffle.test.ts test/adam.test.ts
    test/recording.test.ts test/torch-parity.test.ts test/nets-forward.test.ts test/autograd.test.ts test/random.test.ts
    test/resample.test.ts test/xdog.test.ts test/batch-norm.test.ts test/linear.test.ts test/losses.test.ts
    test/train-trainer.test.ts)
  MATMUL=matmul; CONV=conv; PROFILE=(nets --size 512x768)
fi

summarize() {
  tar -C "$WORK" -czf "$OUT/gpu-check-logs.tar.gz" . 2>/dev/null
  $NODE tools/gpu-check-summary.mjs "$WORK" "$OUT/gpu-check.json" ${1:+--table "$OUT/summary.txt"} >/dev/null 2>"$WORK/summary.err" || cat "$WORK/summary.err" >&2
}

# phase NAME TIMEOUT_S COMMAND...: runs one phase, its output to WORK/NAME.log, its status to WORK/phases.tsv.
phase() {
  local name=$1 limit=$2; shift 2
  local now=$(( $(date +%s) - START ))
  if [[ ",${GPU_CHECK_SKIP:-}," == *",$name,"* ]]; then
    printf '%s\tskipped\t0\tGPU_CHECK_SKIP\n' "$name" >> "$WORK/phases.tsv"
    echo "== $name: skipped (GPU_CHECK_SKIP)"; return
  fi
  if [ $now -ge "$BUDGET" ]; then
    printf '%s\tskipped\t0\tover the %ss budget\n' "$name" "$BUDGET" >> "$WORK/phases.tsv"
    echo "== $name: skipped (${now}s used of ${BUDGET}s)"; return
  fi
  # A phase may not run past the budget either.
  [ $((now + limit)) -gt "$BUDGET" ] && limit=$((BUDGET - now))
  echo "== $name (≤ ${limit}s)"
  local t0=$(date +%s)
  timeout -k 5 "$limit" "$@" > "$WORK/$name.log" 2>&1
  local rc=$?
  local took=$(( $(date +%s) - t0 ))
  local status=ok; [ $rc -ne 0 ] && status=failed; [ $rc -eq 124 ] || [ $rc -eq 137 ] && status=timeout
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$took" "exit $rc" >> "$WORK/phases.tsv"
  grep -v '^Warning: \|^    at operator\|^$' "$WORK/$name.log" | tail -n 6 | sed 's/^/   /'
  echo "   $name: $status in ${took}s"
  summarize
}

export PYTHONUNBUFFERED=1
# probe: the card, the adapter Dawn finds, its features and limits. No native adapter: say why, go on to PyTorch.
{ nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; } > "$WORK/nvidia-smi.txt" 2>&1
native=1
phase probe 60 $NODE .gpu/app/gpu-info.mjs --json "$WORK/probe.json" || true
if ! [ -s "$WORK/probe.json" ]; then
  native=0; echo "   no WebGPU adapter: the loader's diagnostics are above; the PyTorch phases still run"
elif [ $quick = 0 ] && grep -q '"software": true' "$WORK/probe.json"; then
  native=0; echo "   only a software adapter: the GPU phases are skipped (run --quick for the software adapter)"
fi
versions() {
  echo "node $($NODE --version)"
  echo "webgpu $($NODE -p 'require("./node_modules/webgpu/package.json").version')"
  echo "torch $($PYTHON -c 'import torch; print(torch.__version__, torch.version.cuda or "cpu")' 2>&1 | tail -1)"
  echo "commit $(cat .gpu/commit.txt 2>/dev/null || git describe --always --dirty 2>/dev/null || echo unknown) (packed)"
}
versions > "$WORK/versions.txt" 2>&1
# The PyTorch inputs of the parity check are written first: the torch phase does not depend on our adapter.
have_torch=1; $PYTHON -c 'import torch' 2>/dev/null || { have_torch=0; echo "   no PyTorch for $PYTHON: its phases are skipped"; }

if [ $native = 1 ] || [ $quick = 1 ]; then
  phase tests 180 $NODE node_modules/vitest/vitest.mjs run "${TESTS[@]}" --reporter=default --reporter=json --outputFile.json="$WORK/tests.json"
  if [ $have_torch = 1 ]; then
    # PyTorch's inputs and weights (hundreds of MB at the published size) stay out of the results folder.
    PARITY_DATA=$(mktemp -d)
    phase parity-torch 90 $PYTHON tools/torch-published-parity.py "$PARITY_DATA" "${PARITY[@]}"
    phase parity 120 $NODE .gpu/app/torch-parity.mjs "$PARITY_DATA" --json "$WORK/parity.json"
    rm -rf "$PARITY_DATA"
  fi
fi
# Speed, ours and PyTorch's, the most telling first: a check cut short by its budget loses the least.
[ $have_torch = 1 ] && phase torch-generator 60 $PYTHON tools/torch-generator-forward.py "${GFWD[@]}" --json "$WORK/torch-generator.json"
[ $have_torch = 1 ] && phase torch-train-fp32 60 $PYTHON tools/torch-train-step.py "${STEP[@]}" --no-tf32 --json "$WORK/torch-train-fp32.json"
if [ $native = 1 ] || [ $quick = 1 ]; then
  phase bench-nets 60 $NODE .gpu/app/bench.mjs nets --size $PAGE --json "$WORK/bench-nets.json"
  phase bench-train 120 $NODE .gpu/app/bench.mjs train --json "$WORK/bench-train.json"
  [ -f .gpu/app/profile.mjs ] && phase profile 60 $NODE .gpu/app/profile.mjs "${PROFILE[@]}" --json "$WORK/profile.json"
  phase bench-colorize $([ $quick = 1 ] && echo 150 || echo 90) $NODE .gpu/app/bench.mjs colorize --size $PAGE --json "$WORK/bench-colorize.json"
fi
[ $have_torch = 1 ] && phase torch-train-tf32 60 $PYTHON tools/torch-train-step.py "${STEP[@]}" --json "$WORK/torch-train-tf32.json"
if [ $native = 1 ] || [ $quick = 1 ]; then
  phase bench-matmul 45 $NODE .gpu/app/bench.mjs $MATMUL --json "$WORK/bench-matmul.json"
  phase bench-conv 75 $NODE .gpu/app/bench.mjs $CONV --json "$WORK/bench-conv.json"
  [ $quick = 0 ] && [ -f .gpu/app/profile.mjs ] && phase profile-train 60 $NODE .gpu/app/profile.mjs train --preset full --json "$WORK/profile-train.json"
  # bench-conv times the kernels the adapter picks (on a GPU the tiled GEMMs); this, the register-tile gathers
  # and Winograd (3×3 stride-1 cases) on the same card (cases named "… [gather]", "… [winograd]"), last so that
  # a tight budget drops it first.
  phase bench-conv-gather 75 $NODE .gpu/app/bench.mjs $CONV --conv-kernels gather,winograd --json "$WORK/bench-conv-gather.json"
fi
summarize table
echo
cat "$OUT/summary.txt"
echo "total $(( $(date +%s) - START ))s; results in $OUT (gpu-check.json, summary.txt, gpu-check-logs.tar.gz)"
# The check fails when a correctness phase failed; speed phases that time out are reported, not fatal.
! grep -qP '^(probe|tests|parity)\t(failed|timeout)' "$WORK/phases.tsv"
