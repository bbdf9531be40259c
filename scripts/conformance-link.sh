#!/usr/bin/env bash
# Encrypted-link conformance (docs/PROTOCOL.md §9.10): bring up the embedded default deployment
# with `BIZRA_LINK_SECURE=on` from the built binaries, run the CurveZMQ client written from the
# protocol text (scripts/python/curvezmq_link.py, PyNaCl) against n1's link listener as n2, and
# bring the deployment down again whatever happens.
#
#   scripts/conformance-link.sh                 # binaries from .build/debug
#   BIZRA_BIN_DIR=.build/release scripts/conformance-link.sh
#
# Exits with the status of curvezmq_link.py; its last line is `curvezmq-link: N passed, M failed`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BIN_DIR="${BIZRA_BIN_DIR:-.build/debug}"
case "$BIN_DIR" in /*) ;; *) BIN_DIR="$ROOT/$BIN_DIR" ;; esac
BIZRA="$BIN_DIR/bizra"
[ -x "$BIZRA" ] || { echo "conformance-link: no bizra binary at $BIZRA (set BIZRA_BIN_DIR)" >&2; exit 2; }

if ! python3 -c 'import nacl.bindings' 2>/dev/null; then
    python3 -m pip install --quiet pynacl
fi

DATA="$(mktemp -d /tmp/bzl.XXXXXX)"
# Below the ephemeral port range (32768+), where an outgoing connection could hold one of ours.
PORT_BASE=$((12000 + RANDOM % 20 * 100))
COMMON=(--data-dir "$DATA" --port-base "$PORT_BASE")
STARTED=0

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$STARTED" = 1 ]; then
        "$BIZRA" down "${COMMON[@]}" >/dev/null 2>&1 || echo "conformance-link: bizra down failed" >&2
    fi
    if [ "$rc" = 0 ]; then
        rm -rf "$DATA"
    else
        echo "conformance-link: data directory kept for inspection: $DATA (logs in $DATA/logs)" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

STARTED=1
BIZRA_LINK_SECURE=on "$BIZRA" up --detach --quiet --components worker,compression "${COMMON[@]}" >/dev/null

# Wait until the three links registered (each listens before it registers; they dial on demand).
deadline=$((SECONDS + 30))
until "$BIZRA" status --json "${COMMON[@]}" 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if len(json.load(sys.stdin).get("links") or []) == 3 else 1)
' 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "conformance-link: links not registered after 30 s" >&2
        "$BIZRA" status "${COMMON[@]}" >&2 || true
        exit 1
    fi
    sleep 0.2
done

# Link instance 0 of n1 listens on n1's portBase + 10 (§9.1); n1's portBase is PORT_BASE.
export PYTHONDONTWRITEBYTECODE=1
python3 scripts/python/curvezmq_link.py "$DATA" 127.0.0.1 $((PORT_BASE + 10)) n1 n2
