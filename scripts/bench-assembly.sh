#!/usr/bin/env bash
# Paper assembly benchmark: builds kaodian-assembly-bench in release and runs it on a generated bank — a 100-question
# paper by the standard's weights and a difficulty distribution, R runs with different seeds, an A/B pair, duplicate
# pairs over the bank (see docs/benchmarks.md, "Paper assembly").
#
# Usage: scripts/bench-assembly.sh [--questions 10000] [--runs 20] [--seed 1] [--near-duplicates 100] [--threshold 0.8]
#                                  [--skip-duplicates]
# The build goes to .build-asm/ (its own scratch path, so it does not wait on other builds).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then export PATH=/opt/swift/usr/bin:$PATH; fi

scratch=.build-asm
swift build -c release --scratch-path "$scratch" --product kaodian-assembly-bench >&2
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -r)"
"$scratch/release/kaodian-assembly-bench" "$@"
