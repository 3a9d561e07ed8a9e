#!/usr/bin/env bash
# The scale-out example on one machine: three `trellis serve` hosts on
# 127.0.0.1 sharing one PostgreSQL database, behind HAProxy (README.md).
#
#   examples/scale-out/run.sh start          start the set; prints where it is
#   examples/scale-out/run.sh status         what runs and what HAProxy thinks of each host
#   examples/scale-out/run.sh stop           stop everything (hosts drain; PostgreSQL, if ours, is removed)
#   examples/scale-out/run.sh host N start   start host N (1-3) again, wait until it is ready
#   examples/scale-out/run.sh host N stop    SIGTERM: the host drains and exits
#   examples/scale-out/run.sh host N kill    SIGKILL to the host's supervisor and its workers at once
#   examples/scale-out/run.sh stat           HAProxy's `show stat` (CSV) from its stats socket
#
# Environment (read by `start`; the other commands read what `start` saved):
#   SCALEOUT_DIR    state folder: configs, logs, pids, the stats socket
#                   (default build/scale-out in the source tree)
#   TRELLIS_BUILD   build tree holding host/trellis and plugins/ (default
#                   build/dev, else build/ci); or TRELLIS and PLUGIN_DIR
#   DATABASE_URL    a PostgreSQL URL for the hosts; unset: a throwaway
#                   PostgreSQL 15 is started in SCALEOUT_DIR/pg by
#                   scripts/pg-test-server.sh and removed by `stop`
#   BALANCER_PORT   HAProxy's port; HOST_PORTS="P1 P2 P3" the hosts'
#                   serving ports; ADMIN_PORTS="A1 A2 A3" their admin
#                   listeners. Each unset: free ports are chosen.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
state_dir=${SCALEOUT_DIR:-$repo/build/scale-out}
state_file=$state_dir/state.env

die() { echo "scale-out: $*" >&2; exit 1; }
say() { echo "scale-out: $*"; }

usage() {
    sed -n '5,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------- helpers

# free_ports N: N distinct TCP ports on 127.0.0.1 that were free a moment ago.
free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# http_status PORT PATH: the status of GET PATH on 127.0.0.1:PORT, 000 if none.
http_status() {
    curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1$2" || true
}

# alive PID: the process runs (a zombie waiting to be reaped does not count).
alive() {
    [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

load_state() {
    [[ -f $state_file ]] || die "nothing started in $state_dir (run.sh start first)"
    # shellcheck disable=SC1090
    source "$state_file"
    read -r -a host_ports <<<"$HOST_PORTS"
    read -r -a admin_ports <<<"$ADMIN_PORTS"
}

host_dir() { echo "$state_dir/host$1"; }
host_pid() { cat "$(host_dir "$1")/pid" 2>/dev/null || true; }
haproxy_pid() { cat "$state_dir/haproxy.pid" 2>/dev/null || true; }

# stats_command CMD: one command on HAProxy's stats socket, its answer on stdout.
stats_command() {
    local sock=$state_dir/haproxy.sock
    [[ -S $sock ]] || die "no HAProxy stats socket at $sock"
    if command -v socat >/dev/null; then
        echo "$1" | socat -t 2 - "UNIX-CONNECT:$sock"
    else
        python3 - "$sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while chunk := s.recv(65536):
    out += chunk
sys.stdout.write(out.decode())
PY
    fi
}

# server_status N: HAProxy's status of host N (UP, DOWN, "UP 1/2", MAINT, ...).
server_status() {
    stats_command "show stat" | awk -F, -v name="host$1" '$1 == "trellis" && $2 == name { print $18 }'
}

# ---------------------------------------------------------------- hosts

start_host() {  # N
    local n=$1 dir pid
    dir=$(host_dir "$n")
    pid=$(host_pid "$n")
    if alive "$pid"; then
        say "host$n already runs (pid $pid)"
        return 0
    fi
    # Its own session: a Ctrl-C in the terminal that ran this script does not
    # reach it, and it outlives the script.
    TRELLIS_DATABASE_URL=$DATABASE_URL setsid "$TRELLIS" serve --config "$dir/trellis.yaml" \
        --plugin-path "$PLUGIN_DIR" >>"$dir/trellis.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
}

wait_host_ready() {  # N
    local n=$1 pid port _
    pid=$(host_pid "$n")
    port=${host_ports[n - 1]}
    for _ in $(seq 300); do
        if ! alive "$pid"; then
            local rc=0
            wait "$pid" 2>/dev/null || rc=$?
            sleep 0.2
            die "host$n (pid $pid) exited while starting (status $rc); its log ($(host_dir "$n")/trellis.log) ends with:
$(tail -n 20 "$(host_dir "$n")/trellis.log")"
        fi
        [[ $(http_status "$port" /readyz) == 200 ]] && return 0
        sleep 0.1
    done
    die "host$n is not ready on port $port after 30 s; see $(host_dir "$n")/trellis.log"
}

# wait_balancer N WANT: until HAProxy reports host N as WANT (UP or DOWN), 20 s at most.
wait_balancer() {
    local n=$1 want=$2 status="" _
    for _ in $(seq 200); do
        status=$(server_status "$n")
        [[ $status == "$want" ]] && return 0
        sleep 0.1
    done
    die "HAProxy still reports host$n as '$status', not $want, after 20 s"
}

wait_gone() {  # PID SECONDS
    local pid=$1 _
    for _ in $(seq $(( $2 * 10 ))); do
        alive "$pid" || return 0
        sleep 0.1
    done
    return 1
}

stop_host() {  # N: SIGTERM, the host drains (drain_delay + shutdown_grace at most, then 3 s)
    local n=$1 pid
    pid=$(host_pid "$n")
    if ! alive "$pid"; then
        say "host$n is not running"
        return 0
    fi
    kill -TERM "$pid"
    if ! wait_gone "$pid" 15; then
        say "host$n (pid $pid) still runs 15 s after SIGTERM: killing it"
        kill_host "$n"
    fi
    rm -f "$(host_dir "$n")/pid"
}

kill_host() {  # N: the supervisor and every worker in one kill(1)
    local n=$1 pid children
    pid=$(host_pid "$n")
    if ! alive "$pid"; then
        say "host$n is not running"
        return 0
    fi
    # Workers run in process groups of their own (a terminal's Ctrl-C goes to
    # the supervisor only) and get SIGTERM when their supervisor dies: to
    # crash the whole host, as a power cut would, every process gets SIGKILL
    # together, the workers named first.
    children=$(pgrep -P "$pid" | tr '\n' ' ' || true)
    # shellcheck disable=SC2086
    kill -KILL $children "$pid" 2>/dev/null || true
    local c
    for c in $children "$pid"; do
        wait_gone "$c" 5 || die "process $c of host$n survived SIGKILL"
    done
    rm -f "$(host_dir "$n")/pid"
}

# ---------------------------------------------------------------- commands

cmd_start() {
    if [[ -f $state_file ]]; then
        load_state
        alive "$(haproxy_pid)" && die "already running in $state_dir (run.sh stop first)"
    fi
    command -v haproxy >/dev/null || die "haproxy is not installed (scripts/install-deps.sh installs it)"
    mkdir -p "$state_dir"
    state_dir=$(cd "$state_dir" && pwd)
    state_file=$state_dir/state.env

    local build=${TRELLIS_BUILD:-}
    if [[ -z $build ]]; then
        build=$repo/build/dev
        [[ -x $build/host/trellis ]] || build=$repo/build/ci
    fi
    TRELLIS=${TRELLIS:-$build/host/trellis}
    PLUGIN_DIR=${PLUGIN_DIR:-$build/plugins}
    [[ -x $TRELLIS ]] || die "no trellis binary at $TRELLIS (build first, or set TRELLIS_BUILD or TRELLIS)"
    [[ -f $PLUGIN_DIR/libnotes.so ]] || die "no notes plugin in $PLUGIN_DIR (set TRELLIS_BUILD or PLUGIN_DIR)"

    local -a free
    read -r -a free <<<"$(free_ports 7)"
    BALANCER_PORT=${BALANCER_PORT:-${free[0]}}
    HOST_PORTS=${HOST_PORTS:-"${free[1]} ${free[2]} ${free[3]}"}
    ADMIN_PORTS=${ADMIN_PORTS:-"${free[4]} ${free[5]} ${free[6]}"}
    read -r -a host_ports <<<"$HOST_PORTS"
    read -r -a admin_ports <<<"$ADMIN_PORTS"
    [[ ${#host_ports[@]} -eq 3 && ${#admin_ports[@]} -eq 3 ]] || die "HOST_PORTS and ADMIN_PORTS take three ports each"

    OWN_PG=0
    if [[ -z ${DATABASE_URL:-} ]]; then
        say "starting a throwaway PostgreSQL in $state_dir/pg"
        DATABASE_URL=$("$repo/scripts/pg-test-server.sh" start "$state_dir/pg")
        OWN_PG=1
    fi

    cat >"$state_file" <<STATE
TRELLIS='$TRELLIS'
PLUGIN_DIR='$PLUGIN_DIR'
DATABASE_URL='$DATABASE_URL'
OWN_PG=$OWN_PG
BALANCER_PORT=$BALANCER_PORT
HOST_PORTS='$HOST_PORTS'
ADMIN_PORTS='$ADMIN_PORTS'
STATE

    local n
    for n in 1 2 3; do
        mkdir -p "$(host_dir "$n")"
        sed -e "s/@PORT@/${host_ports[n - 1]}/" -e "s/@ADMIN_PORT@/${admin_ports[n - 1]}/" \
            "$here/host.yaml.in" >"$(host_dir "$n")/trellis.yaml"
        : >"$(host_dir "$n")/trellis.log"
    done
    # All three together: the migrations run once, under PostgreSQL's advisory
    # lock, whichever host gets it first.
    for n in 1 2 3; do start_host "$n"; done
    for n in 1 2 3; do wait_host_ready "$n"; done

    export SCALEOUT_DIR=$state_dir BALANCER_PORT
    export HOST1_PORT=${host_ports[0]} HOST2_PORT=${host_ports[1]} HOST3_PORT=${host_ports[2]}
    haproxy -c -q -f "$here/haproxy.cfg" || die "haproxy refuses $here/haproxy.cfg"
    : >"$state_dir/haproxy.log"
    setsid haproxy -db -f "$here/haproxy.cfg" >>"$state_dir/haproxy.log" 2>&1 </dev/null &
    echo $! >"$state_dir/haproxy.pid"
    local _
    for _ in $(seq 100); do
        [[ -S $state_dir/haproxy.sock ]] && break
        alive "$(haproxy_pid)" || die "haproxy exited: $(cat "$state_dir/haproxy.log")"
        sleep 0.1
    done
    for n in 1 2 3; do wait_balancer "$n" UP; done

    say "running (state in $state_dir)"
    say "  balancer  http://127.0.0.1:$BALANCER_PORT/api/notes  (stats socket $state_dir/haproxy.sock)"
    for n in 1 2 3; do
        say "  host$n     http://127.0.0.1:${host_ports[n - 1]}/  admin http://127.0.0.1:${admin_ports[n - 1]}/metrics  pid $(host_pid "$n")"
    done
    say "  database  $DATABASE_URL"
}

cmd_stop() {
    load_state
    local pid n
    pid=$(haproxy_pid)
    if alive "$pid"; then
        kill -TERM "$pid"
        wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$state_dir/haproxy.pid" "$state_dir/haproxy.sock"
    # The three drain at the same time.
    for n in 1 2 3; do
        pid=$(host_pid "$n")
        alive "$pid" && kill -TERM "$pid"
    done
    for n in 1 2 3; do stop_host "$n" >/dev/null; done
    if [[ $OWN_PG == 1 ]]; then
        "$repo/scripts/pg-test-server.sh" stop "$state_dir/pg"
    fi
    rm -f "$state_file"
    say "stopped (logs kept in $state_dir)"
}

cmd_status() {
    load_state
    local ok=0 pid n status
    pid=$(haproxy_pid)
    if alive "$pid"; then
        say "haproxy  pid $pid, http://127.0.0.1:$BALANCER_PORT"
    else
        say "haproxy  not running"
        ok=1
    fi
    for n in 1 2 3; do
        pid=$(host_pid "$n")
        status=$( (alive "$(haproxy_pid)" && server_status "$n") || echo "?")
        if alive "$pid"; then
            say "host$n    pid $pid, port ${host_ports[n - 1]}, /readyz $(http_status "${host_ports[n - 1]}" /readyz), HAProxy: $status"
        else
            say "host$n    not running, HAProxy: $status"
            ok=1
        fi
        [[ $status == UP ]] || ok=1
    done
    return $ok
}

case ${1:-} in
    start) [[ $# -eq 1 ]] || usage; cmd_start ;;
    stop) [[ $# -eq 1 ]] || usage; cmd_stop ;;
    status) [[ $# -eq 1 ]] || usage; cmd_status ;;
    stat) [[ $# -eq 1 ]] || usage; load_state; stats_command "show stat" ;;
    host)
        [[ $# -eq 3 && $2 =~ ^[123]$ ]] || usage
        load_state
        case $3 in
            start) start_host "$2"; wait_host_ready "$2" ;;
            stop) stop_host "$2" ;;
            kill) kill_host "$2" ;;
            *) usage ;;
        esac
        ;;
    *) usage ;;
esac
