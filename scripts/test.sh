#!/usr/bin/env bash
# One command for the whole test suite: install what is missing, configure
# with warnings as errors, build everything, start a throwaway PostgreSQL on
# 127.0.0.1 for the database tests, run every test (unit and end-to-end
# against the real binary), build and check the container image, build and
# run them all again under ASan + UBSan, stop PostgreSQL again, then run
# every fuzz target briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset ci
cmake --build --preset ci

# Inside the build tree: the server runs as the postgres user when we are
# root, and that user can reach this folder (not a private mktemp dir).
pgdir=build/ci/pg-test
trap 'scripts/pg-test-server.sh stop "$pgdir"' EXIT
TRELLIS_TEST_PG_URL=$(scripts/pg-test-server.sh start "$pgdir")
export TRELLIS_TEST_PG_URL

ctest --preset ci -j2

# The container image (packaging/container/Containerfile) with podman, on a
# Debian 12 base image made here with mmdebstrap: built, started, a hello
# route and a note through the mapped port, the HEALTHCHECK, SIGTERM -> exit
# 0 within the grace period, the note read back by a new container on the
# same volume (3 to 5 min cold, 10 s warm; scripts/container.sh).
scripts/container.sh test

# The whole suite again, built with AddressSanitizer + UndefinedBehaviorSanitizer
# (gcc, -O1): the host, every plugin and every test; a memory error, a leak or
# undefined behaviour fails the test that triggers it.
cmake --preset asan
cmake --build --preset asan
ctest --preset asan -j2

# Every libFuzzer target for a short bounded time (clang, ASan + UBSan):
# a crash, leak or timeout fails the run (scripts/fuzz.sh SECONDS for longer).
scripts/fuzz.sh 20
