#!/usr/bin/env bash
# The main job: install what is missing, build, and bring up the embedded default deployment
# (3 nodes on 127.0.0.1: a core per node plus every built component it configures, among them
# the link, bizra-compression, through which the nodes reach each other, and bizra-consensus,
# the replicated key-value store), showing its
# live status until Ctrl-C, then shutting everything down cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/install-deps.sh
swift build -c release --product bizra
swift build -c release --product bizra-core
swift build -c release --product bizra-compression
swift build -c release --product bizra-consensus
swift build -c release --product bizra-worker
exec .build/release/bizra up "$@"
