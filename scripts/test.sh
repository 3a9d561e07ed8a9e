#!/usr/bin/env bash
# One command for the whole test suite: install what is missing, configure
# with warnings as errors, build everything, start a throwaway PostgreSQL on
# 127.0.0.1 for the database tests, run every test (unit and end-to-end
# against the real binary), and stop PostgreSQL again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset ci
cmake --build --preset ci

pgdir=$(mktemp -d "${TMPDIR:-/tmp}/trellis-pg.XXXXXX")
trap 'scripts/pg-test-server.sh stop "$pgdir"' EXIT
scripts/pg-test-server.sh start "$pgdir"
TRELLIS_TEST_PG_URL=$(scripts/pg-test-server.sh url "$pgdir")
export TRELLIS_TEST_PG_URL

ctest --preset ci -j2
