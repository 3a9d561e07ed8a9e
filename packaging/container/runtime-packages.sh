#!/bin/bash
# Prints, one per line and sorted, the Debian packages that hold the shared
# libraries the given ELF files load (every library ldd resolves for them),
# so that the runtime image installs those packages and nothing else.
#
#   runtime-packages.sh ELF...
set -euo pipefail
for elf in "$@"; do
    ldd "$elf" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r lib; do
    # usrmerge: dpkg may know a library as /lib/... or /usr/lib/...; ask
    # for the path ldd gave, its target, and both spellings of each.
    real=$(readlink -f "$lib")
    found=
    for path in "$lib" "$real" "/usr${lib#/usr}" "/usr${real#/usr}" "${lib#/usr}" "${real#/usr}"; do
        if owner=$(dpkg -S "$path" 2>/dev/null); then
            found=${owner%%:*}
            break
        fi
    done
    if [ -z "$found" ]; then
        echo "runtime-packages: no package holds $lib" >&2
        exit 1
    fi
    echo "$found"
done | sort -u
