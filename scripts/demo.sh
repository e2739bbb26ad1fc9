#!/usr/bin/env bash
# The main job end to end on the local default: install (cached), build the smol model zoo,
# start the local Neo4j, ingest the zoo and print what a governance user asks first.
# The last two lines say how long each stage took (the environment's time is measured here).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS=0
source scripts/bootstrap.sh
environment=$SECONDS
status=0
lineage demo "$@" || status=$?
printf 'time for the environment (scripts/bootstrap.sh): %d min %02d s; scripts/demo.sh in all: %d min %02d s\n' \
  $((environment / 60)) $((environment % 60)) $((SECONDS / 60)) $((SECONDS % 60)) >&2
exit "$status"
