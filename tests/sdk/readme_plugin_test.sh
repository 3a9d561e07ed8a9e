#!/usr/bin/env bash
# The README's plugin project, as a plugin author meets it: copies the files
# of README.md's "Writing a plugin" section out verbatim (each fenced block
# whose first line names a file: "# CMakeLists.txt ...", "# x.plugin.yaml...",
# "// x.cpp..."), installs the SDK and the host from this build tree into a
# scratch prefix (cmake --install, components sdk and host), builds the
# project against it with find_package(TrellisSDK), runs its GoogleTest
# (the in-process test client) through ctest, then serves the built plugin
# with the installed `trellis serve` and asks it over a real socket.
#
#   readme_plugin_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
fail() { echo "readme_plugin_test: FAIL: $*" >&2; exit 1; }

source "$(dirname "$0")/../lib/serve.sh"

work=$(mktemp -d /tmp/trellis-readme.XXXXXX)
cleanup() {
    stop_serve
    rm -rf "$work"
}
trap cleanup EXIT

project=$work/greeter
mkdir -p "$project"
awk -v dir="$project" '
    /^## / { in_section = ($0 == "## Writing a plugin") }
    !in_section { next }
    /^```/ {
        if (in_block) { in_block = 0; if (out) close(out); out = ""; next }
        in_block = 1; first = 1; next
    }
    in_block && first {
        first = 0
        if (match($0, /^(#|\/\/) [A-Za-z0-9_.]+(\.txt|\.yaml|\.cpp)/)) {
            name = substr($0, RSTART, RLENGTH); sub(/^(#|\/\/) /, "", name)
            out = dir "/" name
        }
    }
    in_block && out { print > out }
' "$source_dir/README.md"
for f in CMakeLists.txt greeter.plugin.yaml greeter.cpp greeter_test.cpp; do
    [[ -s $project/$f ]] || fail "README.md's plugin section has no block for $f (found: $(ls "$project"))"
done

prefix=$work/prefix
for component in sdk host; do
    cmake --install "$build" --prefix "$prefix" --component "$component" >"$work/install.log" 2>&1 \
        || fail "cmake --install --component $component: $(cat "$work/install.log")"
done

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
echo "+ cmake -S $project -B $project/build -DCMAKE_PREFIX_PATH=$prefix"
cmake -S "$project" -B "$project/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" "${launcher[@]}" \
    >"$work/configure.log" 2>&1 || fail "configure: $(cat "$work/configure.log")"
cmake --build "$project/build" >"$work/build.log" 2>&1 || fail "build: $(cat "$work/build.log")"
[[ -f $project/build/libgreeter.so ]] || fail "no libgreeter.so: $(ls "$project/build")"
echo "+ ctest --test-dir $project/build"
ctest --test-dir "$project/build" --output-on-failure >"$work/ctest.log" 2>&1 \
    || fail "the README's test failed: $(cat "$work/ctest.log")"
grep -q "100% tests passed" "$work/ctest.log" || fail "unexpected ctest output: $(cat "$work/ctest.log")"
grep -q "Greeter.GreetsWithTheConfiguredGreeting" "$work/ctest.log" || fail "the README's test did not run: $(cat "$work/ctest.log")"

# The same library under the installed host, over a socket.
write_config() {
    cat >"$work/trellis.yaml" <<EOF
server: {listen: 127.0.0.1, port: $1, workers: 0, threads: 1}
admin: {enabled: false}
logging: {access: false}
plugins:
  greeter: {mount: /api, settings: {greeting: Hi}}
EOF
}
probe() { curl -sf "http://127.0.0.1:$1/api/greet/ada" >/dev/null; }
serve_on_free_port "$work/serve.log" "$prefix/bin/trellis" serve -c "$work/trellis.yaml" -p "$project/build"
body=$(curl -sf "http://127.0.0.1:$SERVE_PORT/api/greet/ada") || fail "GET /api/greet/ada failed: $(cat "$work/serve.log")"
[[ $body == '{"message":"Hi, ada"}' ]] || fail "GET /api/greet/ada answered '$body': $(cat "$work/serve.log")"
echo "readme_plugin_test: OK (built against $prefix, test client and serve agree: $body)"
