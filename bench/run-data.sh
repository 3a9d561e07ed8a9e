#!/usr/bin/env bash
# Data benchmark: a point read by id through trellis' `notes` resource
# (GET /api/notes/{id}, no handler code: the host's REST resource over SOCI)
# against a hand-written bare Pistache 0.0.5 + SOCI server
# (bench/bare_pistache_soci.cpp) reading the same SQLite file.
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
#   NOTES=1000
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
plugin_dir=$build_dir/plugins
[[ -x $peer_bin ]] || die "$peer_bin was not built"
[[ -x $trellis_bin ]] || die "$trellis_bin was not built"

# ---------------------------------------------------------------- trellis + data
db_file=$work/notes.db
trellis_port=$(free_port)
cat >"$work/trellis.yaml" <<YAML
server: {listen: 127.0.0.1, port: $trellis_port, threads: $threads}
logging: {level: warn, access: false}
database: {url: "sqlite://$db_file"}
plugins:
  notes: {mount: $mount}
YAML
trellis_cmd=("$trellis_bin" serve --config "$work/trellis.yaml" --plugin-path "$plugin_dir")
echo "    # config:"
sed 's/^/      /' "$work/trellis.yaml"
start_server trellis "${trellis_cmd[@]}"
trellis_pid=${pids[-1]}
wait_ready trellis "$trellis_pid" "$trellis_port" "$mount"

# NOTES notes through the API, on one keep-alive connection. The values vary
# (nulls, booleans, quotes, backslashes, control characters, non-ASCII) so
# that the comparison below checks the peer's JSON, not just its shape. On a
# fresh file the ids are 1..NOTES; the script checks that.
echo "+ POST $notes notes to http://127.0.0.1:$trellis_port$mount"
python3 - "$trellis_port" "$mount" "$notes" <<'PY' || die "creating the notes through the API failed"
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

# ---------------------------------------------------------------- peer
peer_port=$(free_port)
peer_cmd=("$peer_bin" "$peer_port" "$threads" "$db_file")
start_server "$peer_name" "${peer_cmd[@]}"
peer_pid=${pids[-1]}
wait_ready "$peer_name" "$peer_pid" "$peer_port" "$mount/1"

# Same answer for a sample of ids (covering every null/boolean combination
# the data has, and both ends of the range): same status, Content-Type,
# keep-alive, and equal JSON values (key order may differ).
sample_ids=$(printf '%s\n' 1 2 5 7 9 10 45 63 90 315 630 $((notes / 2)) $((notes - 1)) "$notes" \
    | awk -v n="$notes" '$1 >= 1 && $1 <= n' | sort -nu)
for id in $sample_ids; do
    fetch trellis "http://127.0.0.1:$trellis_port$mount/$id" "$work/trellis-$id.json" >/dev/null
    fetch "$peer_name" "http://127.0.0.1:$peer_port$mount/$id" "$work/peer-$id.json" >/dev/null
    python3 - "$work/trellis-$id.json" "$work/peer-$id.json" "$id" <<'PY' || die "the servers answer different notes for id $id"
import json, sys
t, p = (json.load(open(f, encoding="utf-8")) for f in sys.argv[1:3])
if t != p or t.get("id") != int(sys.argv[3]) or sorted(t) != ["body", "created", "id", "pinned", "tag", "title"]:
    sys.exit(f"trellis: {json.dumps(t)}\npeer:    {json.dumps(p)}")
PY
done
missing=$((notes + 1))
for name_port in "trellis:$trellis_port" "$peer_name:$peer_port"; do
    status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${name_port##*:}$mount/$missing")
    [[ $status == 404 ]] || die "${name_port%%:*}: GET $mount/$missing answered $status, expected 404"
done
echo "same JSON from both for ids:" $sample_ids "(and 404 for $missing)"
echo "  e.g. $(cat "$work/trellis-1.json")"

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
echo "SQLite file with $notes notes, WAL, synchronous=NORMAL; trellis access log off."
report "bare Pistache + SOCI" "trellis + notes resource"
