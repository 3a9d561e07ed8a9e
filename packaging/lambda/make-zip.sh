#!/usr/bin/env bash
# Makes the AWS Lambda deployment package (a custom runtime for
# provided.al2023) from a build tree:
#
#   packaging/lambda/make-zip.sh BUILD_DIR OUT.zip [CONFIG]
#
# CONFIG is the operator configuration to ship as trellis.yaml (default:
# packaging/lambda/trellis.yaml). The zip holds
#
#   bootstrap                      what Lambda starts: execs trellis through the bundled loader
#   bin/trellis                    the host (stripped)
#   lib/trellis/plugins/lib*.so    the first-party plugins (stripped)
#   lib/ld-linux-x86-64.so.2       the dynamic loader of the build machine,
#   lib/libc.so.6, lib/...         and every shared library trellis and the plugins load
#   trellis.yaml                   the configuration
#
# Amazon Linux 2023 has glibc 2.34; Debian 12 builds against 2.36. Nothing of
# the system's libraries is used: bootstrap runs
#   lib/ld-linux-x86-64.so.2 --library-path $LAMBDA_TASK_ROOT/lib $LAMBDA_TASK_ROOT/bin/trellis lambda -c ...
# so the loader, libc and every other library come from the zip.
# Entries are sorted and carry fixed times and modes, so two zips of the
# same build are byte for byte the same. packaging/lambda/README.md says more.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: $0 BUILD_DIR OUT.zip [CONFIG]" >&2; exit 2; }
fail() { echo "make-zip: $*" >&2; exit 1; }
[[ $# -ge 2 && $# -le 3 ]] || usage
[[ -f $1/CMakeCache.txt ]] || fail "$1 is not a CMake build tree (no CMakeCache.txt)"
build=$(cd "$1" && pwd)
[[ -d $(dirname "$2") ]] || fail "no folder $(dirname "$2") for $2"
out=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
config=${3:-$here/trellis.yaml}
[[ -f $config ]] || fail "no configuration $config"
command -v zip >/dev/null || fail "zip is not installed (apt-get install zip; scripts/install-deps.sh)"

work=$(mktemp -d /tmp/trellis-lambda-zip.XXXXXX)
trap 'rm -rf "$work"' EXIT

# What the build installs of the host and the plugins, stripped, into a scratch prefix.
for component in host plugins; do
    cmake --install "$build" --prefix "$work/install" --component "$component" --strip \
        >"$work/install-$component.log" 2>&1 || fail "cmake --install --component $component: $(cat "$work/install-$component.log")"
done
pkg=$work/pkg
mkdir -p "$pkg/bin" "$pkg/lib/trellis/plugins"
cp "$work/install/bin/trellis" "$pkg/bin/trellis"
plugins=("$work"/install/lib/trellis/plugins/lib*.so)
[[ -e ${plugins[0]} ]] || fail "the build installs no plugins into lib/trellis/plugins"
cp "${plugins[@]}" "$pkg/lib/trellis/plugins/"

# Every library the loader resolves for them (ldd gives the whole closure),
# under the name they ask for, and the loader itself.
for elf in "$pkg/bin/trellis" "$pkg"/lib/trellis/plugins/*.so; do
    ldd "$elf" >"$work/ldd.txt" 2>&1 || fail "ldd $elf: $(cat "$work/ldd.txt")"
    if grep -q 'not found' "$work/ldd.txt"; then fail "$elf: $(grep 'not found' "$work/ldd.txt")"; fi
    # "libfoo.so.1 => /usr/lib/.../libfoo.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
    awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 } $1 ~ /^\// { n = split($1, p, "/"); print p[n], $1 }' "$work/ldd.txt"
done | sort -u >"$work/libs.txt"
while read -r name path; do
    [[ -e $pkg/lib/$name ]] || cp -L "$path" "$pkg/lib/$name"
done <"$work/libs.txt"
[[ -f $pkg/lib/ld-linux-x86-64.so.2 ]] || fail "ldd named no ld-linux-x86-64.so.2 (not an x86-64 build?)"

cat >"$pkg/bootstrap" <<'EOF'
#!/bin/sh
# AWS Lambda's custom runtime entry (provided.al2023, handler "bootstrap"):
# trellis through the loader bundled beside it, so the loader, libc and
# every library come from this package, not from Amazon Linux.
#   ./bootstrap                 trellis lambda -c ${TRELLIS_CONFIG:-<this folder>/trellis.yaml}
#   ./bootstrap ARGS...         trellis ARGS... (./bootstrap --version, ./bootstrap check -c trellis.yaml)
set -eu
root=$(cd "$(dirname "$0")" && pwd -P)
if [ "$#" -eq 0 ]; then
    set -- lambda -c "${TRELLIS_CONFIG:-$root/trellis.yaml}"
fi
exec "$root/lib/ld-linux-x86-64.so.2" --library-path "$root/lib" "$root/bin/trellis" "$@"
EOF
cp "$config" "$pkg/trellis.yaml"

# Fixed modes and times (the last commit's time when the tree is a git
# checkout, else SOURCE_DATE_EPOCH, else 2020-01-01), sorted entries, no
# extra attributes: reproducible.
find "$pkg" -type d -exec chmod 0755 {} +
find "$pkg" -type f -exec chmod 0644 {} +
chmod 0755 "$pkg/bootstrap" "$pkg/bin/trellis" "$pkg/lib/ld-linux-x86-64.so.2"
stamp=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || echo 1577836800)}
find "$pkg" -exec touch -h -d "@$stamp" {} +
rm -f "$out"
(cd "$pkg" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | TZ=UTC zip -X -q -9 "$out" -@)
libs=("$pkg"/lib/*.so*)
echo "make-zip: $out: $(stat -c %s "$out") bytes, $(unzip -Z1 "$out" | wc -l) files (${#libs[@]} libraries, ${#plugins[@]} plugins)"
