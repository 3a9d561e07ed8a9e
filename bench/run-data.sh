#!/usr/bin/env bash
# Data benchmark: a point read by id through trellis' `notes` resource
# (GET /api/notes/{id}, no handler code: the host's REST resource over SOCI)
# against a hand-written bare Pistache 0.0.5 + SOCI server
# (bench/bare_pistache_soci.cpp) reading the same SQLite file, or with
# DATABASE=postgresql the same PostgreSQL 15 database (a throwaway server on
# 127.0.0.1 started by scripts/pg-test-server.sh and stopped on exit).
#
#   bench/run-data.sh [BUILD_DIR]        BUILD_DIR defaults to build/dev
#
# Builds trellis, notes and bare_pistache_soci in BUILD_DIR (configuring it
# first if it has never been configured); starts trellis on a fresh SQLite
# file (trellis creates the schema), creates NOTES notes through its REST API
# (POST /api/notes), starts the peer on the same file with the same thread
# count, checks that both answer the same JSON for a sample of ids (and 404
# for a missing one), warms each up, then runs the same wrk load (random ids
# 1..NOTES, bench/random_note.lua) alternately: peer, trellis, peer,
# trellis... It reports, per server, the best of the rounds (highest req/s,
# with that run's p99). Any non-2xx response or socket error in any run fails
# the script. Takes about 50 s once the targets are built. Shared functions:
# bench/lib.sh.
#
# Environment knobs (defaults are what README.md reports):
#   THREADS=2 ROUNDS=2 DURATION=10s WARMUP=2s CONNECTIONS=32 WRK_THREADS=1
#   NOTES=1000 DATABASE=sqlite (or postgresql)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
peer_name=bare+soci

notes=${NOTES:-1000}
mount=/api/notes
lua_script=$repo/bench/random_note.lua
[[ $notes =~ ^[1-9][0-9]*$ ]] || die "NOTES must be a positive integer, not '$notes'"

# ---------------------------------------------------------------- build
build_targets trellis notes bare_pistache_soci
peer_bin=$build_dir/bench/bare_pistache_soci
trellis_bin=$build_dir/host/trellis
[[ -x $peer_bin ]] || die "$peer_bin was not built"
[[ -x $trellis_bin ]] || die "$trellis_bin was not built"

# ---------------------------------------------------------------- database
database=${DATABASE:-sqlite}
case $database in
    sqlite)
        db_url=sqlite://$work/notes.db
        peer_db=$work/notes.db
        db_label="SQLite file with $notes notes, WAL, synchronous=NORMAL"
        ;;
    postgresql)
        # Its own directory: the server runs as the postgres user, which
        # cannot enter $work.
        pg_dir=$(mktemp -d /tmp/trellis-bench-pg.XXXXXX)
        chmod 755 "$pg_dir"
        trap '"$repo/scripts/pg-test-server.sh" stop "$pg_dir" >/dev/null 2>&1; rm -rf "$pg_dir"; bench_cleanup' EXIT
        "$repo/scripts/pg-test-server.sh" start "$pg_dir" >/dev/null || die "cannot start PostgreSQL"
        db_url=$("$repo/scripts/pg-test-server.sh" url "$pg_dir")  # postgresql://user@host:port/dbname
        [[ $db_url =~ ^postgresql://([^@]+)@([^:]+):([0-9]+)/(.+)$ ]] || die "unexpected PostgreSQL URL '$db_url'"
        peer_db="host=${BASH_REMATCH[2]} port=${BASH_REMATCH[3]} dbname=${BASH_REMATCH[4]} user=${BASH_REMATCH[1]}"
        db_label="PostgreSQL $(psql --version | awk '{print $3}') on 127.0.0.1 (fsync off), $notes notes"
        ;;
    *) die "DATABASE must be sqlite or postgresql, not '$database'" ;;
esac

# ---------------------------------------------------------------- trellis + data
trellis_port=$(free_port)
cat >"$work/trellis.yaml" <<YAML
server: {listen: 127.0.0.1, port: $trellis_port, threads: $threads, workers: 0}   # one process, like the peer
logging: {level: warn, access: false}
database: {url: "$db_url"}
plugins:
  notes: {mount: $mount}
YAML
start_trellis "$mount"

seed_notes "$trellis_port" "$mount" "$notes"

# ---------------------------------------------------------------- peer
peer_port=$(free_port)
peer_cmd=("$peer_bin" "$peer_port" "$threads" "$peer_db")
start_server "$peer_name" "${peer_cmd[@]}"
peer_pid=${pids[-1]}
wait_ready "$peer_name" "$peer_pid" "$peer_port" "$mount/1"

same_notes trellis "$trellis_port" "$peer_name" "$peer_port" "$mount" "$notes"

# ---------------------------------------------------------------- load
export NOTES=$notes NOTES_PATH=$mount/
measure "$peer_pid" "http://127.0.0.1:$peer_port" "$trellis_pid" "http://127.0.0.1:$trellis_port" -s "$lua_script"

# ---------------------------------------------------------------- report
echo
echo "Commands (each run; warm-up runs use -d$warmup):"
echo "  ${peer_cmd[*]}"
echo "  ${trellis_cmd[*]}"
echo "  NOTES=$notes NOTES_PATH=$mount/ wrk -t$wrk_threads -c$connections -d$duration --latency -s $lua_script http://127.0.0.1:<port>"
echo "Build: $build_dir ($build_type); $threads server threads each; $(nproc) cores shared with wrk;"
echo "$db_label; trellis access log off."
report "bare Pistache + SOCI" "trellis + notes resource"
