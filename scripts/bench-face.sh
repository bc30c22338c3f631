#!/usr/bin/env bash
# Face accuracy and speed: builds a release venue, runs `venue face eval` on ../shared/face/lfw-dev-pairs.tsv and
# `venue face bench` on a 640-pixel-wide photo, alone and 8 at a time. Usage: scripts/bench-face.sh [--threshold T]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then export PATH=/opt/swift/usr/bin:$PATH; fi
bash scripts/install-face-models.sh
swift build -c release --product venue 2>&1 | grep -E "error|Build complete" || true
FACE=../shared/face
[ -f $FACE/lfw-dev-pairs.tsv ] || { echo "bench-face: $FACE/lfw-dev-pairs.tsv is missing" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A 640×480 picture, as the desk camera gives.
ffmpeg -loglevel error -y -i $FACE/people/obama/obama-480p.jpg -vf "scale=640:480:force_original_aspect_ratio=increase,crop=640:480" "$work/desk-640x480.jpg"
echo "== venue face bench (640×480)"
.build/release/venue face bench --image "$work/desk-640x480.jpg" --count 80 --concurrency 1,8
echo "== venue face eval ($FACE/lfw-dev-pairs.tsv)"
.build/release/venue face eval --pairs $FACE/lfw-dev-pairs.tsv --images $FACE/lfw-dev "$@"
