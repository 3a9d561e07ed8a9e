#!/usr/bin/env bash
# Load benchmark: trellis + hello plugin against a bare Pistache 0.0.5 server
# (bench/bare_pistache.cpp) and nginx (Debian's package, `return 200` with
# the same JSON body, 1 worker, access log off: the fixed yardstick), all
# answering the same GET /hello/bench.
#
#   bench/run.sh [BUILD_DIR]        BUILD_DIR defaults to build/dev
#
# Builds trellis, hello and bare_pistache in BUILD_DIR (configuring it first
# if it has never been configured), starts both servers on free loopback ports
# with the same thread count, checks that they answer the same body, warms each
# up, then runs the same wrk load alternately (bare, nginx, trellis, bare, ...)
# and reports, per server, the best of the rounds (highest req/s, with that
# run's p99). Any non-2xx response or socket error in any run fails the script.
# Takes about 45 s once the targets are built. Shared functions: bench/lib.sh.
#
# Environment knobs (defaults are what README.md reports):
#   THREADS=1 ROUNDS=2 DURATION=10s WARMUP=2s CONNECTIONS=32 WRK_THREADS=1
#   ACCESS_LOG=false
# One server thread by default, like nginx's one worker: on this 2-core
# machine wrk needs the other core (THREADS=2 makes every server compete
# with wrk for it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
THREADS=${THREADS:-1}
bench_init "$@"
peer_name=bare

# The bare peer logs nothing; trellis' per-request access log is off unless
# ACCESS_LOG=true (then it goes to a file in the temporary directory).
access_log=${ACCESS_LOG:-false}
url_path=/hello/bench
expected_body='{"message":"Hello, bench!"}'

# ---------------------------------------------------------------- build
build_targets trellis hello bare_pistache
bare_bin=$build_dir/bench/bare_pistache
trellis_bin=$build_dir/host/trellis
[[ -x $bare_bin ]] || die "$bare_bin was not built"
[[ -x $trellis_bin ]] || die "$trellis_bin was not built"

# ---------------------------------------------------------------- servers
bare_port=$(free_port)
bare_cmd=("$bare_bin" "$bare_port" "$threads")
start_server bare "${bare_cmd[@]}"
bare_pid=${pids[-1]}
wait_ready bare "$bare_pid" "$bare_port" "$url_path"

command -v nginx >/dev/null || die "nginx not found (scripts/install-deps.sh installs it)"
nginx_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path $work/nginx;
    proxy_temp_path $work/nginx;
    fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx;
    scgi_temp_path $work/nginx;
    server {
        listen 127.0.0.1:$nginx_port;
        location = $url_path {
            default_type application/json;
            return 200 '$expected_body';
        }
    }
}
NGINX
nginx_cmd=(nginx -c "$work/nginx.conf" -p "$work/nginx")
start_server nginx "${nginx_cmd[@]}"
nginx_pid=${pids[-1]}
wait_ready nginx "$nginx_pid" "$nginx_port" "$url_path"

trellis_port=$(free_port)
cat >"$work/trellis.yaml" <<YAML
server: {listen: 127.0.0.1, port: $trellis_port, threads: $threads, workers: 0}   # one process, like the peer
logging: {level: warn, access: $access_log}
plugins:
  hello: {mount: /}
YAML
start_trellis "$url_path"

# check_same_answer NAME PORT: the body and headers the servers must share.
check_same_answer() {
    local name=$1 port=$2 body
    fetch "$name" "http://127.0.0.1:$port$url_path" "$work/$name.body" >/dev/null
    body=$(cat "$work/$name.body")
    [[ $body == "$expected_body" ]] || die "$name answered body '$body', expected '$expected_body'"
}
check_same_answer bare "$bare_port"
check_same_answer nginx "$nginx_port"
check_same_answer trellis "$trellis_port"

# ---------------------------------------------------------------- load
declare -A server_pid=([bare]=$bare_pid [nginx]=$nginx_pid [trellis]=$trellis_pid)
declare -A server_url=([bare]="http://127.0.0.1:$bare_port$url_path" [nginx]="http://127.0.0.1:$nginx_port$url_path"
                       [trellis]="http://127.0.0.1:$trellis_port$url_path")
measure_servers bare nginx trellis

# ---------------------------------------------------------------- report
echo
echo "Commands (each run; warm-up runs use -d$warmup):"
echo "  ${bare_cmd[*]}"
echo "  ${nginx_cmd[*]}"
echo "  ${trellis_cmd[*]}"
echo "  wrk -t$wrk_threads -c$connections -d$duration --latency http://127.0.0.1:<port>$url_path"
echo "Build: $build_dir ($build_type); $threads server threads each; $(nproc) cores shared with wrk;"
echo "trellis access log: $access_log"
echo "load average before/after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)"
echo "best of $rounds alternating rounds per server (highest req/s, with that run's p99 and server CPU time per request)."
echo
table_head
table_row "bare Pistache 0.0.5" bare
table_row "nginx 1.22, return 200, 1 worker" nginx
table_row "trellis + hello plugin" trellis
echo
echo "trellis/bare req/s ratio: $(ratio trellis bare best_rps)   CPU per request: $(ratio trellis bare best_cpu)"
echo "trellis/nginx req/s ratio: $(ratio trellis nginx best_rps)   CPU per request: $(ratio trellis nginx best_cpu)"
