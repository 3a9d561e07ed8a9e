# Sourced by the shell tests that run a real `trellis serve`: one way to
# start it on a free 127.0.0.1 port. A port picked at random may be taken by
# a parallel test; then serve exits saying so and another port is tried.
#
#   write_config() { ... "$1" is the port ...; }   # the caller writes its configuration
#   probe() { curl -sf "http://127.0.0.1:$1/hello" >/dev/null; }   # true once it serves
#   serve_on_free_port LOG TRELLIS serve -c CONFIG -p DIR ...
#
# On return: SERVE_PORT is the port, SERVE_PID the process (stop it with
# stop_serve). A serve that exits for another reason, or does not answer
# within 30 s, ends the test with fail() (the caller's) and the log.

SERVE_PID=
SERVE_PORT=

serve_on_free_port() {
    local log=$1 attempt
    shift
    for attempt in 1 2 3 4 5; do
        SERVE_PORT=$((30000 + (RANDOM * 7 + $$) % 20000))
        write_config "$SERVE_PORT"
        "$@" >"$log" 2>&1 &
        SERVE_PID=$!
        for _ in $(seq 300); do
            # Ours answered, not another test's server on that port: ours
            # still runs and has logged the address it listens on.
            probe "$SERVE_PORT" 2>/dev/null && kill -0 "$SERVE_PID" 2>/dev/null &&
                grep -q "127.0.0.1:$SERVE_PORT" "$log" && return 0
            kill -0 "$SERVE_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$SERVE_PID" 2>/dev/null && fail "trellis serve did not answer on port $SERVE_PORT: $(cat "$log")"
        grep -qi "in use" "$log" || fail "trellis serve exited: $(cat "$log")"
        SERVE_PID=
        echo "+ port $SERVE_PORT taken (attempt $attempt), trying another"
    done
    fail "no free port in 5 attempts"
}

stop_serve() {
    [[ -n $SERVE_PID ]] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
    SERVE_PID=
    return 0
}
