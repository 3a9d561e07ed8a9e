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

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before the runs: $load_before"
for name in bare single workers; do run_wrk "$name" "${url[$name]}" "$warmup" "$work/warmup-$name.txt"; done

declare -A best_rps=([bare]=0 [single]=0 [workers]=0) best_p99 best_cpu
tick_us=$((1000000 / $(getconf CLK_TCK)))
printf '\n%-10s %-6s %10s %10s %12s\n' server round req/s p99_ms cpu_us/req
for round in $(seq "$rounds"); do
    for name in bare single workers; do
        out=$work/$name-$round.txt
        ticks=$(cpu_ticks "${pid[$name]}")
        run_wrk "$name" "${url[$name]}" "$duration" "$out" >/dev/null
        ticks=$(( $(cpu_ticks "${pid[$name]}") - ticks ))
        r=$(rps "$out"); p=$(p99_ms "$out")
        c=$(awk -v t="$ticks" -v us="$tick_us" -v n="$(requests "$out")" 'BEGIN { printf "%.1f", t * us / n }')
        printf '%-10s %-6s %10s %10s %12s\n' "$name" "$round" "$r" "$p" "$c"
        if (( r > best_rps[$name] )); then best_rps[$name]=$r; best_p99[$name]=$p; best_cpu[$name]=$c; fi
    done
done
loaded_memory=$(memory_line "after load" "${pid[workers]}")

echo
echo "Commands (each run; warm-up runs use -d$warmup):"
for name in bare single workers; do echo "  ${cmd[$name]}"; done
echo "  wrk -t$wrk_threads -c$connections -d$duration --latency http://127.0.0.1:<port>$url_path"
echo "Build: $build_dir ($build_type); $threads server threads in all per server; $(nproc) cores shared with wrk"
echo "load average before/after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '| %-40s | %9s | %8s | %12s |\n' server req/s "p99 (ms)" "CPU us/req"
printf '|%s|%s|%s|%s|\n' ------------------------------------------ ----------- ---------- --------------
printf '| %-40s | %9s | %8s | %12s |\n' "bare Pistache 0.0.5 ($threads threads)" "${best_rps[bare]}" "${best_p99[bare]}" "${best_cpu[bare]}"
printf '| %-40s | %9s | %8s | %12s |\n' "trellis, one process ($threads threads)" "${best_rps[single]}" "${best_p99[single]}" "${best_cpu[single]}"
printf '| %-40s | %9s | %8s | %12s |\n' "trellis, 2 workers x $((threads / 2)) threads" "${best_rps[workers]}" "${best_p99[workers]}" "${best_cpu[workers]}"
echo
awk -v w="${best_rps[workers]}" -v s="${best_rps[single]}" -v b="${best_rps[bare]}" \
    'BEGIN { printf "workers/single req/s: %.2f   workers/bare req/s: %.2f\n", w / s, w / b }'
awk -v w="${best_cpu[workers]}" -v s="${best_cpu[single]}" -v b="${best_cpu[bare]}" \
    'BEGIN { printf "workers/single CPU per request: %.2f   workers/bare CPU per request: %.2f\n", w / s, w / b }'
echo "memory (trellis, 2 workers): $idle_memory; $loaded_memory"
