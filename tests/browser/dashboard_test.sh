#!/usr/bin/env bash
# Browser.Dashboard: the operator dashboard of a real `trellis serve` (two
# workers, hello and notes, SQLite in a scratch folder; the admin listener on
# a free 127.0.0.1 port) in Debian's chromium (dashboard.mjs). The screenshot
# lands in BUILD_DIR/browser-artifacts/dashboard.png.
#
#   dashboard_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$2/tests/browser" && pwd)
fail() { echo "dashboard_test: FAIL: $*" >&2; exit 1; }
source "$(dirname "$0")/../lib/serve.sh"
[[ -d $here/node_modules/playwright-core ]] \
    || fail "playwright-core is not installed in $here/node_modules: run scripts/install-deps.sh"
[[ -x ${TRELLIS_CHROMIUM:-/usr/bin/chromium} ]] || fail "chromium is missing: run scripts/install-deps.sh"

work=$(mktemp -d /tmp/trellis-dashboard.XXXXXX)
cleanup() {
    stop_serve
    rm -rf "$work"
}
trap cleanup EXIT

write_config() {
    admin=$(($1 + 1))
    cat >"$work/trellis.yaml" <<YAML
server: {listen: 127.0.0.1, port: $1, workers: 2, threads: 1}
admin: {listen: 127.0.0.1, port: $admin}
logging: {access: false}
database: {url: "sqlite://notes.db"}
plugins:
  hello: {mount: /}
  notes: {mount: /api/notes}
YAML
}
probe() { curl -sf "http://127.0.0.1:$(($1 + 1))/readyz" >/dev/null; }
serve_on_free_port "$work/serve.log" "$build/host/trellis" serve -c "$work/trellis.yaml" -p "$build/plugins"
port=$SERVE_PORT
artifacts=$build/browser-artifacts
mkdir -p "$artifacts"
node "$here/dashboard.mjs" "http://127.0.0.1:$admin" "http://127.0.0.1:$port" "$artifacts" \
    || fail "see above (screenshots in $artifacts; server log: $(tail -20 "$work/serve.log"))"
echo "dashboard_test: OK (screenshot: $artifacts/dashboard.png)"
