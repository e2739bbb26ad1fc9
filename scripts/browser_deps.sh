#!/usr/bin/env bash
# Source this file (scripts/test.sh does): it makes sure what the browser tests need is here,
# installing it only when missing, and exports where it is:
#   LINEAGE_CHROMIUM        Debian's chromium (apt-get install chromium; needs root or sudo)
#   LINEAGE_PLAYWRIGHT_DIR  a node_modules folder holding playwright-core (pinned), cached outside the
#                           clone like the venv, so a fresh clone or a CI run with the cache reuses it
# Quiet when everything is present; a failed install prints its log and returns non-zero.
_LINEAGE_PLAYWRIGHT_VERSION="1.65.2"

_lineage_browser_deps() {
  local _log _sudo="" _cache _dir _tmp
  _log="$(mktemp -t lineage-browser-deps.XXXXXX)" || return 1
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      command -v sudo >/dev/null 2>&1 || { echo "browser deps: chromium is missing and installing it needs root or sudo" >&2; return 1; }
      _sudo="sudo -n"
    fi
    echo "browser deps: installing Debian's chromium (once)" >&2
    # DPkg::Lock::Timeout: wait for another apt run instead of failing on its lock
    if ! { DEBIAN_FRONTEND=noninteractive $_sudo apt-get -o DPkg::Lock::Timeout=600 update -q \
           && DEBIAN_FRONTEND=noninteractive $_sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q \
              --no-install-recommends chromium fonts-dejavu-core; } >"$_log" 2>&1; then
      cat "$_log" >&2
      echo "browser deps: installing chromium failed (log above)" >&2
      return 1
    fi
  fi
  LINEAGE_CHROMIUM="$(command -v chromium)" || { echo "browser deps: chromium not on PATH after install" >&2; return 1; }
  command -v npm >/dev/null 2>&1 || { echo "browser deps: npm is needed for playwright-core (apt-get install nodejs npm)" >&2; return 1; }
  _cache="${XDG_CACHE_HOME:-$HOME/.cache}/lineage/node"
  _dir="$_cache/playwright-core-$_LINEAGE_PLAYWRIGHT_VERSION"
  if [ ! -f "$_dir/.complete" ]; then
    echo "browser deps: installing playwright-core $_LINEAGE_PLAYWRIGHT_VERSION into $_dir (once)" >&2
    mkdir -p "$_cache" || return 1
    _tmp="$(mktemp -d "$_cache/.install.XXXXXX")" || return 1
    # playwright-core downloads no browser; it drives the system chromium
    if ! PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$_tmp" --no-save --no-audit --no-fund \
         --loglevel=error "playwright-core@$_LINEAGE_PLAYWRIGHT_VERSION" >"$_log" 2>&1; then
      cat "$_log" >&2
      rm -rf "$_tmp"
      echo "browser deps: installing playwright-core failed (log above)" >&2
      return 1
    fi
    touch "$_tmp/.complete"
    # another run may have finished first: keep theirs
    mv -T "$_tmp" "$_dir" 2>/dev/null || rm -rf "$_tmp"
  fi
  rm -f "$_log"
  export LINEAGE_CHROMIUM
  export LINEAGE_PLAYWRIGHT_DIR="$_dir/node_modules"
}

if (return 0 2>/dev/null); then
  _lineage_browser_deps_rc=0
  _lineage_browser_deps || _lineage_browser_deps_rc=$?
  unset -f _lineage_browser_deps
  return "$_lineage_browser_deps_rc" 2>/dev/null || true
else
  _lineage_browser_deps || exit $?
  echo "LINEAGE_CHROMIUM=$LINEAGE_CHROMIUM"
  echo "LINEAGE_PLAYWRIGHT_DIR=$LINEAGE_PLAYWRIGHT_DIR"
fi
