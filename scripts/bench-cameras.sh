#!/usr/bin/env bash
# Camera-recording benchmark: a GStreamer RTSP server (scripts/rtsp-camera.py) plays a 1080p25 H.264 clip to N
# clients; the venue's CameraRecorder records them all at once, then N ffmpeg command lines do the same job on the
# same cameras; `kaodian-camera-bench` measures CPU and memory per stream of both (see docs/benchmarks.md).
#
# Usage: scripts/bench-cameras.sh [--cameras 1,8,16,32] [--seconds 60] [--warmup 10] [--mounts-per-server 32]
#                                 [any other kaodian-camera-bench option, e.g. --skip-ffmpeg, --keep]
# --cameras takes one number or a comma-separated list (one run per number, each with fresh camera servers).
# The clip is made once with Debian's ffmpeg and kept in .build-bench-clip/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then export PATH=/opt/swift/usr/bin:$PATH; fi

cameras=32
seconds=60
warmup=10
per_server=32
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cameras) cameras=$2; shift 2 ;;
    --cameras=*) cameras=${1#*=}; shift ;;
    --seconds) seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --warmup) warmup=$2; shift 2 ;;
    --warmup=*) warmup=${1#*=}; shift ;;
    --mounts-per-server) per_server=$2; shift 2 ;;
    --mounts-per-server=*) per_server=${1#*=}; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) passthrough+=("$1"); shift ;;
  esac
done

scratch=.build-bench
bench=$scratch/release/kaodian-camera-bench
work=$(mktemp -d /tmp/kaodian-bench-cameras.XXXXXX)
servers=()

stop_servers() {
  local pid
  for pid in "${servers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  servers=()
}
cleanup() { stop_servers; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The clip: each client plays it from its start (not looped), so it must outlast warm-up + window + start-up.
needed=$(awk -v w="$warmup" -v s="$seconds" 'BEGIN { printf "%d", w + s + 30 + 0.999 }')
clips=.build-bench-clip
mkdir -p "$clips"
clip=""
for candidate in "$clips"/clip-1080p25-4M-*s.mp4; do
  [ -f "$candidate" ] || continue
  length=${candidate##*-4M-}; length=${length%s.mp4}
  if [ "$length" -ge "$needed" ]; then clip=$candidate; break; fi
done
if [ -z "$clip" ]; then
  clip=$clips/clip-1080p25-4M-${needed}s.mp4
  echo "making a ${needed} s 1080p25 H.264 clip (once) …"
  ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i "testsrc2=size=1920x1080:rate=25" -t "$needed" \
    -c:v libx264 -preset veryfast -b:v 4M -maxrate 4M -bufsize 8M -g 50 -pix_fmt yuv420p -movflags +faststart \
    "$clip.tmp.mp4"
  mv "$clip.tmp.mp4" "$clip"
fi

echo "building $bench (release) …"
swift build -c release --scratch-path "$scratch" --product kaodian-camera-bench >"$work/build.log" 2>&1 \
  || { cat "$work/build.log"; exit 1; }

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), \
$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r); \
$(ffmpeg -version | head -1 | cut -d' ' -f1-3); $(swift --version 2>/dev/null | head -1)"
echo "clip: $clip (1080p25 H.264, 4 Mb/s, GOP 50)"

# Starts ceil(N / per_server) camera servers for /cam1 … /camN; fills `urls` and `servers`.
start_servers() {
  local count=$1 first=1 index=0
  urls=()
  while [ "$first" -le "$count" ]; do
    local last=$(( first + per_server - 1 )); [ "$last" -gt "$count" ] && last=$count
    local mounts=() n
    for n in $(seq "$first" "$last"); do mounts+=(--mount "/cam$n"); done
    # exec: the pid we keep is the server's own, not a subshell's.
    ( exec /usr/bin/python3 scripts/rtsp-camera.py --host 127.0.0.1 --port 0 --clip "$clip" "${mounts[@]}" ) \
      >"$work/server$index.out" 2>"$work/server$index.err" &
    servers+=($!)
    local expected=$(( last - first + 1 ))
    for _ in $(seq 1 300); do
      [ "$(grep -c '^ready ' "$work/server$index.out" 2>/dev/null || true)" -ge "$expected" ] && break
      kill -0 "${servers[-1]}" 2>/dev/null || break
      sleep 0.1
    done
    if [ "$(grep -c '^ready ' "$work/server$index.out" 2>/dev/null || true)" -lt "$expected" ]; then
      echo "camera server $index did not get ready:"; cat "$work/server$index.err"; exit 1
    fi
    while read -r _ url; do urls+=(--url "$url"); done < <(grep '^ready ' "$work/server$index.out")
    first=$(( last + 1 )); index=$(( index + 1 ))
  done
}

# The run folders (segments, ffmpeg outputs) go under $work, deleted on any exit, unless asked otherwise.
output=(--output-folder "$work")
for arg in ${passthrough[@]+"${passthrough[@]}"}; do
  case "$arg" in --keep|--output-folder|--output-folder=*) output=() ;; esac
done

status=0
rows=()
for n in ${cameras//,/ }; do
  echo
  echo "=== $n cameras ==="
  start_servers "$n"
  server_pids=()
  for pid in "${servers[@]}"; do server_pids+=(--server-pid "$pid"); done
  set +e
  # tee -i: on Ctrl-C the bench stops its recorders and ffmpeg processes and still has somewhere to say so.
  "$bench" --cameras "$n" --seconds "$seconds" --warmup "$warmup" "${urls[@]}" "${server_pids[@]}" --json \
    ${output[@]+"${output[@]}"} ${passthrough[@]+"${passthrough[@]}"} | tee -i "$work/run-$n.txt"
  run_status=${PIPESTATUS[0]}
  set -e
  [ "$run_status" -eq 0 ] || status=$run_status
  stop_servers
  row=$(grep -E '^\| [0-9]+ \|' "$work/run-$n.txt" || true)
  [ -n "$row" ] && rows+=("$row")
done

if [ "${#rows[@]}" -gt 1 ]; then
  echo
  echo "=== summary: warm-up $warmup s, window $seconds s; CPU % of one core; machine busy % of all $(nproc) cores ==="
  grep -m2 -E '^\| (N|---) \|' "$work/run-${cameras%%,*}.txt"
  printf '%s\n' "${rows[@]}"
fi
exit "$status"
