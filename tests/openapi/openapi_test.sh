#!/usr/bin/env bash
# The OpenAPI document against an independent validator and a live host:
# `trellis openapi` prints the document of a configuration with the hello
# and notes plugins (SQLite in a scratch folder), `trellis serve` serves the
# same configuration on a 127.0.0.1 port, and conformance.mjs validates the
# document and calls every operation it lists (see that file).
#
#   openapi_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$2/tests/openapi" && pwd)
fail() { echo "openapi_test: FAIL: $*" >&2; exit 1; }
source "$(dirname "$0")/../lib/serve.sh"
[[ -d $here/node_modules/@seriousme/openapi-schema-validator ]] \
    || fail "the validator is not installed in $here/node_modules: run scripts/install-deps.sh"

work=$(mktemp -d /tmp/trellis-openapi.XXXXXX)
cleanup() {
    stop_serve
    rm -rf "$work"
}
trap cleanup EXIT

trellis=$build/host/trellis
plugins=$build/plugins
write_config() {
    cat >"$work/trellis.yaml" <<YAML
server: {listen: 127.0.0.1, port: $1, workers: 0, threads: 1}
admin: {enabled: false}
logging: {access: false}
database: {url: "sqlite://data.db"}
openapi: {title: Conformance test}
plugins:
  hello: {mount: /}
  notes: {mount: /api/notes}
YAML
    "$trellis" openapi -c "$work/trellis.yaml" -p "$plugins" -o "$work/openapi.json" \
        || fail "trellis openapi exited $?"
}
probe() { curl -sf "http://127.0.0.1:$1/hello" >/dev/null; }
serve_on_free_port "$work/serve.log" "$trellis" serve -c "$work/trellis.yaml" -p "$plugins"
port=$SERVE_PORT
node "$here/conformance.mjs" "$work/openapi.json" "http://127.0.0.1:$port" || fail "see above"

# The checks can fail: a document that leaves out the 201 of a create, and
# one whose note title allows 3 characters, must each be refused.
alter() {  # alter NAME JS-EXPRESSION-ON-doc EXPECTED-MESSAGE
    node -e 'const fs = require("fs"); const doc = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
             '"$2"'; fs.writeFileSync(process.argv[2], JSON.stringify(doc));' "$work/openapi.json" "$work/$1.json"
    if CONFORMANCE_ALTERED=1 node "$here/conformance.mjs" "$work/$1.json" "http://127.0.0.1:$port" >"$work/$1.log" 2>&1; then
        fail "conformance.mjs accepted the altered document $1: $(cat "$work/$1.log")"
    fi
    grep -q "$3" "$work/$1.log" || fail "altered document $1 failed for another reason: $(cat "$work/$1.log")"
    echo "+ altered document $1 refused: $(grep FAIL "$work/$1.log" | cut -c1-160)"
}
alter no-201 'delete doc.paths["/api/notes"].post.responses["201"]' "POST /api/notes -> 201 is not documented"
alter short-title 'doc.components.schemas.notes_note.properties.title.maxLength = 3' "does not match its schema"
echo "openapi_test: OK"
