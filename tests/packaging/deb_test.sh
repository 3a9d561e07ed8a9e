#!/usr/bin/env bash
# The Debian packages as an operator gets them: builds both .deb files with
# CPack from this build tree, checks what they contain and declare, extracts
# the runtime package into a scratch root, runs `trellis check` from it
# against the packaged default configuration and plugins, and scores the
# packaged systemd unit with `systemd-analyze security --offline=yes`.
#
#   deb_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
fail() { echo "deb_test: FAIL: $*" >&2; exit 1; }

work=$(mktemp -d /tmp/trellis-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
arch=$(dpkg --print-architecture)
[[ $prefix == /usr ]] && confdir=/etc/trellis || confdir=$prefix/etc/trellis

echo "+ cpack -G DEB --config $build/CPackConfig.cmake -B $work/out"
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1) \
    || fail "cpack failed: $(cat "$work/cpack.log")"
runtime=$work/out/trellis_${version}_${arch}.deb
sdk=$work/out/trellis-dev_${version}_${arch}.deb
[[ -f $runtime ]] || fail "no $runtime; cpack made: $(ls "$work/out")"
[[ -f $sdk ]] || fail "no $sdk; cpack made: $(ls "$work/out")"

# contains DEB PATH...: every path is in the package's file list.
contains() {
    local deb=$1 list path
    shift
    list=$(dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|; s|/$||')
    for path in "$@"; do
        grep -qxF "$path" <<<"$list" || fail "$(basename "$deb") lacks $path; it has:
$list"
    done
}
contains "$runtime" "$prefix/bin/trellis" \
    "$prefix/lib/trellis/plugins/libhello.so" "$prefix/lib/trellis/plugins/libnotes.so" \
    "$prefix/lib/trellis/plugins/libcors.so" "$prefix/lib/systemd/system/trellis.service" \
    "$prefix/lib/sysusers.d/trellis.conf" "$confdir/trellis.yaml" "$confdir/conf.d" \
    "$prefix/share/doc/trellis/README.md"
contains "$sdk" "$prefix/include/trellis/abi.h" "$prefix/include/trellis/plugin.hpp" \
    "$prefix/lib/cmake/TrellisSDK/TrellisSDKConfig.cmake"
# Nothing of the SDK in the runtime package, nothing of the host in the SDK.
if dpkg-deb -c "$runtime" | grep -q 'include/trellis'; then fail "the runtime package carries SDK headers"; fi
if dpkg-deb -c "$sdk" | grep -q 'bin/trellis'; then fail "the SDK package carries the host"; fi

# control: shared-library dependencies found by dpkg-shlibdeps; the config is a conffile.
depends=$(dpkg-deb -f "$runtime" Depends)
for lib in libpistache0 libyaml-cpp0.7 libsoci-core4.0 libsystemd0; do
    grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
dpkg-deb -e "$runtime" "$work/control"
grep -qxF "$confdir/trellis.yaml" "$work/control/conffiles" || fail "trellis.yaml is not a conffile"

# The packaged files, extracted: the unit points at them, and check passes.
root=$work/root
dpkg-deb -x "$runtime" "$root"
unit=$root$prefix/lib/systemd/system/trellis.service
for line in "Type=notify" "ExecStart=$prefix/bin/trellis serve --config $confdir/trellis.yaml" \
            'ExecReload=/bin/kill -HUP $MAINPID' "KillMode=mixed" "User=trellis"; do
    grep -qxF "$line" "$unit" || fail "the unit lacks '$line'"
done
grep -q '^WatchdogSec=' "$unit" || fail "the unit sets no WatchdogSec"
config=$root$confdir/trellis.yaml
grep -q "$prefix/lib/trellis/plugins" "$config" || fail "the packaged configuration does not point at $prefix/lib/trellis/plugins"
echo "+ trellis check -c $config -p $root$prefix/lib/trellis/plugins"
out=$("$root$prefix/bin/trellis" check -c "$config" -p "$root$prefix/lib/trellis/plugins" 2>&1) \
    || fail "trellis check of the packaged configuration failed:
$out"
grep -q ": OK (" <<<"$out" || fail "unexpected check output: $out"
echo "$out"

if command -v systemd-analyze >/dev/null; then
    score=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    [[ -n $score ]] || fail "systemd-analyze gave no exposure level"
    awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "the unit's exposure level is $score, above 2.0"
    echo "systemd-analyze security --offline=yes: exposure $score"
else
    fail "systemd-analyze not found (scripts/install-deps.sh installs systemd)"
fi
echo "deb_test: OK ($(basename "$runtime"), $(basename "$sdk"))"
