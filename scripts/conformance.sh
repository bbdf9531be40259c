#!/usr/bin/env bash
# BMBP/1 conformance: bring up one node (n1) with the built binaries, run the Python client
# written from docs/PROTOCOL.md against it (scripts/python/conformance.py), and tear the node
# down again whatever happens.
#
#   scripts/conformance.sh                 # binaries from .build/debug
#   BIZRA_BIN_DIR=.build/release scripts/conformance.sh
#
# Exits with the status of conformance.py (0 when every check passes). Its last line is
# `conformance: N passed, M failed`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BIN_DIR="${BIZRA_BIN_DIR:-.build/debug}"
case "$BIN_DIR" in /*) ;; *) BIN_DIR="$ROOT/$BIN_DIR" ;; esac
BIZRA="$BIN_DIR/bizra"
[ -x "$BIZRA" ] || { echo "conformance: no bizra binary at $BIZRA (set BIZRA_BIN_DIR)" >&2; exit 2; }
[ -x "$BIN_DIR/bizra-core" ] || { echo "conformance: no bizra-core in $BIN_DIR" >&2; exit 2; }

if ! python3 -c 'import zmq, nacl.signing' 2>/dev/null; then
    python3 -m pip install --quiet pyzmq pynacl
fi

# ipc:// paths are limited to ~107 bytes: keep the data directory short.
DATA="$(mktemp -d /tmp/bzc.XXXXXX)"
# Below the ephemeral port range (32768+), where an outgoing connection could hold one of ours.
PORT_BASE=$((14000 + RANDOM % 20 * 100))
COMMON=(--data-dir "$DATA" --port-base "$PORT_BASE")
STARTED=0

# PIDs of the supervisor and every child it lists for this data directory (ours only).
our_pids() {
    "$BIZRA" status --json "${COMMON[@]}" 2>/dev/null | python3 -c '
import json, sys
try:
    s = json.load(sys.stdin)
except Exception:
    sys.exit(0)
pids = [c.get("pid") for c in s.get("children", [])] + [s.get("supervisorPID")]
print(" ".join(str(p) for p in pids if isinstance(p, int) and p > 1))
' || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$STARTED" = 1 ]; then
        local pids down_out
        pids="$(our_pids)"
        if ! down_out="$("$BIZRA" down "${COMMON[@]}" 2>&1)"; then
            echo "conformance: bizra down failed: $down_out; killing $pids" >&2
            for p in $pids; do kill "$p" 2>/dev/null || true; done
            sleep 1
            for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
        fi
    fi
    if [ "$rc" = 0 ]; then
        rm -rf "$DATA"
    else
        echo "conformance: data directory kept for inspection: $DATA (logs in $DATA/logs)" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

STARTED=1
# Without the link (compression): check 7 expects the core's "no route" error for another node.
"$BIZRA" up --detach --quiet --node n1 --components worker "${COMMON[@]}" >/dev/null

# Wait until both n1 workers report healthy.
deadline=$((SECONDS + 30))
until "$BIZRA" status --json "${COMMON[@]}" 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)
healthy = [c for c in s.get("children", [])
           if c.get("node") == "n1" and c.get("component") == "worker"
           and str(c.get("health", "")).startswith("healthy")]
sys.exit(0 if len(healthy) >= 2 else 1)
' 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "conformance: n1 workers not healthy after 30 s" >&2
        "$BIZRA" status "${COMMON[@]}" >&2 || true
        exit 1
    fi
    sleep 0.2
done

"$BIZRA" keys gen --client py "${COMMON[@]}" >/dev/null

# n1's portBase is its HTTP port (portBase + 0); conformance.py reads it from BIZRA_PORT_BASE.
export BIZRA_PORT_BASE="$PORT_BASE" PYTHONDONTWRITEBYTECODE=1
status=0
python3 scripts/python/conformance.py --data-dir "$DATA" --node n1 || status=$?
exit "$status"
