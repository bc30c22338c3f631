#!/usr/bin/env bash
# Sets up the machine, builds the venue server and starts it with the demo exam.
# Usage: scripts/demo.sh [--port N] [--data-dir DIR] [--self-check-in] [--rechecks N]   (defaults: 8080, ./demo-data)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then export PATH=/opt/swift/usr/bin:$PATH; fi

port=8080
data_dir=demo-data
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    # Face checks at the terminal in the demo sitting (only when the demo data folder is new).
    --self-check-in) extra+=(--demo-self-check-in); shift ;;
    --rechecks) extra+=(--demo-rechecks "$2"); shift 2 ;;
    *) echo "demo: unknown option $1" >&2; exit 2 ;;
  esac
done

echo "demo: building the venue server (release; the first build takes several minutes)"
swift build -c release --product venue 2>&1 | grep -E "error|warning: unre|Compiling venue|Build complete" || true
[ -x .build/release/venue ] || { echo "demo: the build failed" >&2; exit 1; }

face=()
[ -d ../shared/face ] && face=(--face-photos ../shared/face)
exec .build/release/venue serve --data-dir "$data_dir" --port "$port" --demo "${face[@]}" "${extra[@]}"
