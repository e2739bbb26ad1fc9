#!/usr/bin/env bash
# The main job end to end on the local default: install (cached), build the smol model zoo,
# start the local Neo4j, ingest the zoo and print what a governance user asks first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
lineage demo "$@"
