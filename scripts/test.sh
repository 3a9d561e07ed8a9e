#!/usr/bin/env bash
# One command for the whole test suite: install what is missing, configure
# with warnings as errors, build everything, run every test (unit and
# end-to-end against the real binary).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --workflow --preset ci
