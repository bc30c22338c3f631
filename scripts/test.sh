#!/usr/bin/env bash
# Runs every test: the Swift suites (domain, package format, database, HTTP API, OpenAPI coverage, the central
# service on throwaway PostgreSQL servers), then the end-to-end tests against real venue and central processes
# (crash durability with SIGKILL, real Chromium, RTSP cameras, PostgreSQL).
# Logs and screenshots go to test-output/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then export PATH=/opt/swift/usr/bin:$PATH; fi

rm -rf test-output && mkdir -p test-output

echo "== build (debug, with tests)"
if ! swift build --build-tests > test-output/build.log 2>&1; then
  grep -E "error" test-output/build.log | head -40; echo "build failed; see test-output/build.log" >&2; exit 1
fi
grep -E "^/.*warning:" test-output/build.log | sort -u || true

echo "== swift test"
# The camera suites measure real time (a frozen camera noticed within seconds, video against the clock): they run on
# their own, after the others, so that the CPU-heavy suites running in parallel do not make them late.
if ! swift test --skip-build --skip CameraKitTests > test-output/swift-test.log 2>&1; then
  grep -E "✘|error|failed" test-output/swift-test.log | head -60; echo "swift tests failed; see test-output/swift-test.log" >&2; exit 1
fi
grep -E "Test run with|Executed .* tests" test-output/swift-test.log
if ! swift test --skip-build --filter CameraKitTests > test-output/swift-test-cameras.log 2>&1; then
  grep -E "✘|error|failed" test-output/swift-test-cameras.log | head -60
  echo "camera tests failed; see test-output/swift-test-cameras.log" >&2; exit 1
fi
grep -E "Test run with|Executed .* tests" test-output/swift-test-cameras.log

echo "== OpenAPI description is valid"
.venv-tests/bin/openapi-spec-validator docs/openapi.yaml
.venv-tests/bin/openapi-spec-validator docs/central-openapi.yaml

echo "== end-to-end (real venue process, SIGKILL, headless Chromium)"
VENUE_BIN="$PWD/.build/debug/venue" CENTRAL_BIN="$PWD/.build/debug/central" .venv-tests/bin/pytest -v Tests/e2e -p no:cacheprovider 2>&1 | tee test-output/e2e.log
exit "${PIPESTATUS[0]}"
