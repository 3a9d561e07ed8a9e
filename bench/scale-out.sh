#!/usr/bin/env bash
# Scale-out benchmark: the same load through one trellis host directly and
# through HAProxy to the three hosts of examples/scale-out (one PostgreSQL
# database), and, to separate the balancer's cost from the third host's,
# through HAProxy to one host (the other two in maintenance).
#
#   bench/scale-out.sh [BUILD_DIR]        BUILD_DIR defaults to build/dev
#
# Builds trellis, hello and notes in BUILD_DIR, starts the set with
# examples/scale-out/run.sh (a throwaway PostgreSQL 15 in
# BUILD_DIR/scale-out-bench, fsync off), seeds 1000 notes, then runs two
# loads with wrk, each alternately against the three set-ups (direct,
# haproxy-1, haproxy-3, direct, ...) for ROUNDS rounds after a warm-up, and
# reports per set-up the best round (highest req/s, with that run's p99 and
# the CPU per request of trellis and HAProxy together; PostgreSQL's is not
# counted):
#   write  POST /api/notes             (bench/post_note.lua)
#   read   GET /api/notes/{1..1000}    (bench/random_note.lua)
# Any non-2xx response or socket error fails the script. Every host is
# examples/scale-out/host.yaml.in: 1 worker x 2 threads, access log off.
# About 2.5 minutes once built. On a machine with fewer cores than three
# hosts, HAProxy, PostgreSQL and wrk need, this measures what the balancer
# costs, not how far three hosts scale.
#
# Environment knobs: ROUNDS=2 DURATION=10s WARMUP=2s CONNECTIONS=32
# WRK_THREADS=1 LOADS="write read"
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"

build_targets trellis hello notes
run_sh=$repo/examples/scale-out/run.sh
command -v haproxy >/dev/null || die "haproxy not found (scripts/install-deps.sh installs it)"
export SCALEOUT_DIR=$build_dir/scale-out-bench TRELLIS_BUILD=$build_dir
unset BALANCER_PORT HOST_PORTS ADMIN_PORTS DATABASE_URL
trap '"$run_sh" stop >/dev/null 2>&1 || true; bench_cleanup' EXIT
[[ -f $SCALEOUT_DIR/state.env ]] && { "$run_sh" stop || true; }

# ---------------------------------------------------------------- the set
echo "+ $run_sh start"
"$run_sh" start
source "$SCALEOUT_DIR/state.env"
read -r -a host_ports <<<"$HOST_PORTS"
echo "    # host config (host1; the others differ only in ports):"
sed 's/^/      /' "$SCALEOUT_DIR/host1/trellis.yaml"
echo "haproxy $(haproxy -v | head -1 | awk '{print $3}'), config examples/scale-out/haproxy.cfg"

seed_notes "${host_ports[0]}" /api/notes 1000

host_pid() { cat "$SCALEOUT_DIR/host$1/pid"; }
haproxy_pid=$(cat "$SCALEOUT_DIR/haproxy.pid")
stats() { echo "$1" | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
out = b""
while chunk := s.recv(65536): out += chunk
sys.stdout.write(out.decode())' "$SCALEOUT_DIR/haproxy.sock"; }
status_of() { stats "show stat" | awk -F, -v n="$1" '$1 == "trellis" && $2 == n { print $18 }'; }

# hosts_in_rotation 1|3: host2 and host3 in maintenance, or back (and UP).
hosts_in_rotation() {
    local state=ready want=UP n _
    [[ $1 == 1 ]] && state=maint want=MAINT
    for n in 2 3; do stats "set server trellis/host$n state $state" >/dev/null; done
    for n in 2 3; do
        for _ in $(seq 100); do
            [[ $(status_of "host$n") == "$want" ]] && break
            sleep 0.1
        done
        [[ $(status_of "host$n") == "$want" ]] || die "HAProxy shows host$n as $(status_of "host$n"), not $want"
    done
}

# The processes whose CPU a set-up's requests cost.
declare -A setup_url=(
    [direct]="http://127.0.0.1:${host_ports[0]}"
    [haproxy-1]="http://127.0.0.1:$BALANCER_PORT"
    [haproxy-3]="http://127.0.0.1:$BALANCER_PORT"
)
setup_pids() {
    case $1 in
        direct) echo "$(host_pid 1)" ;;
        haproxy-1) echo "$haproxy_pid $(host_pid 1)" ;;
        haproxy-3) echo "$haproxy_pid $(host_pid 1) $(host_pid 2) $(host_pid 3)" ;;
    esac
}
setup_ticks() {
    local total=0 p
    for p in $(setup_pids "$1"); do total=$((total + $(cpu_ticks "$p"))); done
    echo "$total"
}
prepare() {  # SETUP: the rotation it needs
    case $1 in
        haproxy-1) hosts_in_rotation 1 ;;
        *) hosts_in_rotation 3 ;;
    esac
}

# Every set-up answers a point read alike (through HAProxy: from each host).
for s in direct haproxy-3; do
    fetch "$s" "${setup_url[$s]}/api/notes/1" "$work/check-$s.json" >/dev/null
done
cmp -s "$work/check-direct.json" "$work/check-haproxy-3.json" || die "direct and haproxy answer differently"

setups=(direct haproxy-1 haproxy-3)
tick_us=$((1000000 / $(getconf CLK_TCK)))
declare -A best_rps=() best_p99=() best_cpu=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before the runs: $load_before"
for load in ${LOADS:-write read}; do
    case $load in
        write) script=$repo/bench/post_note.lua ;;
        read) script=$repo/bench/random_note.lua ;;
        *) die "unknown load '$load' (write, read)" ;;
    esac
    for s in "${setups[@]}"; do
        prepare "$s"
        run_wrk "$s" "${setup_url[$s]}" "$warmup" "$work/warmup-$load-$s.txt" -s "$script"
        best_rps[$load/$s]=0
    done
    printf '\n%-6s %-10s %-6s %10s %10s %12s\n' load setup round req/s p99_ms cpu_us/req
    for round in $(seq "$rounds"); do
        for s in "${setups[@]}"; do
            prepare "$s"
            out=$work/$load-$s-$round.txt
            ticks=$(setup_ticks "$s")
            run_wrk "$s" "${setup_url[$s]}" "$duration" "$out" -s "$script" >/dev/null
            ticks=$(( $(setup_ticks "$s") - ticks ))
            r=$(rps "$out"); p=$(p99_ms "$out")
            c=$(awk -v t="$ticks" -v us="$tick_us" -v n="$(requests "$out")" 'BEGIN { printf "%.1f", t * us / n }')
            printf '%-6s %-10s %-6s %10s %10s %12s\n' "$load" "$s" "$round" "$r" "$p" "$c"
            if (( r > best_rps[$load/$s] )); then
                best_rps[$load/$s]=$r; best_p99[$load/$s]=$p; best_cpu[$load/$s]=$c
            fi
        done
    done
done
hosts_in_rotation 3

echo
echo "load average before/after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)"
echo "best of $rounds alternating rounds per set-up (highest req/s, with that run's p99 and the"
echo "CPU time per request of trellis and HAProxy; PostgreSQL not counted). $(nproc) cores."
echo
printf '| %-5s | %-30s | %9s | %8s | %10s | %8s |\n' load set-up req/s "p99 (ms)" "CPU us/req" "/ direct"
printf '|%s|%s|%s|%s|%s|%s|\n' ------- -------------------------------- ----------- ---------- ------------ ----------
declare -A label=([direct]="one host, direct" [haproxy-1]="HAProxy -> 1 host" [haproxy-3]="HAProxy -> 3 hosts")
for load in ${LOADS:-write read}; do
    for s in "${setups[@]}"; do
        ratio=$(awk -v a="${best_rps[$load/$s]}" -v b="${best_rps[$load/direct]}" 'BEGIN { printf "%.2f", a / b }')
        printf '| %-5s | %-30s | %9s | %8s | %10s | %8s |\n' "$load" "${label[$s]}" "${best_rps[$load/$s]}" \
            "${best_p99[$load/$s]}" "${best_cpu[$load/$s]}" "$ratio"
    done
done
