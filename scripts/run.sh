#!/usr/bin/env bash
# One command for a newcomer: install what is missing, build, and serve the
# example configuration (config/trellis.yaml) with the example plugins.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset dev
cmake --build --preset dev --target trellis first-party-plugins
config=${TRELLIS_CONFIG:-config/trellis.yaml}
port=$(sed -n 's/^ *port: *\([0-9]*\).*/\1/p' "$config" | head -n1)
echo
echo "Trellis is starting with $config; open http://localhost:${port:-8080}/hello/world or http://localhost:${port:-8080}/api/notes (Ctrl-C stops it)"
echo "Its API as OpenAPI 3.1: http://localhost:${port:-8080}/openapi.json; the operator dashboard: http://127.0.0.1:9901/"
echo
exec build/dev/host/trellis serve --config "$config" --plugin-path build/dev/plugins
