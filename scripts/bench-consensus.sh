#!/usr/bin/env bash
# Consensus benchmarks recorded in docs/BENCHMARKS.md ("Consensus key-value store"):
#   1. one node (a one-voter cluster): closed-loop puts with 1, 16 and 64 clients
#   2. the embedded 3-node default (links + consensus only): the same workload sent to the
#      leader's node and to a follower's node
#   3. failover: repeated kill -9 of the leader's bizra-consensus, time until a write is served
# Usage: scripts/bench-consensus.sh [PUTS] [KILLS]   (release build; loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
PUTS="${1:-20000}"
KILLS="${2:-10}"
if [ -z "${BIZRA_BENCH_SKIP_BUILD:-}" ]; then
    for product in bizra bizra-core bizra-consensus bizra-compression; do
        swift build -c release --product "$product" >/dev/null
    done
fi
BIN="$PWD/.build/release"
WORK="/tmp/bizra-bench-consensus-$$"
cleanup() {
    "$BIN/bizra" down --data-dir "$WORK/one" --config "$WORK/one.yaml" --port-base 18000 >/dev/null 2>&1 || true
    "$BIN/bizra" down --data-dir "$WORK/three" --port-base 18100 >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK"
cat >"$WORK/one.yaml" <<'YAML'
cluster: bench-one
nodes:
  - id: n1
    address: 127.0.0.1
    portBase: 17100
    zone: z1
    voteWeight: 1
    components:
      consensus: 1
YAML
# No acl: key, so the default ACL applies (the same rules as the embedded default).
# Port bases stay below Linux's ephemeral range (32768...) and the tests' (20000...31999).
echo "== one node (commit $(git rev-parse --short HEAD), load: $(cut -d' ' -f1-3 /proc/loadavg))"
ONE=(--config "$WORK/one.yaml" --data-dir "$WORK/one" --port-base 18000)
"$BIN/bizra" up --detach "${ONE[@]}" >/dev/null
sleep 2
"$BIN/bizra" bench consensus --clients 1 --count $((PUTS / 10)) "${ONE[@]}"
"$BIN/bizra" bench consensus --clients 16 --count "$PUTS" "${ONE[@]}"
"$BIN/bizra" bench consensus --clients 64 --count "$PUTS" "${ONE[@]}"
"$BIN/bizra" down "${ONE[@]}" >/dev/null

echo "== three nodes, embedded default with links and consensus only (load: $(cut -d' ' -f1-3 /proc/loadavg))"
THREE=(--data-dir "$WORK/three" --port-base 18100)
"$BIN/bizra" up --detach --components compression,consensus "${THREE[@]}" >/dev/null
sleep 4
LEADER=$("$BIN/bizra" consensus status --json --node n1 "${THREE[@]}" | sed -n 's/.*"leader" : "\(n[0-9]\)".*/\1/p')
FOLLOWER=n1
[ "$LEADER" = n1 ] && FOLLOWER=n2
echo "leader $LEADER, follower $FOLLOWER"
"$BIN/bizra" bench consensus --clients 1 --count $((PUTS / 10)) --node "$LEADER" "${THREE[@]}"
"$BIN/bizra" bench consensus --clients 16 --count "$PUTS" --node "$LEADER" "${THREE[@]}"
"$BIN/bizra" bench consensus --clients 64 --count "$PUTS" --node "$LEADER" "${THREE[@]}"
"$BIN/bizra" bench consensus --clients 16 --count "$PUTS" --node "$FOLLOWER" "${THREE[@]}"
echo "== failover (load: $(cut -d' ' -f1-3 /proc/loadavg))"
"$BIN/bizra" bench consensus-failover --kills "$KILLS" "${THREE[@]}"
