#!/usr/bin/env bash
# The supervisor's cost: trellis with server.workers: 2 (two worker
# processes under a supervisor, THREADS/2 server threads each) against
# trellis in one process (server.workers: 0, THREADS threads) and bare
# Pistache 0.0.5 (THREADS threads), all answering GET /hello/{name}: the
# same total thread count everywhere. Also the resident memory of the
# supervisor and of each worker, idle and after the load.
#
#   bench/run-workers.sh [BUILD_DIR]        BUILD_DIR defaults to build/dev
#
# The three servers run alternately (bare, single, workers, bare, ...) for
# ROUNDS rounds; per server the best round (highest req/s, with its p99 and
# CPU per request: the supervisor's and its workers' CPU together) is kept.
# Any non-2xx response or socket error fails the script. Shared functions:
# bench/lib.sh. Knobs: THREADS=2 ROUNDS=2 DURATION=10s WARMUP=2s
# CONNECTIONS=32 WRK_THREADS=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
(( threads >= 2 && threads % 2 == 0 )) || die "THREADS must be even (two workers share them)"
url_path=/hello/bench

build_targets trellis hello bare_pistache
bare_bin=$build_dir/bench/bare_pistache
trellis_bin=$build_dir/host/trellis

# rss_kb PID: resident set size in KiB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# memory_line LABEL SUPERVISOR_PID: the supervisor's RSS and each worker's.
memory_line() {
    local label=$1 sup=$2 w line
    line="$label: supervisor $(rss_kb "$sup") KiB"
    for w in $(pgrep -P "$sup"); do line+=", worker $(rss_kb "$w") KiB"; done
    echo "$line"
}

declare -A pid url cmd
bare_port=$(free_port)
cmd[bare]="$bare_bin $bare_port $threads"
start_server bare "$bare_bin" "$bare_port" "$threads"
pid[bare]=${pids[-1]}
url[bare]=http://127.0.0.1:$bare_port$url_path
wait_ready bare "${pid[bare]}" "$bare_port" "$url_path"

for name in single workers; do
    port=$(free_port)
    if [[ $name == single ]]; then
        server="threads: $threads, workers: 0"
        admin="admin: {enabled: false}"
    else
        server="threads: $((threads / 2)), workers: 2"
        admin="admin: {listen: 127.0.0.1, port: $(free_port)}"
    fi
    cat >"$work/$name.yaml" <<YAML
server: {listen: 127.0.0.1, port: $port, $server}
$admin
logging: {level: warn, access: false}
plugins:
  hello: {mount: /}
YAML
    echo "    # $name config:"
    sed 's/^/      /' "$work/$name.yaml"
    cmd[$name]="$trellis_bin serve --config $work/$name.yaml --plugin-path $build_dir/plugins"
    start_server "$name" "$trellis_bin" serve --config "$work/$name.yaml" --plugin-path "$build_dir/plugins"
    pid[$name]=${pids[-1]}
    url[$name]=http://127.0.0.1:$port$url_path
    wait_ready "$name" "${pid[$name]}" "$port" "$url_path"
done
sleep 1  # every worker serving
idle_memory=$(memory_line "idle" "${pid[workers]}")

declare -A server_pid=([bare]=${pid[bare]} [single]=${pid[single]} [workers]=${pid[workers]})
declare -A server_url=([bare]=${url[bare]} [single]=${url[single]} [workers]=${url[workers]})
measure_servers bare single workers
loaded_memory=$(memory_line "after load" "${pid[workers]}")

echo
echo "Commands (each run; warm-up runs use -d$warmup):"
for name in bare single workers; do echo "  ${cmd[$name]}"; done
echo "  wrk -t$wrk_threads -c$connections -d$duration --latency http://127.0.0.1:<port>$url_path"
echo "Build: $build_dir ($build_type); $threads server threads in all per server; $(nproc) cores shared with wrk"
echo "load average before/after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)"
echo
table_head
table_row "bare Pistache 0.0.5 ($threads threads)" bare
table_row "trellis, one process ($threads threads)" single
table_row "trellis, 2 workers x $((threads / 2)) threads" workers
echo
echo "workers/single req/s: $(ratio workers single best_rps)   workers/bare req/s: $(ratio workers bare best_rps)"
echo "workers/single CPU per request: $(ratio workers single best_cpu)   workers/bare CPU per request: $(ratio workers bare best_cpu)"
echo "memory (trellis, 2 workers): $idle_memory; $loaded_memory"
