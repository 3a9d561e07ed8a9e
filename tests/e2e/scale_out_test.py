#!/usr/bin/env python3
"""The scale-out example under load (examples/scale-out, issue 13).

Three `trellis serve` hosts on 127.0.0.1 share one fresh PostgreSQL database
behind HAProxy, started together by examples/scale-out/run.sh. A load client
writes notes through HAProxy on a few keep-alive connections and records
every acknowledged id (201). Mid-load, host 2 is killed with SIGKILL (its
supervisor and workers at once) and started again; then host 3 is stopped
with SIGTERM (it drains) and started again. Afterwards:

- each migration step was applied by exactly one host;
- every acknowledged note is readable through every host directly (0 lost);
- failed writes are only those in flight on the killed host: at most one per
  connection, all between the kill and HAProxy marking the host DOWN; the
  drain costs none; no POST was written twice (HAProxy does not resend it);
- HAProxy's stats socket showed host 2 DOWN and then UP again (host 3 too).

Needs TRELLIS_TEST_PG_URL (scripts/test.sh starts a throwaway PostgreSQL and
sets it); without it the test is skipped (exit 77, ctest SKIP_RETURN_CODE).

    tests/e2e/scale_out_test.py --trellis build/ci/host/trellis --plugins build/ci/plugins
"""

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

SKIP = 77
CONNECTIONS = 4          # load client connections through HAProxy
DEADLINE = 100.0         # seconds for the whole test (ctest's TIMEOUT is 120)
STARTED = time.monotonic()


def log(message):
    print(f"[{time.monotonic() - STARTED:6.2f}s] {message}", flush=True)


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def left():
    return DEADLINE - (time.monotonic() - STARTED)


# ---------------------------------------------------------------- PostgreSQL

def psql(url, sql):
    r = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise Failure(f"psql failed on {sql!r}: {r.stderr.strip()}")
    return r.stdout.strip()


def with_database(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


# ---------------------------------------------------------------- HAProxy's stats socket

def stats(sock_path, command="show stat"):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(2)
    try:
        s.connect(sock_path)
        s.sendall(command.encode() + b"\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    finally:
        s.close()
    return out.decode()


def servers(sock_path):
    """show stat as {server name: {column: value}} for the trellis backend."""
    lines = [line for line in stats(sock_path).splitlines() if line]
    header = lines[0].lstrip("# ").split(",")
    result = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        if row.get("pxname") == "trellis" and row.get("svname", "").startswith("host"):
            result[row["svname"]] = row
    return result


class StatusMonitor(threading.Thread):
    """Polls `show stat` every 50 ms and records each server's status changes."""

    def __init__(self, sock_path):
        super().__init__(daemon=True)
        self.sock_path = sock_path
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.current = {}
        self.changes = {}   # server -> [(time, status)]
        self.errors = 0

    def run(self):
        while not self.stop_event.is_set():
            try:
                rows = servers(self.sock_path)
            except OSError:
                self.errors += 1
                rows = {}
            now = time.monotonic()
            with self.lock:
                for name, row in rows.items():
                    status = row["status"]
                    if self.current.get(name) != status:
                        self.current[name] = status
                        self.changes.setdefault(name, []).append((now, status))
            self.stop_event.wait(0.05)

    def status(self, name):
        with self.lock:
            return self.current.get(name)

    def history(self, name):
        with self.lock:
            return list(self.changes.get(name, []))

    def first(self, name, want, since):
        """When `name` was first seen as `want` at or after `since`."""
        return next((t for t, s in self.history(name) if s == want and t >= since), None)

    def wait_for(self, name, want, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.status(name) == want:
                return time.monotonic()
            time.sleep(0.02)
        raise Failure(f"HAProxy did not report {name} as {want} within {timeout} s "
                      f"(now {self.status(name)}; seen {self.history(name)})")


# ---------------------------------------------------------------- the load

class Writer(threading.Thread):
    """One keep-alive connection through HAProxy, POSTing notes until stopped."""

    def __init__(self, index, port, stop_event):
        super().__init__(daemon=True)
        self.index, self.port, self.stop_event = index, port, stop_event
        self.acked = {}      # id -> title
        self.failures = []   # (time, what)
        self.sent = 0
        self.connects = 0

    def run(self):
        conn = None
        seq = 0
        while not self.stop_event.is_set():
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                self.connects += 1
            seq += 1
            title = f"w{self.index}-{seq}"
            body = json.dumps({"title": title, "body": f"written by connection {self.index}", "tag": "scale"})
            try:
                self.sent += 1
                conn.request("POST", "/api/notes", body=body, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                if r.status == 201:
                    note = json.loads(data)
                    if note.get("title") != title:
                        self.failures.append((time.monotonic(), f"connection {self.index}: 201 with the wrong note {data!r} for {title}"))
                    else:
                        self.acked[note["id"]] = title
                else:
                    self.failures.append((time.monotonic(), f"connection {self.index}: status {r.status}: {data[:200]!r}"))
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                self.failures.append((time.monotonic(), f"connection {self.index}: {type(e).__name__}: {e}"))
                conn.close()
                conn = None
        if conn is not None:
            conn.close()


def get_json(port, target):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", target)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def all_notes(port):
    """Every note through one host, by pages of 1000: {id: title}."""
    notes, offset = {}, 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        while True:
            conn.request("GET", f"/api/notes?limit=1000&offset={offset}&sort=id")
            r = conn.getresponse()
            data = r.read()
            check(r.status == 200, f"GET /api/notes on port {port}: {r.status} {data[:200]!r}")
            items = json.loads(data)["items"]
            for item in items:
                notes[item["id"]] = item["title"]
            if len(items) < 1000:
                return notes
            offset += len(items)
    finally:
        conn.close()


# ---------------------------------------------------------------- the test

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trellis", required=True)
    ap.add_argument("--plugins", required=True)
    ap.add_argument("--source", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    args = ap.parse_args()

    pg_url = os.environ.get("TRELLIS_TEST_PG_URL", "")
    if not pg_url:
        print("SKIPPED: TRELLIS_TEST_PG_URL is not set, so the scale-out test (three hosts on one PostgreSQL "
              "behind HAProxy) is skipped. scripts/test.sh starts a throwaway PostgreSQL 15 and sets it; by hand: "
              "scripts/pg-test-server.sh start DIR, then export TRELLIS_TEST_PG_URL=$(scripts/pg-test-server.sh url DIR)")
        return SKIP
    run_sh = os.path.join(os.path.abspath(args.source), "examples", "scale-out", "run.sh")
    check(os.access(run_sh, os.X_OK), f"{run_sh} is missing")
    for tool in ("haproxy", "psql", "curl"):
        check(subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode == 0,
              f"{tool} is not installed (scripts/install-deps.sh installs it)")

    # A SIGTERM (ctest, a Ctrl-C) still runs the cleanup below, and so does
    # running out of time: ctest's TIMEOUT would SIGKILL this script and
    # leave the hosts (in sessions of their own) running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def out_of_time(*_):
        raise Failure(f"the test did not finish within {DEADLINE:.0f} s")
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(int(DEADLINE))

    db_name = f"scaleout_{os.getpid()}_{random.randrange(1 << 30)}"
    db_url = with_database(pg_url, db_name)
    psql(pg_url, f"CREATE DATABASE {db_name}")
    state = tempfile.mkdtemp(prefix="trellis-scale-out.")
    env = dict(os.environ, SCALEOUT_DIR=state, DATABASE_URL=db_url,
               TRELLIS=os.path.abspath(args.trellis), PLUGIN_DIR=os.path.abspath(args.plugins))
    for name in ("BALANCER_PORT", "HOST_PORTS", "ADMIN_PORTS", "TRELLIS_BUILD"):
        env.pop(name, None)

    def run(*words, timeout=40):
        t = time.monotonic()
        r = subprocess.run([run_sh, *words], env=env, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise Failure(f"run.sh {' '.join(words)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        log(f"run.sh {' '.join(words)} ({time.monotonic() - t:.2f} s)")
        return r.stdout

    monitor = None
    try:
        # ---- all three hosts start together on the fresh database
        run("start", timeout=60)
        ports = {}
        for line in open(os.path.join(state, "state.env")):
            key, _, value = line.strip().partition("=")
            ports[key] = value.strip("'")
        balancer = int(ports["BALANCER_PORT"])
        host_ports = [int(p) for p in ports["HOST_PORTS"].split()]

        steps = psql(db_url, "SELECT plugin || '/' || step || ' ' || count(*) FROM trellis_migrations "
                             "GROUP BY plugin, step ORDER BY 1").splitlines()
        check(len(steps) >= 2, f"trellis_migrations holds {steps}")
        check(all(s.endswith(" 1") for s in steps), f"a step recorded more than once: {steps}")
        applied = 0
        for n in (1, 2, 3):
            text = open(os.path.join(state, f"host{n}", "trellis.log")).read()
            marker = text.find(" migration steps applied, ")
            check(marker > 0, f"host{n} logged no migration line:\n{text}")
            head = text[:marker].rsplit(" ", 1)[-1]
            tail = text[marker + len(" migration steps applied, "):].split(" ", 1)[0]
            check(int(head) + int(tail) == len(steps), f"host{n}: {head} applied + {tail} already != {len(steps)}")
            applied += int(head)
        check(applied == len(steps), f"{applied} steps applied by the three hosts, {len(steps)} recorded")
        log(f"migrations: {len(steps)} steps ({', '.join(s.rsplit(' ', 1)[0] for s in steps)}), each applied once")

        monitor = StatusMonitor(os.path.join(state, "haproxy.sock"))
        monitor.start()
        for n in (1, 2, 3):
            monitor.wait_for(f"host{n}", "UP", 10)

        # ---- the load
        stop_load = threading.Event()
        writers = [Writer(i, balancer, stop_load) for i in range(CONNECTIONS)]
        for w in writers:
            w.start()
        time.sleep(3)
        acked_before = sum(len(w.acked) for w in writers)
        check(acked_before > 0, "no write acknowledged in 3 s of load")

        # ---- host 2: SIGKILL mid-load, then started again
        kill_at = time.monotonic()
        run("host", "2", "kill")
        monitor.wait_for("host2", "DOWN", 10)
        down_at = monitor.first("host2", "DOWN", kill_at)
        log(f"host2 DOWN in HAProxy {down_at - kill_at:.2f} s after the SIGKILL")
        time.sleep(1)
        run("host", "2", "start")
        monitor.wait_for("host2", "UP", 15)
        up_at = monitor.first("host2", "UP", kill_at)
        log(f"host2 UP again {up_at - kill_at:.2f} s after the SIGKILL")
        time.sleep(2)

        # ---- host 3: SIGTERM (drains), then started again
        failures_before_drain = sum(len(w.failures) for w in writers)
        term_at = time.monotonic()
        run("host", "3", "stop")
        check(any(s == "DOWN" for _, s in monitor.history("host3")),
              f"HAProxy never took host3 out while it drained: {monitor.history('host3')}")
        run("host", "3", "start")
        up3_at = monitor.wait_for("host3", "UP", 15)
        log(f"host3 drained and UP again {up3_at - term_at:.2f} s after the SIGTERM")
        time.sleep(2)
        stop_load.set()
        for w in writers:
            w.join(15)
            check(not w.is_alive(), f"writer {w.index} did not stop")
        monitor.stop_event.set()
        monitor.join(5)

        # ---- what the load saw
        acked = {}
        for w in writers:
            acked.update(w.acked)
        failures = sorted(f for w in writers for f in w.failures)
        sent = sum(w.sent for w in writers)
        log(f"load: {sent} POSTs sent, {len(acked)} acknowledged (201), {len(failures)} failed")
        for t, what in failures:
            log(f"  failed at +{t - kill_at:.2f} s from the SIGKILL: {what}")
        check(len(acked) == sum(len(w.acked) for w in writers), "the same id acknowledged twice")

        # Failures: only requests that HAProxy sent to the killed host: those in
        # flight when it died (at most one per client connection) and those
        # HAProxy sent, in the moment before it saw them close, on its pooled
        # kept-alive connections to the host (at most one each, and it holds
        # no more of them than there were requests at once: one per client
        # connection). So at most two per connection, all between the SIGKILL
        # and HAProxy marking the host DOWN; none from the drain (a connection
        # the dead host refuses is retried elsewhere). HAProxy counts no
        # response error (eresp) on the hosts that were not killed. (It does
        # not count every failure on the killed host: a request sent on a
        # reused connection that closed is answered by closing the client's
        # connection, often without an eresp.)
        final = servers(os.path.join(state, "haproxy.sock"))
        errors = {name: int(final[name]["eresp"] or 0) for name in final}
        log(f"HAProxy response errors per host: {errors}")
        for name in sorted(final):
            log(f"  {name}: " + ", ".join(f"{k}={final[name][k]}" for k in
                ("econ", "eresp", "srv_abrt", "cli_abrt", "wretr", "wredis", "hrsp_5xx", "stot")))
        check(len(failures) <= 2 * CONNECTIONS, f"{len(failures)} failed writes, more than two per connection "
                                                f"({CONNECTIONS} connections) could have been on the killed host")
        for w in writers:
            check(len(w.failures) <= 2, f"connection {w.index} failed {len(w.failures)} times: {w.failures}")
        check(errors["host1"] == 0 and errors["host3"] == 0, f"response errors on a host that was not killed: {errors}")
        for t, what in failures:
            check(kill_at <= t <= down_at + 0.5,
                  f"a write failed outside the killed host's window ({t - kill_at:+.2f} s from the SIGKILL, "
                  f"DOWN at {down_at - kill_at:+.2f} s): {what}")
            check(": status 502:" in what or "Remote" in what or "Reset" in what,
                  f"a failure that is not a lost answer: {what}")
        drain_failures = sum(len(w.failures) for w in writers) - failures_before_drain
        check(drain_failures == 0, f"{drain_failures} writes failed while host3 drained")

        # ---- every acknowledged note through every host directly
        for n, port in enumerate(host_ports, start=1):
            notes = all_notes(port)
            missing = [i for i in acked if notes.get(i) != acked[i]]
            check(not missing, f"host{n} does not return {len(missing)} acknowledged notes, e.g. {missing[:5]}")
            sample = random.sample(sorted(acked), min(40, len(acked)))
            for i in sample:
                status, data = get_json(port, f"/api/notes/{i}")
                check(status == 200 and json.loads(data)["title"] == acked[i],
                      f"GET /api/notes/{i} on host{n}: {status} {data[:200]!r}")
            log(f"host{n}: all {len(acked)} acknowledged notes listed, {len(sample)} read one by one")
        rows = int(psql(db_url, "SELECT count(*) FROM notes_note"))
        duplicates = int(psql(db_url, "SELECT count(*) - count(DISTINCT title) FROM notes_note"))
        check(duplicates == 0, f"{duplicates} POSTs were written twice (retried)")
        check(len(acked) <= rows <= len(acked) + len(failures),
              f"{rows} rows for {len(acked)} acknowledged and {len(failures)} failed writes")
        log(f"database: {rows} notes ({rows - len(acked)} written by a request whose answer was lost), "
            "no title twice")

        # ---- HAProxy saw host 2 (and host 3) go DOWN and come back UP
        for name in ("host2", "host3"):
            seen = [s for _, s in monitor.history(name)]
            log(f"{name}: statuses seen {' -> '.join(seen)}; chkdown {final[name]['chkdown']}, "
                f"status {final[name]['status']}")
            check("DOWN" in seen and seen[-1] == "UP" and seen.index("DOWN") < len(seen) - 1,
                  f"{name}: HAProxy did not show DOWN then UP: {seen}")
            check(int(final[name]["chkdown"]) >= 1, f"{name}: chkdown {final[name]['chkdown']}")
        check(final["host1"]["status"] == "UP" and int(final["host1"]["chkdown"]) == 0,
              f"host1 left rotation: {final['host1']}")
        retries = sum(int(final[n]["wretr"] or 0) for n in final)
        redispatches = sum(int(final[n]["wredis"] or 0) for n in final)
        log(f"HAProxy: {retries} retries, {redispatches} redispatches (connections refused by the killed host)")

        print(f"scale-out: {len(acked)} writes acknowledged, 0 lost, {len(failures)} failed "
              f"(in flight on the killed host; bound {2 * CONNECTIONS}); host2 DOWN after "
              f"{down_at - kill_at:.2f} s and UP after {up_at - kill_at:.2f} s; host3 drained with 0 failures",
              flush=True)
        check(left() > 0, f"the test took longer than {DEADLINE} s")
        return 0
    finally:
        signal.alarm(0)
        if monitor is not None:
            monitor.stop_event.set()
        r = subprocess.run([run_sh, "stop"], env=env, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            print(f"run.sh stop: {r.stdout}{r.stderr}", file=sys.stderr)
        try:
            psql(pg_url, f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        except Exception as e:  # noqa: BLE001 - cleanup must not hide the result
            print(f"dropping {db_name}: {e}", file=sys.stderr)
        if os.environ.get("SCALE_OUT_KEEP") != "1":
            subprocess.run(["rm", "-rf", state])
        else:
            print(f"state kept in {state}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        print(f"FAILED: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
