#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, AddressSanitizer + UndefinedBehavior-
# Sanitizer; the `fuzz` CMake preset) and runs each for SECONDS (default 30),
# one after the other, on a copy of its seed corpus (fuzz/corpus/<target>)
# in build/fuzz/corpus. Fails on the first crash, leak, timeout or
# out-of-memory, and leaves the reproducer (crash-*, leak-*, timeout-*) in
# build/fuzz/findings/<target>/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     targets: codec router percent operator_config manifest json_writer lambda_events
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(codec router percent operator_config manifest json_writer lambda_events)

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

for t in "${targets[@]}"; do
    bin=build/fuzz/fuzz/fuzz_$t
    corpus=build/fuzz/corpus/$t
    findings=build/fuzz/findings/$t
    mkdir -p "$corpus" "$findings"
    cp -n fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
    echo "fuzz: $t for ${seconds}s"
    if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -artifact_prefix="$findings/" -print_final_stats=1 "$corpus" >"$findings/log.txt" 2>&1; then
        tail -60 "$findings/log.txt" >&2
        echo "fuzz: FAIL: $t found a problem; reproducer in $findings/" >&2
        exit 1
    fi
    grep -E "^stat::number_of_executed_units|^stat::new_units_added|cov: " "$findings/log.txt" | tail -3 | sed "s/^/fuzz: $t: /"
done
echo "fuzz: OK (${targets[*]}, ${seconds}s each)"
