#!/usr/bin/env bash
# Installs every Debian 12 package Trellis needs to build, run, test and
# benchmark. Idempotent and non-interactive: does nothing when all are there.
set -euo pipefail

packages=(
  # build
  build-essential dpkg-dev cmake ninja-build ccache pkg-config git
  # libraries
  libpistache-dev libboost-dev libyaml-cpp-dev libsoci-dev libsqlite3-dev sqlite3 libpq-dev
  libspdlog-dev nlohmann-json3-dev libcli11-dev libsystemd-dev prometheus-cpp-dev
  # the Lambda front's Runtime API client
  libcurl4-openssl-dev
  # llhttp (the HTTP/1.1 parser) as C sources, built into the host
  node-llhttp
  # tests: GoogleTest, and clang + libc++ for the ABI test plugin built without libstdc++
  libgtest-dev libgmock-dev clang libc++-14-dev libc++abi-14-dev postgresql
  # fuzzing: clang-14 with libFuzzer and the sanitizer runtimes
  clang-14 libclang-rt-14-dev
  # the packaging tests: systemd-analyze; zip and unzip for the Lambda package
  systemd zip unzip
  # benchmarks and the README's examples
  libbenchmark-dev wrk curl nginx
  # the scale-out example, its test and benchmark: the balancer; the test
  # and the benchmarks' helpers are Python 3 (standard library only)
  haproxy python3
  # the browser tests (tests/browser): Debian's Chromium, driven by playwright-core
  chromium
)

# Node.js and npm for the OpenAPI validator (tests/openapi), the browser tests
# (tests/browser) and the notes web app (examples/notes-web): Debian's, unless
# a Node.js is installed already (a nodesource nodejs bundles its own npm).
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "install-deps: installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages the tests use, exactly as the committed lockfiles say (npm's
# cache in ~/.npm keeps them between runs); redone when a lockfile changes.
root=$(cd "$(dirname "$0")/.." && pwd)
for dir in "$root/tests/openapi" "$root/tests/browser" "$root/examples/notes-web"; do
  stamp=$dir/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    echo "install-deps: npm ci in ${dir#"$root"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
