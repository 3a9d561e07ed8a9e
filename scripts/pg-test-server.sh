#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the tests, on 127.0.0.1 and a free port.
#
#   scripts/pg-test-server.sh start   DIR   start (or find running) a server whose state lives in DIR;
#                                           prints its URL
#   scripts/pg-test-server.sh url     DIR   prints the URL of the server in DIR (fails if not running)
#   scripts/pg-test-server.sh restart DIR   stops and starts it again, same port, data kept
#                                           (tests use it to check that the host reconnects)
#   scripts/pg-test-server.sh halt    DIR   stops it, keeping data and port: `start` resumes it
#   scripts/pg-test-server.sh stop    DIR   stops it and removes its data (fine if not running)
#
# The URL is postgresql://postgres@127.0.0.1:PORT/trellis_test (trust auth, no
# password); it is also stored in DIR/url. The server runs without fsync: it
# is for tests only. PostgreSQL refuses to run as root, so when this script
# runs as root the server runs as the `postgres` system user (created by the
# Debian package) and DIR must be reachable by that user.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DBNAME=trellis_test

die() { echo "pg-test-server: $*" >&2; exit 1; }

usage() { die "usage: $0 start|stop|restart|halt|url DIR"; }

[[ $# -eq 2 ]] || usage
cmd=$1
dir=$2
[[ -n $dir ]] || usage

as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

data=$dir/data
sock=$dir/sock
log=$dir/postgres.log

running() { [[ -d $data ]] && as_owner "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

url_for() { echo "postgresql://postgres@127.0.0.1:$1/$DBNAME"; }

start_on() {  # port
    as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $1 -k $sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null
}

do_start() {
    if running && [[ -f $dir/url ]]; then
        cat "$dir/url"
        return
    fi
    [[ -x $PG_BIN/initdb ]] || die "PostgreSQL 15 is not installed ($PG_BIN/initdb missing): apt-get install postgresql"
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user (apt-get install postgresql)"
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    data=$dir/data sock=$dir/sock log=$dir/postgres.log
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$dir"
        runuser -u postgres -- test -w "$dir" ||
            die "user 'postgres' cannot write to $dir: every parent folder must be searchable by it (chmod o+x)"
    fi
    as_owner mkdir -p "$sock"

    if [[ ! -f $data/PG_VERSION ]]; then
        rm -rf "$data"
        as_owner "$PG_BIN/initdb" -D "$data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 \
            >"$dir/initdb.log" 2>&1 || die "initdb failed, see $dir/initdb.log"
    fi

    local port=""
    if [[ -f $dir/port ]]; then
        port=$(cat "$dir/port")
        start_on "$port" || die "could not start PostgreSQL again on port $port, see $log"
    else
        local attempt
        for attempt in 1 2 3 4 5 6 7 8; do
            port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
            port_in_use "$port" && continue
            if start_on "$port"; then
                break
            fi
            port=""
            echo "pg-test-server: start on port $port failed (attempt $attempt), retrying" >&2
        done
        [[ -n $port ]] || die "could not start PostgreSQL, see $log"
        echo "$port" >"$dir/port"
    fi

    if ! as_owner "$PG_BIN/psql" -h "$sock" -p "$port" -U postgres -d postgres -Atqc \
        "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'" | grep -q 1; then
        as_owner "$PG_BIN/createdb" -h "$sock" -p "$port" -U postgres "$DBNAME" ||
            die "createdb $DBNAME failed"
    fi
    url_for "$port" >"$dir/url"
    cat "$dir/url"
}

do_stop() {
    if running; then
        as_owner "$PG_BIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null || die "pg_ctl stop failed, see $log"
    fi
    rm -rf "$data" "$sock" "$dir/url" "$dir/port" "$dir/initdb.log" "$log"
    rmdir "$dir" 2>/dev/null || true
}

do_halt() {
    [[ -f $dir/port ]] || die "no server in $dir: start it first"
    if running; then
        as_owner "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null || die "pg_ctl stop failed, see $log"
    fi
}

do_restart() {
    do_halt
    do_start >/dev/null
    cat "$dir/url"
}

case $cmd in
    start) do_start ;;
    stop) do_stop ;;
    restart) do_restart ;;
    halt) do_halt ;;
    url)
        running && [[ -f $dir/url ]] || die "no PostgreSQL test server running in $dir"
        cat "$dir/url"
        ;;
    *) usage ;;
esac
