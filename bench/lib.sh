# Shared by the benchmark scripts (bench/run.sh, bench/run-data.sh): sourced,
# not run. Each script sets `set -euo pipefail`, sources this file, calls
# bench_init "$@", then uses the functions below.
#
# Globals it sets: repo, build_dir, work (temporary directory, removed on
# exit), pids (servers to stop on exit), threads, rounds, duration, warmup,
# connections, wrk_threads, build_type, load_before, best_rps, best_p99.
# A script may set peer_name (how rounds and the ratio name the peer;
# default "peer") after bench_init.
# Environment knobs (defaults are what README.md reports):
#   THREADS=2 ROUNDS=2 DURATION=10s WARMUP=2s CONNECTIONS=32 WRK_THREADS=1

die() { echo "bench: FAIL: $*" >&2; exit 1; }

# bench_init [BUILD_DIR]: settings, tool check, temporary directory, and the
# exit trap that stops every server started with start_server.
bench_init() {
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    build_dir=${1:-build/dev}
    case $build_dir in /*) ;; *) build_dir="$repo/$build_dir" ;; esac

    threads=${THREADS:-2}
    rounds=${ROUNDS:-2}
    duration=${DURATION:-10s}
    warmup=${WARMUP:-2s}
    connections=${CONNECTIONS:-32}
    wrk_threads=${WRK_THREADS:-1}
    peer_name=peer

    local tool
    for tool in cmake wrk curl python3; do
        command -v "$tool" >/dev/null || die "'$tool' not found (apt-get install wrk curl cmake python3)"
    done

    work=$(mktemp -d /tmp/trellis-bench.XXXXXX)
    pids=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

# Stops the servers this script started (SIGTERM, SIGKILL after 15 s).
bench_cleanup() {
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

# build_targets TARGET...: configures BUILD_DIR if it never was (build/dev
# with the dev preset, anything else as a Release build without tests), then
# builds the targets.
build_targets() {
    if [[ ! -f $build_dir/CMakeCache.txt ]]; then
        if [[ $build_dir == "$repo/build/dev" ]]; then
            (cd "$repo" && cmake --preset dev)
        else
            cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRELLIS_BUILD_TESTS=OFF
        fi
    fi
    echo "+ cmake --build $build_dir --target $*"
    cmake --build "$build_dir" --target "$@"
    build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_server NAME COMMAND...: runs it in the background (output in
# $work/NAME.log) and records its pid for the exit trap.
start_server() {
    local name=$1
    shift
    echo "+ $*"
    "$@" >"$work/$name.log" 2>&1 &
    pids+=($!)
}

# start_trellis READY_PATH: starts the build's trellis with $work/trellis.yaml
# (written by the caller, listening on $trellis_port) and the build's plugins,
# shows the config, waits until GET READY_PATH answers; sets trellis_cmd and
# trellis_pid.
start_trellis() {
    trellis_cmd=("$build_dir/host/trellis" serve --config "$work/trellis.yaml" --plugin-path "$build_dir/plugins")
    echo "    # config:"
    sed 's/^/      /' "$work/trellis.yaml"
    start_server trellis "${trellis_cmd[@]}"
    trellis_pid=${pids[-1]}
    wait_ready trellis "$trellis_pid" "$trellis_port" "$1"
}

# wait_ready NAME PID PORT PATH: until GET PATH answers 2xx (10 s at most).
wait_ready() {
    local name=$1 pid=$2 port=$3 path=$4 _
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || die "$name exited during startup (log: $work/$name.log):
$(cat "$work/$name.log")"
        if curl -fs -o /dev/null "http://127.0.0.1:$port$path"; then return 0; fi
        sleep 0.1
    done
    die "$name did not answer on port $port within 10 s"
}

# fetch NAME URL BODY_FILE: GET with curl; prints the response headers,
# fails unless 2xx, Content-Type application/json and no "Connection: close"
# (the peers must keep connections alive; see README.md).
fetch() {
    local name=$1 url=$2 out=$3 headers
    headers=$(curl -fs -D - -o "$out" "$url") || die "$name: GET $url failed"
    grep -qi '^content-type: application/json' <<<"$headers" \
        || die "$name answered without Content-Type: application/json:
$headers"
    grep -qi '^connection: close' <<<"$headers" \
        && die "$name answers 'Connection: close' to a keep-alive client:
$headers"
    printf '%s\n' "$headers"
}

# run_wrk NAME URL DURATION OUT [WRK_ARGS...]: one wrk run; fails on any
# error it reports (non-2xx/3xx responses, socket errors).
run_wrk() {
    local name=$1 url=$2 dur=$3 out=$4
    shift 4
    local cmd=(wrk "-t$wrk_threads" "-c$connections" "-d$dur" --latency "$@" "$url")
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
requests() { awk '$2 == "requests" && $3 == "in" { print $1 }' "$1"; }

# cpu_ticks PID: user + system CPU time the process and its children (a
# pre-forking server's workers) have used, in clock ticks (fields 14 and 15
# of /proc/PID/stat, counted after the ")" of the name).
cpu_ticks() {
    local total=0 p
    for p in "$1" $(pgrep -P "$1" || true); do
        total=$((total + $(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }' || echo 0)))
    done
    echo "$total"
}

# seed_notes PORT MOUNT COUNT: creates COUNT notes through trellis' notes
# resource (POST MOUNT, one keep-alive connection). The values vary (nulls,
# booleans, quotes, backslashes, control characters, non-ASCII) so that
# comparing answers checks a peer's JSON, not just its shape. On a fresh
# database the ids are 1..COUNT; this checks that.
seed_notes() {
    local port=$1 mount=$2 count=$3
    echo "+ POST $count notes to http://127.0.0.1:$port$mount"
    python3 - "$port" "$mount" "$count" <<'PY' || die "creating the notes through the API failed"
import http.client, json, sys
port, mount, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
tags = ["work", "home", "ideas", "todo", "reading"]
for i in range(1, count + 1):
    note = {"title": f"Note {i}: \"quoted\" \\ caf\u00e9 \u2603", "pinned": i % 7 == 0}
    if i % 9 != 0:
        note["body"] = f"Line one of note {i}.\nLine two\twith a tab and \u00fcml\u00e4uts. " + "lorem ipsum " * (i % 20)
    if i % 5 != 0:
        note["tag"] = tags[i % len(tags)]
    if i % 10 != 0:
        note["created"] = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T12:{i % 60:02d}:00Z"
    conn.request("POST", mount, json.dumps(note), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 201:
        sys.exit(f"POST {mount} #{i}: {resp.status} {body[:300]!r}")
    got = json.loads(body)
    if got.get("id") != i:
        sys.exit(f"POST {mount} #{i}: expected id {i} on a fresh database, got {got.get('id')!r}")
PY
}

# same_notes NAME_A PORT_A NAME_B PORT_B MOUNT COUNT: both servers answer
# GET MOUNT/{id} alike for a sample of ids (covering every null/boolean
# combination seed_notes made, and both ends of the range): 2xx,
# Content-Type application/json, keep-alive, equal JSON values (key order
# may differ); and 404 for COUNT + 1.
same_notes() {
    local name_a=$1 port_a=$2 name_b=$3 port_b=$4 mount=$5 count=$6 id ids missing name_port status
    ids=$(printf '%s\n' 1 2 5 7 9 10 45 63 90 315 630 $((count / 2)) $((count - 1)) "$count" \
        | awk -v n="$count" '$1 >= 1 && $1 <= n' | sort -nu)
    for id in $ids; do
        fetch "$name_a" "http://127.0.0.1:$port_a$mount/$id" "$work/a-$id.json" >/dev/null
        fetch "$name_b" "http://127.0.0.1:$port_b$mount/$id" "$work/b-$id.json" >/dev/null
        python3 - "$work/a-$id.json" "$work/b-$id.json" "$id" <<'PY' || die "$name_a and $name_b answer different notes for id $id"
import json, sys
a, b = (json.load(open(f, encoding="utf-8")) for f in sys.argv[1:3])
if a != b or a.get("id") != int(sys.argv[3]) or sorted(a) != ["body", "created", "id", "pinned", "tag", "title"]:
    sys.exit(f"first:  {json.dumps(a)}\nsecond: {json.dumps(b)}")
PY
    done
    missing=$((count + 1))
    for name_port in "$name_a:$port_a" "$name_b:$port_b"; do
        status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${name_port##*:}$mount/$missing")
        [[ $status == 404 ]] || die "${name_port%%:*}: GET $mount/$missing answered $status, expected 404"
    done
    echo "same JSON from $name_a and $name_b for ids:" $ids "(and 404 for $missing)"
    echo "  e.g. $(cat "$work/a-1.json")"
}

# measure_servers NAME... [-- WRK_ARGS...]: the servers named (their pids
# and URLs in the global associative arrays server_pid[NAME] and
# server_url[NAME]) are warmed up in that order, then loaded alternately
# (first, second, ..., first, ...) for $rounds rounds, printing every round
# with the server's CPU time per request (user + system of the process and
# its children, from /proc; on a shared machine it moves much less than
# req/s). Keeps per server the best round (highest req/s, with that run's p99
# and CPU) in best_rps[NAME], best_p99[NAME] and best_cpu[NAME].
measure_servers() {
    local names=() name
    while (( $# )) && [[ $1 != -- ]]; do names+=("$1"); shift; done
    (( $# )) && shift
    declare -gA best_rps=() best_p99=() best_cpu=()
    local tick_us=$((1000000 / $(getconf CLK_TCK)))

    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "load average before the runs: $load_before"
    if awk -v l="${load_before%% *}" 'BEGIN { exit !(l > 1.0) }'; then
        echo "bench: warning: the machine is busy (load ${load_before%% *}): absolute numbers will be low and noisy" >&2
    fi
    for name in "${names[@]}"; do
        best_rps[$name]=0
        run_wrk "$name" "${server_url[$name]}" "$warmup" "$work/warmup-$name.txt" "$@"
    done

    local round out r p c ticks
    printf '\n%-10s %-6s %10s %10s %12s\n' server round req/s p99_ms cpu_us/req
    for round in $(seq "$rounds"); do
        for name in "${names[@]}"; do
            out=$work/$name-$round.txt
            ticks=$(cpu_ticks "${server_pid[$name]}")
            run_wrk "$name" "${server_url[$name]}" "$duration" "$out" "$@" >/dev/null
            ticks=$(( $(cpu_ticks "${server_pid[$name]}") - ticks ))
            r=$(rps "$out"); p=$(p99_ms "$out")
            c=$(awk -v t="$ticks" -v us="$tick_us" -v n="$(requests "$out")" 'BEGIN { printf "%.1f", t * us / n }')
            printf '%-10s %-6s %10s %10s %12s\n' "$name" "$round" "$r" "$p" "$c"
            if (( r > best_rps[$name] )); then best_rps[$name]=$r; best_p99[$name]=$p; best_cpu[$name]=$c; fi
        done
    done
}

# measure PEER_PID PEER_URL TRELLIS_PID TRELLIS_URL [WRK_ARGS...]: the
# peer ($peer_name) and trellis, through measure_servers.
measure() {
    declare -gA server_pid=([$peer_name]=$1 [trellis]=$3) server_url=([$peer_name]=$2 [trellis]=$4)
    shift 4
    measure_servers "$peer_name" trellis -- "$@"
}

# ratio A B FIELD: FIELD (best_rps or best_cpu) of server A over server B, two decimals.
ratio() {
    local -n field=$3
    awk -v a="${field[$1]}" -v b="${field[$2]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

# table_row LABEL NAME: one row of the result table.
table_row() {
    printf '| %-36s | %9s | %8s | %12s |\n' "$1" "${best_rps[$2]}" "${best_p99[$2]}" "${best_cpu[$2]}"
}
table_head() {
    printf '| %-36s | %9s | %8s | %12s |\n' server req/s "p99 (ms)" "CPU us/req"
    printf '|%s|%s|%s|%s|\n' -------------------------------------- ----------- ---------- --------------
}

# report PEER_LABEL TRELLIS_LABEL: the result table of measure, the
# trellis/peer req/s ratio (the number to watch) and the CPU-per-request ratio.
report() {
    echo "load average before/after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "best of $rounds alternating rounds per server (highest req/s, with that run's p99 and"
    echo "server CPU time per request)."
    echo
    table_head
    table_row "$1" "$peer_name"
    table_row "$2" trellis
    echo
    echo "trellis/$peer_name req/s ratio: $(ratio trellis "$peer_name" best_rps)"
    echo "trellis/$peer_name CPU per request: $(ratio trellis "$peer_name" best_cpu)"
}
