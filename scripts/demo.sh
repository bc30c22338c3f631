#!/usr/bin/env bash
# Sets up the machine, builds the venue server and starts it with the demo exam.
# Usage: scripts/demo.sh [--port N] [--data-dir DIR] [--self-check-in] [--rechecks N] [--no-cameras]
#        (defaults: 8080, ./demo-data; two test cameras, GStreamer on 127.0.0.1, film rooms R01 and R02)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then export PATH=/opt/swift/usr/bin:$PATH; fi

port=8080
data_dir=demo-data
extra=(--demo-skill)  # the demo's skill sitting, scored by the examiners at /examiner/
cameras=1
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    # Face checks at the terminal in the demo sitting (only when the demo data folder is new).
    --self-check-in) extra+=(--demo-self-check-in); shift ;;
    --rechecks) extra+=(--demo-rechecks "$2"); shift 2 ;;
    --no-cameras) cameras=0; shift ;;
    *) echo "demo: unknown option $1" >&2; exit 2 ;;
  esac
done

echo "demo: building the venue server (release; the first build takes several minutes)"
swift build -c release --product venue 2>&1 | grep -E "error|warning: unre|Compiling venue|Build complete" || true
[ -x .build/release/venue ] || { echo "demo: the build failed" >&2; exit 1; }

face=()
[ -d ../shared/face ] && face=(--face-photos ../shared/face)
# The demo's room cameras: GStreamer's RTSP server on loopback showing a test picture, stopped with the venue.
camera_pid=
stop_cameras() { if [ -n "$camera_pid" ]; then kill "$camera_pid" 2>/dev/null || true; fi; }
if [ "$cameras" = 1 ]; then
  camera_log=$(mktemp)
  /usr/bin/python3 scripts/rtsp-camera.py --port 0 --mount /r01 --mount /r02 --size 640x360 --fps 15 --bitrate-kbps 600 \
    >"$camera_log" 2>&1 &
  camera_pid=$!
  trap stop_cameras EXIT
  for _ in $(seq 150); do
    [ "$(grep -c '^ready ' "$camera_log" || true)" -ge 2 ] && break
    kill -0 "$camera_pid" 2>/dev/null || break
    sleep 0.2
  done
  mapfile -t urls < <(grep '^ready ' "$camera_log" | cut -d' ' -f2)
  if [ "${#urls[@]}" -ge 2 ]; then
    extra+=(--demo-camera "R01=${urls[0]}" --demo-camera "R02=${urls[1]}")
  else
    echo "demo: the test cameras did not start ($(tail -n 2 "$camera_log" | tr '\n' ' ')); going on without them" >&2
    stop_cameras
    camera_pid=
  fi
fi
.build/release/venue serve --data-dir "$data_dir" --port "$port" --demo "${face[@]}" "${extra[@]}"
