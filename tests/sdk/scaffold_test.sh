#!/usr/bin/env bash
# `trellis new-plugin` as a plugin author meets it: installs the SDK and the
# host from this build tree into a scratch prefix (cmake --install,
# components sdk and host), runs the INSTALLED `trellis new-plugin` into a
# temporary folder, builds the project out of tree against the prefix with
# find_package(TrellisSDK), runs its GoogleTest (the in-process test client)
# through ctest and checks that the scaffold's tests ran, then serves the
# built plugin with the installed `trellis serve`, from the project's own
# trellis.yaml on a random 127.0.0.1 port, and asks it over a real socket.
# Twice: the plain project, and --with-model (a record POSTed, then read).
#
#   scaffold_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
fail() { echo "scaffold_test: FAIL: $*" >&2; exit 1; }
source "$(dirname "$0")/../lib/serve.sh"

work=$(mktemp -d /tmp/trellis-scaffold.XXXXXX)
cleanup() {
    stop_serve
    rm -rf "$work"
}
trap cleanup EXIT

prefix=$work/prefix
for component in sdk host; do
    cmake --install "$build" --prefix "$prefix" --component "$component" >"$work/install.log" 2>&1 \
        || fail "cmake --install --component $component: $(cat "$work/install.log")"
done
trellis=$prefix/bin/trellis
[[ -x $trellis ]] || fail "no $trellis after the install"

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

# serve PROJECT_DIR: the installed host on the project's own trellis.yaml
# with a free port ($port).
serve() {
    local project=$1
    write_config() {
        sed "s/^  port: 8080$/  port: $1/" "$project/trellis.yaml" >"$project/trellis.test.yaml"
        grep -q "^  port: $1$" "$project/trellis.test.yaml" || fail "the scaffold's trellis.yaml has no 'port: 8080' line"
    }
    probe() { curl -sf "http://127.0.0.1:$1/api/hello/ada" >/dev/null; }
    serve_on_free_port "$work/serve.log" "$trellis" serve -c "$project/trellis.test.yaml" -p "$project/build"
    port=$SERVE_PORT
}

# scaffold NAME SUITE [--with-model]: new-plugin, configure, build, ctest.
scaffold() {
    local name=$1 suite=$2 project=$work/$1
    shift 2
    echo "+ trellis new-plugin $name --dir $project $*"
    "$trellis" new-plugin "$name" --dir "$project" "$@" >"$work/new.log" 2>&1 \
        || fail "trellis new-plugin $name $*: $(cat "$work/new.log")"
    for f in CMakeLists.txt "$name.plugin.yaml" "$name.cpp" "${name}_test.cpp" trellis.yaml README.md; do
        [[ -s $project/$f ]] || fail "new-plugin wrote no $f (found: $(ls "$project"))"
        grep -qxF "  $project/$f" "$work/new.log" || fail "new-plugin did not list $f: $(cat "$work/new.log")"
    done
    # The next commands it prints point at this prefix's SDK.
    grep -qF "cmake -S $project -B $project/build -DCMAKE_PREFIX_PATH=$prefix" "$work/new.log" \
        || fail "new-plugin's next steps do not name the prefix: $(cat "$work/new.log")"

    echo "+ cmake -S $project -B $project/build -DCMAKE_PREFIX_PATH=$prefix"
    cmake -S "$project" -B "$project/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" "${launcher[@]}" \
        >"$work/configure.log" 2>&1 || fail "configure $name: $(cat "$work/configure.log")"
    cmake --build "$project/build" >"$work/build.log" 2>&1 || fail "build $name: $(cat "$work/build.log")"
    [[ -f $project/build/lib$name.so ]] || fail "no lib$name.so: $(ls "$project/build")"
    echo "+ ctest --test-dir $project/build"
    ctest --test-dir "$project/build" --output-on-failure >"$work/ctest.log" 2>&1 \
        || fail "the scaffold's test failed: $(cat "$work/ctest.log")"
    grep -q "100% tests passed" "$work/ctest.log" || fail "unexpected ctest output: $(cat "$work/ctest.log")"
    for t in GreetsByName GreetingIsASetting UnknownPathIsAProblemJson404; do
        grep -q "$suite\.$t" "$work/ctest.log" || fail "$suite.$t did not run: $(cat "$work/ctest.log")"
    done
}

# The plain project: one route.
scaffold greeter Greeter
serve "$work/greeter"
body=$(curl -sf "http://127.0.0.1:$port/api/hello/ada") || fail "GET /api/hello/ada failed: $(cat "$work/serve.log")"
[[ $body == '{"message":"Hello, ada!"}' ]] || fail "GET /api/hello/ada answered '$body'"
stop_serve
echo "scaffold_test: plain project OK ($body)"

# --with-model: the model's tests ran too, and a record goes through serve.
scaffold book-marks BookMarks --with-model
for t in CreatesAndReadsAnItem RefusesAnItemWithoutATitle; do
    grep -q "BookMarks\.$t" "$work/ctest.log" || fail "BookMarks.$t did not run: $(cat "$work/ctest.log")"
done
serve "$work/book-marks"
created=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"title":"first"}' \
    -w ' %{http_code}' "http://127.0.0.1:$port/api/items") || fail "POST /api/items failed: $(cat "$work/serve.log")"
[[ $created == *' 201' ]] || fail "POST /api/items answered '$created'"
id=$(sed -n 's/.*"id":\([0-9][0-9]*\).*/\1/p' <<<"$created")
[[ -n $id ]] || fail "POST /api/items gave no id: '$created'"
read_back=$(curl -sf "http://127.0.0.1:$port/api/items/$id") || fail "GET /api/items/$id failed: $(cat "$work/serve.log")"
grep -q '"title":"first"' <<<"$read_back" || fail "GET /api/items/$id answered '$read_back'"
grep -q '"done":false' <<<"$read_back" || fail "GET /api/items/$id lacks the default done: '$read_back'"
stop_serve
[[ -f $work/book-marks/book-marks.db ]] || fail "the record was not stored in book-marks.db beside trellis.yaml"
echo "scaffold_test: OK (built against $prefix; plain: $body; with a model: $read_back)"
