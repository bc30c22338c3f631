#!/usr/bin/env bash
# Autosave benchmark: a release venue with N demo candidates, N simulated terminals (one connection each) that log in,
# fetch the paper, autosave every 10 s with jitter, heartbeat, and submit at the end; then the disk's ceiling for
# durable SQLite commits with and without group commit, to read the figures against.
# Usage: scripts/bench-autosave.sh [CANDIDATES=10000] [RAMP_SECONDS=120] [MEASURE_SECONDS=180]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then export PATH=/opt/swift/usr/bin:$PATH; fi
candidates=${1:-10000}
ramp=${2:-120}
measure=${3:-180}
port=${BENCH_PORT:-18300}

swift build -c release --product venue >/dev/null
swift build -c release --product kaodian-load >/dev/null
ulimit -n "$(ulimit -Hn)"

data=$(mktemp -d /tmp/kaodian-bench.XXXXXX)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); $(swift --version 2>/dev/null | head -1)"
echo "preparing a venue with $candidates demo candidates …"
.build/release/venue serve --data-dir "$data" --host 127.0.0.1 --port "$port" --demo \
  --demo-candidates "$candidates" --demo-start-in=-10 > "$data/venue.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$data/venue.log"; exit 1; }

.build/release/kaodian-load candidates --port "$port" --candidates "$candidates" --ramp "$ramp" \
  --duration "$measure" --interval 10 --server-pid "$server" --submit
echo
.build/release/kaodian-load sqlite-ceiling --dir "$data" --seconds 5
