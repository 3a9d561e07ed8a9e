#!/usr/bin/env bash
# Load benchmark: trellis + hello plugin against a bare Pistache 0.0.5 server
# (bench/bare_pistache.cpp) answering the same GET /hello/{name}.
#
#   bench/run.sh [BUILD_DIR]        BUILD_DIR defaults to build/dev
#
# Builds trellis, hello and bare_pistache in BUILD_DIR (configuring it first
# if it has never been configured), starts both servers on free loopback ports
# with the same thread count, checks that they answer the same body, warms each
# up, then runs the same wrk load alternately (bare, trellis, bare, trellis...)
# and reports, per server, the best of the rounds (highest req/s, with that
# run's p99). Any non-2xx response or socket error in any run fails the script.
# Takes about 45 s once the targets are built.
#
# Environment knobs (defaults are what README.md reports):
#   THREADS=2 ROUNDS=2 DURATION=10s WARMUP=2s CONNECTIONS=32 WRK_THREADS=1
#   ACCESS_LOG=false
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-build/dev}
case $build_dir in /*) ;; *) build_dir="$repo/$build_dir" ;; esac

threads=${THREADS:-2}
rounds=${ROUNDS:-2}
duration=${DURATION:-10s}
warmup=${WARMUP:-2s}
connections=${CONNECTIONS:-32}
wrk_threads=${WRK_THREADS:-1}
# The bare peer logs nothing; trellis' per-request access log is off unless
# ACCESS_LOG=true (then it goes to a file in the temporary directory).
access_log=${ACCESS_LOG:-false}
url_path=/hello/bench
expected_body='{"message":"Hello, bench!"}'

die() { echo "bench: FAIL: $*" >&2; exit 1; }
for tool in cmake wrk curl python3; do
    command -v "$tool" >/dev/null || die "'$tool' not found (apt-get install wrk curl cmake python3)"
done

work=$(mktemp -d /tmp/trellis-bench.XXXXXX)
pids=()
# Stops the servers this script started (SIGTERM, SIGKILL after 15 s).
cleanup() {
    local pid _
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 150); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "bench: pid $pid ignored SIGTERM for 15 s, killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- build
if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    if [[ $build_dir == "$repo/build/dev" ]]; then
        (cd "$repo" && cmake --preset dev)
    else
        cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRELLIS_BUILD_TESTS=OFF
    fi
fi
echo "+ cmake --build $build_dir --target trellis hello bare_pistache"
cmake --build "$build_dir" --target trellis hello bare_pistache

bare_bin=$build_dir/bench/bare_pistache
trellis_bin=$build_dir/host/trellis
plugin_dir=$build_dir/plugins
[[ -x $bare_bin ]] || die "$bare_bin was not built"
[[ -x $trellis_bin ]] || die "$trellis_bin was not built"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")

# ---------------------------------------------------------------- servers
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_ready NAME PID PORT: until GET /hello/bench answers 200 (10 s at most).
wait_ready() {
    local name=$1 pid=$2 port=$3 _
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || die "$name exited during startup (log: $work/$name.log):
$(cat "$work/$name.log")"
        if curl -fs -o /dev/null "http://127.0.0.1:$port$url_path"; then return 0; fi
        sleep 0.1
    done
    die "$name did not answer on port $port within 10 s"
}

# check_same_answer NAME PORT: the body and Content-Type the peers must share.
check_same_answer() {
    local name=$1 port=$2 headers body
    headers=$(curl -fs -D - -o "$work/$name.body" "http://127.0.0.1:$port$url_path") \
        || die "$name: GET $url_path failed"
    body=$(cat "$work/$name.body")
    [[ $body == "$expected_body" ]] || die "$name answered body '$body', expected '$expected_body'"
    grep -qi '^content-type: application/json' <<<"$headers" \
        || die "$name answered without Content-Type: application/json:
$headers"
    grep -qi '^connection: close' <<<"$headers" \
        && die "$name answers 'Connection: close' to a keep-alive client:
$headers"
    return 0
}

bare_port=$(free_port)
bare_cmd=("$bare_bin" "$bare_port" "$threads")
echo "+ ${bare_cmd[*]}"
"${bare_cmd[@]}" >"$work/bare.log" 2>&1 &
pids+=($!)
wait_ready bare "${pids[-1]}" "$bare_port"

trellis_port=$(free_port)
cat >"$work/trellis.yaml" <<EOF
server: {listen: 127.0.0.1, port: $trellis_port, threads: $threads}
logging: {level: warn, access: $access_log}
plugins:
  hello: {mount: /}
EOF
trellis_cmd=("$trellis_bin" serve --config "$work/trellis.yaml" --plugin-path "$plugin_dir")
echo "+ ${trellis_cmd[*]}    # config:"
sed 's/^/      /' "$work/trellis.yaml"
"${trellis_cmd[@]}" >"$work/trellis.log" 2>&1 &
pids+=($!)
wait_ready trellis "${pids[-1]}" "$trellis_port"

check_same_answer bare "$bare_port"
check_same_answer trellis "$trellis_port"

# ---------------------------------------------------------------- load
# run_wrk NAME PORT DURATION OUT: one wrk run; fails on any error it reports.
run_wrk() {
    local name=$1 port=$2 dur=$3 out=$4
    local cmd=(wrk "-t$wrk_threads" "-c$connections" "-d$dur" --latency "http://127.0.0.1:$port$url_path")
    echo "+ ${cmd[*]}    # $name"
    "${cmd[@]}" >"$out" 2>&1 || die "wrk against $name failed:
$(cat "$out")"
    if grep -Eq 'Non-2xx or 3xx responses|Socket errors' "$out"; then
        die "$name: errors during the run:
$(cat "$out")"
    fi
    grep -q '^Requests/sec:' "$out" || die "unexpected wrk output:
$(cat "$out")"
}

# wrk prints latencies as 312.00us / 1.20ms / 1.05s: normalise to ms.
p99_ms() {
    awk '$1 == "99%" {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
        printf "%.3f", v }' "$1"
}
rps() { awk '$1 == "Requests/sec:" { printf "%.0f", $2 }' "$1"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before the runs: $load_before"
if awk -v l="${load_before%% *}" 'BEGIN { exit !(l > 1.0) }'; then
    echo "bench: warning: the machine is busy (load ${load_before%% *}): absolute numbers will be low and noisy" >&2
fi
run_wrk bare "$bare_port" "$warmup" "$work/warmup-bare.txt"
run_wrk trellis "$trellis_port" "$warmup" "$work/warmup-trellis.txt"

declare -A best_rps=([bare]=0 [trellis]=0) best_p99=()
printf '\n%-8s %-6s %10s %10s\n' server round req/s p99_ms
for round in $(seq "$rounds"); do
    for name in bare trellis; do
        port_var=${name}_port
        out=$work/$name-$round.txt
        run_wrk "$name" "${!port_var}" "$duration" "$out" >/dev/null
        r=$(rps "$out"); p=$(p99_ms "$out")
        printf '%-8s %-6s %10s %10s\n' "$name" "$round" "$r" "$p"
        if (( r > best_rps[$name] )); then best_rps[$name]=$r; best_p99[$name]=$p; fi
    done
done

# ---------------------------------------------------------------- report
echo
echo "Commands (each run; warm-up runs use -d$warmup):"
echo "  ${bare_cmd[*]}"
echo "  ${trellis_cmd[*]}"
echo "  wrk -t$wrk_threads -c$connections -d$duration --latency http://127.0.0.1:<port>$url_path"
echo "Build: $build_dir ($build_type); $threads server threads each; $(nproc) cores shared with wrk;"
echo "trellis access log: $access_log"
echo "load average before/after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)"
echo "best of $rounds alternating rounds per server (highest req/s, with that run's p99)."
echo
printf '| %-28s | %9s | %8s |\n' server req/s "p99 (ms)"
printf '|%s|%s|%s|\n' ------------------------------ ----------- ----------
printf '| %-28s | %9s | %8s |\n' "bare Pistache 0.0.5" "${best_rps[bare]}" "${best_p99[bare]}"
printf '| %-28s | %9s | %8s |\n' "trellis + hello plugin" "${best_rps[trellis]}" "${best_p99[trellis]}"
ratio=$(awk -v t="${best_rps[trellis]}" -v b="${best_rps[bare]}" 'BEGIN { printf "%.2f", t / b }')
echo
echo "trellis/bare req/s ratio: $ratio"
