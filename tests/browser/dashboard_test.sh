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
[[ -d $here/node_modules/playwright-core ]] \
    || fail "playwright-core is not installed in $here/node_modules: run scripts/install-deps.sh"
[[ -x ${TRELLIS_CHROMIUM:-/usr/bin/chromium} ]] || fail "chromium is missing: run scripts/install-deps.sh"

work=$(mktemp -d /tmp/trellis-dashboard.XXXXXX)
server=
cleanup() {
    [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

for attempt in 1 2 3 4 5; do
    port=$((30000 + (RANDOM * 7 + $$) % 20000))
    admin=$((port + 1))
    cat >"$work/trellis.yaml" <<YAML
server: {listen: 127.0.0.1, port: $port, workers: 2, threads: 1}
admin: {listen: 127.0.0.1, port: $admin}
logging: {access: false}
database: {url: "sqlite://notes.db"}
plugins:
  hello: {mount: /}
  notes: {mount: /api/notes}
YAML
    "$build/host/trellis" serve -c "$work/trellis.yaml" -p "$build/plugins" >"$work/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 300); do
        curl -sf "http://127.0.0.1:$admin/readyz" >/dev/null 2>&1 && break 2
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$server" 2>/dev/null && fail "trellis serve was not ready on port $port: $(cat "$work/serve.log")"
    grep -qi "in use" "$work/serve.log" || fail "trellis serve exited: $(cat "$work/serve.log")"
    server=
    echo "+ port $port or $admin taken (attempt $attempt), trying others"
done
artifacts=$build/browser-artifacts
mkdir -p "$artifacts"
node "$here/dashboard.mjs" "http://127.0.0.1:$admin" "http://127.0.0.1:$port" "$artifacts" \
    || fail "see above (screenshots in $artifacts; server log: $(tail -20 "$work/serve.log"))"
echo "dashboard_test: OK (screenshot: $artifacts/dashboard.png)"
