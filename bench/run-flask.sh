#!/usr/bin/env bash
# Trellis against Flask, the framework it rebuilds: the same two answers as
# bench/run.sh (GET /hello/bench) and bench/run-data.sh (a point read by id
# on the same SQLite file), from bench/flask_peer.py served by gunicorn the
# usual way for Flask (WORKERS processes, one per core, each with THREADS
# threads: the gthread worker, which keeps connections alive like wrk
# expects), and from trellis + hello + notes with THREADS threads. Same wrk
# load, alternating rounds, two reports. Server CPU time counts gunicorn's
# master and workers. Shared functions: bench/lib.sh.
#
#   bench/run-flask.sh [BUILD_DIR]       BUILD_DIR defaults to build/dev
#
# Needs gunicorn and Flask: apt-get install gunicorn python3-flask.
# Environment knobs: those of lib.sh (THREADS=2 ROUNDS=2 DURATION=10s
# WARMUP=2s CONNECTIONS=32 WRK_THREADS=1), NOTES=1000, WORKERS=2.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
peer_name=flask

notes=${NOTES:-1000}
workers=${WORKERS:-$(nproc)}
mount=/api/notes
[[ $notes =~ ^[1-9][0-9]*$ ]] || die "NOTES must be a positive integer, not '$notes'"
command -v gunicorn >/dev/null || die "'gunicorn' not found (apt-get install gunicorn python3-flask)"
gunicorn_python=$(sed -n '1s/^#! *//p' "$(command -v gunicorn)")  # the interpreter gunicorn runs the app with
flask_version=$($gunicorn_python -c 'import importlib.metadata as m; print(m.version("flask"))' 2>/dev/null) \
    || die "Flask not found for $gunicorn_python (apt-get install python3-flask)"

build_targets trellis hello notes
trellis_bin=$build_dir/host/trellis
[[ -x $trellis_bin ]] || die "$trellis_bin was not built"

db_file=$work/notes.db
trellis_port=$(free_port)
cat >"$work/trellis.yaml" <<YAML
server: {listen: 127.0.0.1, port: $trellis_port, threads: $threads, workers: 0}   # one process (bench/run-workers.sh measures the supervisor)
logging: {level: warn, access: false}
database: {url: "sqlite://$db_file"}
plugins:
  hello: {mount: /}
  notes: {mount: $mount}
YAML
start_trellis "$mount"
seed_notes "$trellis_port" "$mount" "$notes"

flask_port=$(free_port)
flask_cmd=(env NOTES_DB="$db_file" gunicorn --chdir "$repo/bench" --bind "127.0.0.1:$flask_port"
           --workers "$workers" --worker-class gthread --threads "$threads" --log-level warning flask_peer:app)
start_server flask "${flask_cmd[@]}"
flask_pid=${pids[-1]}
wait_ready flask "$flask_pid" "$flask_port" /hello/bench

fetch trellis "http://127.0.0.1:$trellis_port/hello/bench" "$work/trellis-hello.json" >/dev/null
fetch flask "http://127.0.0.1:$flask_port/hello/bench" "$work/flask-hello.json" >/dev/null
python3 - "$work/trellis-hello.json" "$work/flask-hello.json" <<'PY' || die "the servers answer different greetings"
import json, sys
t, f = (json.load(open(p)) for p in sys.argv[1:3])
if t != f or t != {"message": "Hello, bench!"}:
    sys.exit(f"trellis: {t}\nflask:   {f}")
PY
same_notes trellis "$trellis_port" flask "$flask_port" "$mount" "$notes"

echo
echo "== hello: GET /hello/bench"
measure "$flask_pid" "http://127.0.0.1:$flask_port/hello/bench" "$trellis_pid" "http://127.0.0.1:$trellis_port/hello/bench"
report "Flask + gunicorn" "trellis + hello plugin"

echo
echo "== point read: GET $mount/{id}, id random in 1..$notes"
export NOTES=$notes NOTES_PATH=$mount/
measure "$flask_pid" "http://127.0.0.1:$flask_port" "$trellis_pid" "http://127.0.0.1:$trellis_port" -s "$repo/bench/random_note.lua"
report "Flask + gunicorn (sqlite3)" "trellis + notes resource"

echo
echo "Commands:"
echo "  ${flask_cmd[*]}"
echo "  ${trellis_cmd[*]}"
echo "Build: $build_dir ($build_type); trellis $threads threads; gunicorn $workers workers x $threads threads;"
echo "$(nproc) cores shared with wrk; SQLite file with $notes notes, WAL, synchronous=NORMAL; access logs off."
echo "Flask $flask_version, gunicorn $(gunicorn --version 2>&1 | awk '{print $3}' | tr -d ')') ($gunicorn_python)"
