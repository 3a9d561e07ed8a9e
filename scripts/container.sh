#!/usr/bin/env bash
# The container image (packaging/container/Containerfile) with podman:
#
#   scripts/container.sh build          make the Debian 12 base image once, build the image
#   scripts/container.sh run [ARGS]     run it in the foreground: 127.0.0.1:$PORT -> 8080,
#                                       the volume $VOLUME on /var/lib/trellis (ARGS go to trellis)
#   scripts/container.sh test           build, then check it as an operator would (below)
#   scripts/container.sh coldstart [N]  N (3) fresh containers: container start to first 200, median
#
# Environment: IMAGE (localhost/trellis:latest), PORT (8080), VOLUME (trellis-data),
# GRACE (20: seconds `podman stop` waits before SIGKILL).
#
# No registry is reachable here: the base image localhost/debian:bookworm is
# made from the Debian mirror with mmdebstrap and podman import. podman on
# these machines needs runc (crun fails with hybrid cgroups) and lowered
# ulimits (raising an rlimit is not permitted): see /work/shared/PLATFORM.md.
# Image builds hold /tmp/trellis-build.lock, as every build on this machine
# does, so that two builds never share its two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${IMAGE:-localhost/trellis:latest}
base=localhost/debian:bookworm
port=${PORT:-8080}
volume=${VOLUME:-trellis-data}
grace=${GRACE:-20}
podman=(podman --runtime runc)
ulimits=(--ulimit nofile=1024:4096 --ulimit nproc=1024:4096)

log() { echo "container: $*" >&2; }
fail() { echo "container: FAIL: $*" >&2; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

ensure_tools() {
    local p status missing=()
    for p in podman runc mmdebstrap curl; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        [[ $status == installed ]] || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    log "installing ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

ensure_base() {
    if podman image exists "$base"; then return; fi
    local tmp
    tmp=$(mktemp -d /tmp/trellis-rootfs.XXXXXX)
    # minbase without manual pages, translations and documentation (the
    # copyright files stay): dpkg keeps these rules for every package
    # installed on top, in both stages.
    log "making $base: mmdebstrap --variant=minbase bookworm"
    mmdebstrap --variant=minbase \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        bookworm "$tmp/rootfs.tar" || { rm -rf "$tmp"; fail "mmdebstrap failed"; }
    podman import "$tmp/rootfs.tar" "$base" >/dev/null || { rm -rf "$tmp"; fail "podman import failed"; }
    rm -rf "$tmp"
}

build() {
    ensure_tools
    ensure_base
    log "building $image"
    local t0
    t0=$(date +%s)
    # shellcheck disable=SC2016 # expanded by the inner bash
    flock /tmp/trellis-build.lock bash -c 'echo "container: build lock taken after $(( $(date +%s) - $1 )) s" >&2; shift; exec "$@"' \
        _ "$t0" "${podman[@]}" build --format docker "${ulimits[@]}" \
        -f packaging/container/Containerfile -t "$image" .
    log "image built $(( $(date +%s) - t0 )) s after the build began"
    # The build stage under a name of its own (all of it cached: seconds),
    # so that pruning what earlier builds left behind (untagged layers of
    # older sources, older images) keeps the layers the next build reuses.
    "${podman[@]}" build --format docker "${ulimits[@]}" --target build \
        -f packaging/container/Containerfile -t "$image-build" . >/dev/null
    podman image prune -f >/dev/null
    log "image $image: $(image_size)"
}

image_size() {
    local bytes
    bytes=$(podman image inspect --format '{{.Size}}' "$image")
    echo "$(( bytes / 1000000 )) MB ($bytes bytes)"
}

# ------------------------------------------------------------------ test helpers
containers=()
volumes=()
cleanup() {
    local c v
    for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
    for v in "${volumes[@]}"; do podman volume rm -f "$v" >/dev/null 2>&1 || true; done
}

# podman schedules HEALTHCHECKs with systemd timers and complains on every
# run and stop where systemd does not run (no /run/systemd/private; podman
# 4.3 ignores --health-interval=disable for an image's check); the test runs
# the check itself with `podman healthcheck run`, so those lines are dropped.
no_timer_noise() { grep -v 'unable to get systemd connection' >&2 || true; }

# start NAME VOLUME: starts a container on a free loopback port, waits for
# GET /hello/world to answer 200; sets $url and $cold_ms (podman run to
# first 200).
start() {
    local name=$1 vol=$2 t0 deadline mapped
    t0=$(now_ms)
    containers+=("$name")
    "${podman[@]}" run -d --name "$name" "${ulimits[@]}" \
        -p 127.0.0.1::8080 -v "$vol:/var/lib/trellis" "$image" >/dev/null 2> >(no_timer_noise)
    mapped=$(podman port "$name" 8080/tcp | head -1)
    url=http://$mapped
    deadline=$(( t0 + 60000 ))
    until curl -fsS -o /dev/null "$url/hello/world" 2>/dev/null; do
        if [[ $(podman inspect --format '{{.State.Running}}' "$name") != true ]]; then
            podman logs "$name" >&2 || true
            fail "$name exited before it served"
        fi
        (( $(now_ms) < deadline )) || { podman logs "$name" >&2; fail "$name: no 200 from $url/hello/world within 60 s"; }
        sleep 0.02
    done
    cold_ms=$(( $(now_ms) - t0 ))
}

# expect_http WHAT STATUS BODY_PART CURL_ARGS...: one request, its status and body.
expect_http() {
    local what=$1 status=$2 part=$3 out code body
    shift 3
    out=$(curl -sS -w '\n%{http_code}' "$@") || fail "$what: curl failed"
    code=${out##*$'\n'}
    body=${out%$'\n'*}
    [[ $code == "$status" ]] || fail "$what: status $code, not $status: $body"
    [[ $body == *"$part"* ]] || fail "$what: the body lacks '$part': $body"
    response=$body
}

# stop_checked NAME: SIGTERM through podman stop; must exit 0 before the grace ends.
stop_checked() {
    local name=$1 t0 elapsed code
    t0=$(now_ms)
    podman stop -t "$grace" "$name" >/dev/null 2> >(no_timer_noise)
    elapsed=$(( $(now_ms) - t0 ))
    code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
    [[ $code == 0 ]] || { podman logs "$name" >&2; fail "$name exited $code after SIGTERM (137: killed at the end of the grace period)"; }
    (( elapsed < grace * 1000 )) || fail "$name took ${elapsed} ms to stop, the grace period is ${grace} s"
    local logs
    logs=$(podman logs "$name" 2>&1)
    if ! grep -q '\[supervisor\] SIGTERM received: draining' <<<"$logs" \
        || ! grep -q '\[supervisor\] stopped' <<<"$logs"; then
        echo "$logs" >&2
        fail "$name's log shows no drain after the SIGTERM"
    fi
    log "$name: SIGTERM -> exit 0 in ${elapsed} ms (grace ${grace} s)"
}

test_image() {
    local t_start run vol first second healthy deadline id
    t_start=$(now_ms)
    build
    run=trellis-test-$$
    vol=trellis-test-$$
    trap cleanup EXIT
    volumes+=("$vol")
    podman volume create "$vol" >/dev/null

    # 1. A fresh volume: the hello route, a note created and read back.
    start "$run-1" "$vol"
    first=$cold_ms
    log "$run-1 serves at $url: first 200 after ${first} ms"
    expect_http "GET /hello/world" 200 '"message":"Hello, world!"' "$url/hello/world"
    expect_http "GET /hello/container" 200 'container' "$url/hello/container"
    expect_http "POST /api/notes" 201 '"title":"kept on the volume"' \
        -X POST -H 'Content-Type: application/json' \
        -d '{"title":"kept on the volume","body":"written by scripts/container.sh test"}' "$url/api/notes"
    id=$(grep -o '"id":[0-9]*' <<<"$response" | head -1 | cut -d: -f2)
    [[ -n $id ]] || fail "POST /api/notes: no id in $response"
    expect_http "GET /api/notes/$id" 200 '"title":"kept on the volume"' "$url/api/notes/$id"
    expect_http "GET /api/notes/999999" 404 '"status":404' "$url/api/notes/999999"

    # What runs inside: trellis serve as PID 1, as the trellis user.
    [[ $(podman exec "$run-1" cat /proc/1/comm) == trellis ]] \
        || fail "PID 1 is $(podman exec "$run-1" cat /proc/1/cmdline | tr '\0' ' '), not trellis"
    [[ $(podman exec "$run-1" id -un) == trellis ]] || fail "the container does not run as trellis"
    podman exec "$run-1" sh -c 'ls -l /var/lib/trellis/trellis.db' >&2

    # The image's HEALTHCHECK (admin /readyz through bash's /dev/tcp) turns healthy.
    deadline=$(( $(now_ms) + 60000 ))
    until podman healthcheck run "$run-1" >/dev/null 2>&1; do
        (( $(now_ms) < deadline )) || fail "HEALTHCHECK never passed"
        sleep 0.5
    done
    healthy=$(podman inspect --format '{{.State.Health.Status}}' "$run-1" 2>/dev/null \
              || podman inspect --format '{{.State.Healthcheck.Status}}' "$run-1")
    [[ $healthy == healthy ]] || fail "health status is '$healthy' after a passing check"
    log "$run-1: HEALTHCHECK healthy"

    # 2. SIGTERM: a drain and exit 0 within the grace period.
    stop_checked "$run-1"

    # 3. A new container on the same volume reads the note back.
    start "$run-2" "$vol"
    second=$cold_ms
    log "$run-2 (same volume) serves: first 200 after ${second} ms"
    expect_http "GET /api/notes/$id after the restart" 200 '"title":"kept on the volume"' "$url/api/notes/$id"
    stop_checked "$run-2"

    cleanup
    containers=()
    volumes=()
    echo "container test: OK in $(( ($(now_ms) - t_start) / 1000 )) s; image $(image_size);" \
         "cold start ${first} ms (fresh volume), ${second} ms (existing volume)"
}

coldstart() {
    local n=${1:-3} i times=() vol
    trap cleanup EXIT
    podman image exists "$image" || fail "no $image: scripts/container.sh build first"
    for (( i = 1; i <= n; i++ )); do
        vol=trellis-cold-$$-$i
        volumes+=("$vol")
        podman volume create "$vol" >/dev/null
        start "trellis-cold-$$-$i" "$vol"
        times+=("$cold_ms")
        log "start $i: first 200 after ${cold_ms} ms"
        podman stop -t "$grace" "trellis-cold-$$-$i" >/dev/null 2> >(no_timer_noise)
    done
    local sorted
    sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
    echo "cold start (podman run to first 200), $n runs: ${sorted}ms; median $(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p") ms; image $(image_size)"
}

case ${1:-} in
    build) build ;;
    run)
        shift
        podman image exists "$image" || build
        tty=()
        [[ -t 0 ]] && tty=(-t)
        exec "${podman[@]}" run --rm -i "${tty[@]}" --name trellis "${ulimits[@]}" \
            -p "127.0.0.1:$port:8080" -v "$volume:/var/lib/trellis" "$image" "$@" ;;
    test) test_image ;;
    coldstart) shift; coldstart "$@" ;;
    *) echo "usage: $0 build|run [TRELLIS_ARGS...]|test|coldstart [N]" >&2; exit 2 ;;
esac
