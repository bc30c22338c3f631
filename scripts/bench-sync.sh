#!/usr/bin/env bash
# Sync benchmark (results after the link returns, video throughput through a throttled link, bytes re-sent per cut).
# Builds the release binaries, then runs scripts/bench-sync.py with the given options (see its --help).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product venue >/dev/null
swift build -c release --product central >/dev/null
export VENUE_BIN="$PWD/.build/release/venue" CENTRAL_BIN="$PWD/.build/release/central"
exec .venv-tests/bin/python scripts/bench-sync.py "$@"
