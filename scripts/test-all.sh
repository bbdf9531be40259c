#!/usr/bin/env bash
# Every test: install what is missing, check formatting, build, run the unit, simulation and
# real-process suites, the simulator's seed sweep (if present) and each libFuzzer target for
# FUZZ_SECONDS (default 60) over its committed seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
export SWIFT_DETERMINISTIC_HASHING=1
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
started=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - started )) s)"; }

step "install dependencies"
bash scripts/install-deps.sh

step "format: swift format lint --strict"
swift format lint --strict -r Package.swift Sources Plugins Tests Fuzz

step "build (debug, all products and tests)"
swift build --build-tests

step "swift test (unit, property, simulation and real-process tests)"
swift test

step "protocol conformance: a Python client (pyzmq + PyNaCl) written from docs/PROTOCOL.md"
bash scripts/conformance.sh

step "encrypted-link conformance: a CurveZMQ client (PyNaCl) written from docs/PROTOCOL.md §9.10"
bash scripts/conformance-link.sh

if [ -f scripts/ci-sim.sh ]; then
    step "simulation seed sweep (release runner)"
    bash scripts/ci-sim.sh
fi

step "fuzzing: ${FUZZ_SECONDS} s per target"
bash scripts/fuzz.sh "$FUZZ_SECONDS"

step "all tests passed in $(( $(date +%s) - started )) s"
