#!/usr/bin/env bash
# `cmake --install BUILD --prefix P` as an operator runs it: the systemd unit
# and the default configuration are written with P's paths at install time,
# whatever prefix the tree was configured with. Installs this build tree into
# a scratch prefix and checks the unit's ExecStart and Documentation, the
# configuration's plugin_path and conf.d/, then runs the installed `trellis
# check` on the installed configuration, which finds the installed plugins
# through that plugin_path alone. Then the same with DESTDIR staging (as
# CPack does): with --prefix /opt/trellis, and with /usr, whose
# configuration goes to /etc/trellis.
#
#   install_prefix_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
fail() { echo "install_prefix_test: FAIL: $*" >&2; exit 1; }

work=$(mktemp -d /tmp/trellis-prefix.XXXXXX)
trap 'rm -rf "$work"' EXIT

# expect_service ROOT PREFIX CONFDIR: ROOT holds an install whose service
# files name PREFIX and CONFDIR (ROOT is the DESTDIR, or empty).
expect_service() {
    local root=$1 prefix=$2 confdir=$3
    local unit=$root$prefix/lib/systemd/system/trellis.service config=$root$confdir/trellis.yaml
    [[ -f $unit ]] || fail "no $unit"
    [[ -f $config ]] || fail "no $config"
    [[ -d $root$confdir/conf.d ]] || fail "no $root$confdir/conf.d"
    grep -qxF "ExecStart=$prefix/bin/trellis serve --config $confdir/trellis.yaml" "$unit" \
        || fail "$unit: ExecStart is '$(grep '^ExecStart=' "$unit")', not $prefix's"
    grep -qxF "Documentation=file://$prefix/share/doc/trellis/README.md" "$unit" \
        || fail "$unit: Documentation is '$(grep '^Documentation=' "$unit")'"
    # Every /etc/trellis/ path of the unit (credentials, comments) moved with it.
    local text
    text=$(<"$unit")
    text=${text//"$confdir/"/}
    if [[ $confdir != /etc/trellis ]] && grep -n '/etc/trellis/' <<<"$text"; then
        fail "$unit still names /etc/trellis/"
    fi
    grep -qxF "  - $prefix/lib/trellis/plugins" "$config" \
        || fail "$config: plugin_path is not $prefix/lib/trellis/plugins: $(grep -A2 '^plugin_path:' "$config")"
    if [[ $prefix != /usr ]] && grep -n '/usr/lib/trellis/plugins' "$config"; then
        fail "$config still names /usr/lib/trellis/plugins"
    fi
}

# 1. --prefix P, no DESTDIR: the files land in P and point inside it.
prefix=$work/prefix
echo "+ cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 \
    || fail "cmake --install: $(cat "$work/install.log")"
expect_service "" "$prefix" "$prefix/etc/trellis"
grep -qxF "$prefix/lib/systemd/system/trellis.service" "$build/install_manifest.txt" \
    || fail "install_manifest.txt does not list the unit"
grep -qxF "$prefix/etc/trellis/trellis.yaml" "$build/install_manifest.txt" \
    || fail "install_manifest.txt does not list the configuration"
[[ -f $prefix/lib/trellis/plugins/libhello.so ]] || fail "no $prefix/lib/trellis/plugins/libhello.so"
# No -p: the installed configuration's own plugin_path finds the plugins.
echo "+ $prefix/bin/trellis check -c $prefix/etc/trellis/trellis.yaml"
out=$(cd "$work" && "$prefix/bin/trellis" check -c "$prefix/etc/trellis/trellis.yaml" 2>&1) \
    || fail "trellis check of the installed configuration failed:
$out"
grep -q ": OK (" <<<"$out" || fail "unexpected check output: $out"

# 2. DESTDIR staging, as CPack installs: paths name the prefix, not the stage.
stage=$work/stage
echo "+ DESTDIR=$stage cmake --install $build --prefix /opt/trellis --component service"
DESTDIR=$stage cmake --install "$build" --prefix /opt/trellis --component service >"$work/install.log" 2>&1 \
    || fail "cmake --install (DESTDIR, /opt/trellis): $(cat "$work/install.log")"
expect_service "$stage" /opt/trellis /opt/trellis/etc/trellis
if grep -rn "$stage" "$stage"; then fail "a staged file names the staging folder"; fi

# 3. The /usr prefix of a distribution package: the configuration in /etc/trellis.
stage=$work/usr-stage
echo "+ DESTDIR=$stage cmake --install $build --prefix /usr --component service"
DESTDIR=$stage cmake --install "$build" --prefix /usr --component service >"$work/install.log" 2>&1 \
    || fail "cmake --install (DESTDIR, /usr): $(cat "$work/install.log")"
expect_service "$stage" /usr /etc/trellis
[[ ! -e $stage/usr/etc ]] || fail "the /usr install wrote $stage/usr/etc"
echo "install_prefix_test: OK (unit and configuration follow --prefix: $prefix, /opt/trellis, /usr)"
