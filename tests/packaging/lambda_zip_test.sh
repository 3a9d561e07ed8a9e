#!/usr/bin/env bash
# The AWS Lambda package as Lambda gets it: builds the zip from this build
# tree with packaging/lambda/make-zip.sh, checks its entries (sorted, the
# files bootstrap needs, modes), that every NEEDED entry of every ELF file in
# it is a library in the zip (or in the AL2023 base set of
# packaging/lambda/README.md, which is empty: the zip bundles everything,
# loader and libc included), and that the loader resolves every library
# inside the zip; then, from an unpacked copy and with an empty environment
# (no LD_LIBRARY_PATH), `bootstrap --version` and `bootstrap check` through
# the bundled loader, the same in a chroot that holds nothing but the
# package at /var/task (as root), and, when the binary has the `lambda`
# command, bootstrap without a Runtime API fails with a clear message.
#
#   lambda_zip_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
fail() { echo "lambda_zip_test: FAIL: $*" >&2; exit 1; }

# Libraries Amazon Linux 2023 (provided.al2023) provides that the zip may
# leave out: none (packaging/lambda/README.md, "What is in it").
al2023_base=()

work=$(mktemp -d /tmp/trellis-lambda-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
zip=$work/trellis-lambda.zip
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")

echo "+ make-zip.sh $build $zip"
"$src/packaging/lambda/make-zip.sh" "$build" "$zip" || fail "make-zip.sh failed"

# Entries: sorted, no directories needed, the files bootstrap uses.
entries=$(unzip -Z1 "$zip")
LC_ALL=C sort -c <<<"$entries" 2>/dev/null || fail "the zip's entries are not sorted:
$entries"
for f in bootstrap bin/trellis trellis.yaml lib/ld-linux-x86-64.so.2 lib/libc.so.6 lib/libstdc++.so.6 \
         lib/trellis/plugins/libhello.so lib/trellis/plugins/libnotes.so lib/trellis/plugins/libcors.so; do
    grep -qxF "$f" <<<"$entries" || fail "the zip lacks $f; it has:
$entries"
done
# A second zip of the same build is the same file.
"$src/packaging/lambda/make-zip.sh" "$build" "$work/again.zip" >/dev/null
cmp -s "$zip" "$work/again.zip" || fail "two zips of the same build differ"

task=$work/root/var/task
mkdir -p "$task"
unzip -q "$zip" -d "$task"
for f in bootstrap bin/trellis lib/ld-linux-x86-64.so.2; do
    [[ -x $task/$f ]] || fail "$f is not executable once unpacked"
done

# Every NEEDED entry of every ELF file is in lib/ or in the base set.
in_base() { local b; for b in "${al2023_base[@]}"; do [[ $b == "$1" ]] && return 0; done; return 1; }
elves=0
missing=()
while IFS= read -r f; do
    [[ $(head -c 4 "$task/$f" | od -An -c | tr -d ' ') == 177ELF ]] || continue
    elves=$((elves + 1))
    while read -r needed; do
        [[ -f $task/lib/$needed ]] || in_base "$needed" || missing+=("$f needs $needed")
    done < <(readelf -d "$task/$f" | sed -n 's/.*(NEEDED).*Shared library: \[\(.*\)\]/\1/p')
done <<<"$entries"
[[ ${#missing[@]} -eq 0 ]] || fail "NEEDED entries neither in the zip nor in the AL2023 base set:
$(printf '  %s\n' "${missing[@]}")"
echo "every NEEDED entry of the $elves ELF files is in the zip"
# Informative: the newest glibc symbol version the files ask for (version
# needs, not libc's own definitions).
newest=$(for f in $entries; do readelf -V "$task/$f" 2>/dev/null || true; done \
         | grep -o 'Name: GLIBC_2\.[0-9]*  Flags: [a-z]*  Version' | grep -o 'GLIBC_2\.[0-9]*' \
         | sort -t. -k2 -n -u | tail -1)
echo "newest glibc symbol version required: ${newest:-none} (AL2023 has 2.34; the zip brings its own libc)"

# The bundled loader finds every library inside the package, nothing outside it.
for f in bin/trellis lib/trellis/plugins/libhello.so lib/trellis/plugins/libnotes.so lib/trellis/plugins/libcors.so; do
    list=$(env -i "$task/lib/ld-linux-x86-64.so.2" --library-path "$task/lib" --list "$task/$f") \
        || fail "ld-linux-x86-64.so.2 --list $f failed: $list"
    outside=$(awk -v d="$task/lib/" '$2 == "=>" && index($3, d) != 1 { print }' <<<"$list")
    [[ -z $outside ]] || fail "$f: libraries resolved outside the package:
$outside"
done

# bootstrap from the unpacked copy, with nothing in the environment but PATH.
out=$(env -i PATH=/usr/bin:/bin "$task/bootstrap" --version 2>&1) || fail "bootstrap --version failed: $out"
[[ $out == "trellis $version"* ]] || fail "bootstrap --version printed '$out', not trellis $version"
echo "bootstrap --version: $out"
out=$(env -i PATH=/usr/bin:/bin TRELLIS_DATABASE_URL="sqlite://$work/check.db" \
      "$task/bootstrap" check -c "$task/trellis.yaml" 2>&1) \
    || fail "bootstrap check of the packaged configuration failed:
$out"
grep -q ": OK (" <<<"$out" || fail "unexpected check output: $out"
echo "bootstrap check: $(tail -1 <<<"$out")"

# Nothing of this system at all: a root holding only /var/task (and /tmp).
chroot=$(command -v chroot || true)
if [[ $(id -u) -eq 0 && -n $chroot ]]; then
    mkdir -p "$work/root/tmp"
    chrooted() { env -i TRELLIS_DATABASE_URL=sqlite:///tmp/check.db "$chroot" "$work/root" \
                     /var/task/lib/ld-linux-x86-64.so.2 --library-path /var/task/lib /var/task/bin/trellis "$@"; }
    out=$(chrooted --version 2>&1) || fail "trellis --version in a chroot of the package alone failed: $out"
    [[ $out == "trellis $version"* ]] || fail "in the chroot: '$out'"
    out=$(chrooted check -c /var/task/trellis.yaml 2>&1) || fail "trellis check in a chroot of the package alone failed:
$out"
    grep -q ": OK (" <<<"$out" || fail "unexpected check output in the chroot: $out"
    echo "in a chroot of the package alone: --version and check pass"
else
    echo "not root: the chroot of the package alone is skipped"
fi

# The runtime itself: started by Lambda's path without a Runtime API it must
# say what is missing and fail.
set +e
out=$(env -i PATH=/usr/bin:/bin "$task/bootstrap" 2>&1)
rc=$?
set -e
[[ $rc -ne 0 ]] || fail "bootstrap without AWS_LAMBDA_RUNTIME_API exited 0: $out"
grep -q AWS_LAMBDA_RUNTIME_API <<<"$out" || fail "bootstrap without AWS_LAMBDA_RUNTIME_API said: $out"
echo "bootstrap without a Runtime API: exit $rc: $out"
echo "lambda_zip_test: OK: $(stat -c %s "$zip") bytes, $(wc -l <<<"$entries") files"
