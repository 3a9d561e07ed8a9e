#!/usr/bin/env bash
# Browser.NotesWeb: the notes web app (examples/notes-web, built into the
# notes_web plugin's static folder by the CMake build) served by a real
# `trellis serve` with the notes plugin at /api/notes and the app at /, on a
# free 127.0.0.1 port with SQLite in a scratch folder. First the static
# answers a built app needs (curl), then notes_web.mjs drives Debian's
# chromium through the app (playwright-core). Screenshots land in
# BUILD_DIR/browser-artifacts/.
#
#   notes_web_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
here=$source/tests/browser
fail() { echo "notes_web_test: FAIL: $*" >&2; exit 1; }
source "$source/tests/lib/serve.sh"

trellis=$build/host/trellis
webdir=$build/examples/notes-web
static=$webdir/notes_web/static
artifacts=$build/browser-artifacts
[[ -d $here/node_modules/playwright-core ]] \
    || fail "playwright-core is not installed in $here/node_modules: run scripts/install-deps.sh"
chromium=${TRELLIS_CHROMIUM:-/usr/bin/chromium}
[[ -x $chromium ]] || fail "$chromium is missing: run scripts/install-deps.sh (Debian package chromium)"
[[ -f $webdir/libnotes_web.so ]] || fail "$webdir/libnotes_web.so is missing: build the tree first"
[[ -f $static/index.html ]] \
    || fail "the web app is not built into $static: the CMake build runs npm there when npm and examples/notes-web/node_modules are installed (scripts/install-deps.sh)"

work=$(mktemp -d /tmp/trellis-notes-web.XXXXXX)
cleanup() {
    stop_serve
    rm -rf "$work"
}
trap cleanup EXIT

write_config() {
    cat >"$work/trellis.yaml" <<YAML
server: {listen: 127.0.0.1, port: $1, workers: 0, threads: 2}
admin: {enabled: false}
logging: {access: false}
database: {url: "sqlite://notes.db"}
plugins:
  notes: {mount: /api/notes}
  notes_web: {mount: /}
YAML
}
probe() { curl -sf "http://127.0.0.1:$1/api/notes" >/dev/null; }
serve_on_free_port "$work/serve.log" "$trellis" serve -c "$work/trellis.yaml" -p "$build/plugins" -p "$webdir"
port=$SERVE_PORT
base=http://127.0.0.1:$port
echo "+ trellis serve on $base (notes at /api/notes, notes_web at /)"

# --- the static answers of the built app --------------------------------------
# answer PATH [curl args...]: the answer's status line and headers, lower-cased names.
answer() { local p=$1; shift; curl -s -o /dev/null -D - "$@" "$base$p" | tr -d '\r' | sed 's/^\([^:]*\):/\L\1:/'; }
expect() {  # expect WHAT HEADERS PATTERN
    grep -qiE "$3" <<<"$2" || fail "$1: no line matching '$3' in:"$'\n'"$2"
}
js=$(cd "$static" && ls assets/index-*.js | head -1)
css=$(cd "$static" && ls assets/index-*.css | head -1)
[[ -n $js && -n $css ]] || fail "no hashed assets/index-*.js and .css in $static"

h=$(answer / -H 'Accept: text/html')
expect "GET /" "$h" '^HTTP/1.1 200'
expect "GET /" "$h" '^content-type: text/html; charset=utf-8$'
expect "GET /" "$h" '^cache-control: no-cache$'
h=$(answer "/$js")
expect "GET /$js" "$h" '^content-type: text/javascript; charset=utf-8$'
expect "GET /$js" "$h" '^cache-control: public, max-age=31536000, immutable$'
expect "GET /$js" "$h" '^etag: "'
h=$(answer "/$js" -H 'Accept-Encoding: gzip, deflate, br')
expect "GET /$js (br)" "$h" '^content-encoding: br$'
expect "GET /$js (br)" "$h" '^vary: .*accept-encoding'
cmp -s <(curl -s -H 'Accept-Encoding: br' "$base/$js") "$static/$js.br" || fail "GET /$js with br is not $js.br"
h=$(answer "/$js" -H 'Accept-Encoding: gzip')
expect "GET /$js (gzip)" "$h" '^content-encoding: gzip$'
cmp -s <(curl -s -H 'Accept-Encoding: gzip' "$base/$js") "$static/$js.gz" || fail "GET /$js with gzip is not $js.gz"
cmp -s <(curl -s "$base/$js") "$static/$js" || fail "GET /$js without Accept-Encoding is not the file itself"
h=$(answer "/$css")
expect "GET /$css" "$h" '^content-type: text/css; charset=utf-8$'
expect "GET /$css" "$h" '^cache-control: public, max-age=31536000, immutable$'
h=$(answer "/$js.map")
expect "GET /$js.map" "$h" '^content-type: application/json'
h=$(answer /favicon.svg)
expect "GET /favicon.svg" "$h" '^content-type: image/svg\+xml'
expect "GET /favicon.svg" "$h" '^cache-control: public, max-age=3600$'
# A deep link is a navigation: index.html (no-cache); the same path asked for
# as data, or a missing asset, is the 404 chain's problem+json.
h=$(answer /notes/42 -H 'Accept: text/html,application/xhtml+xml')
expect "GET /notes/42 (navigation)" "$h" '^HTTP/1.1 200'
expect "GET /notes/42 (navigation)" "$h" '^content-type: text/html'
expect "GET /notes/42 (navigation)" "$h" '^cache-control: no-cache$'
h=$(answer /notes/42 -H 'Accept: application/json')
expect "GET /notes/42 (json)" "$h" '^HTTP/1.1 404'
h=$(answer /assets/index-00000000.js -H 'Accept: text/html')
expect "GET a missing asset" "$h" '^HTTP/1.1 404'
h=$(answer /api/notes/999999 -H 'Accept: text/html')
expect "GET /api/notes/999999" "$h" '^HTTP/1.1 404'
expect "GET /api/notes/999999" "$h" '^content-type: application/problem\+json'
echo "+ static answers: index.html no-cache, hashed assets immutable, MIME types, .br/.gz siblings, SPA fallback"

# --- the browser ---------------------------------------------------------------
mkdir -p "$artifacts"
started=$(date +%s%N)
node "$here/notes_web.mjs" "$base" "$artifacts" || fail "see above (screenshots in $artifacts; server log: $(tail -20 "$work/serve.log"))"
echo "+ browser part: $(( ($(date +%s%N) - started) / 1000000 )) ms; screenshots: $artifacts/notes-web.png, $artifacts/notes-web-list.png"
echo "notes_web_test: OK"
