#!/usr/bin/env bash
# The whole test suite: install (cached; the browser tests' chromium and playwright-core too), start
# a throw-away Neo4j on its own ports, run pytest, and stop Neo4j even when tests fail. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
# The browser tests (the report in chromium, the graph in Neo4j Browser) run on every clone:
# chromium and playwright-core are installed here when missing (cached outside the clone).
source scripts/browser_deps.sh
# Screenshots and other files a run keeps for people to look at (git-ignored).
export LINEAGE_TEST_ARTEFACTS="${LINEAGE_TEST_ARTEFACTS:-$PWD/test-artefacts}"
mkdir -p "$LINEAGE_TEST_ARTEFACTS"
export LINEAGE_STATE_DIR="$(mktemp -d -t lineage-test-state.XXXXXX)"
export LINEAGE_CACHE_DIR="${LINEAGE_TEST_CACHE_DIR:-$LINEAGE_STATE_DIR/cache}"
export LINEAGE_BOLT_PORT="${LINEAGE_TEST_BOLT_PORT:-17687}" LINEAGE_HTTP_PORT="${LINEAGE_TEST_HTTP_PORT:-17474}"
export LINEAGE_NEO4J_URI="bolt://127.0.0.1:$LINEAGE_BOLT_PORT"
unset NEO4J_URI NEO4J_USER NEO4J_PASSWORD NEO4J_DATABASE LINEAGE_NEO4J_PASSWORD
cleanup() { lineage db stop || true; rm -rf "$LINEAGE_STATE_DIR"; }
trap cleanup EXIT
trap "exit 130" INT TERM
lineage db start
python -m pytest "$@"
