#!/usr/bin/env bash
# End-to-end link benchmarks recorded in docs/BENCHMARKS.md ("Links", "The whole path"), as root:
# two network-namespace hosts (127.101.0.1 and .2 only, no default route) joined by a veth, each
# running `bizra up --node nX` of one 2-node config (core + link). A client on n1 publishes
# 200-byte JSON-like messages on a cluster-scope topic; its core verifies and hands them to its
# link, which carries them to n2's link; n2's core verifies them and delivers them to a
# subscriber there (`bizra bench path`). Measured:
#   1. delivered throughput with the veth capped at 10 Mbit/s (`tc tbf`) under the same offered
#      load (BIZRA_BENCH_OFFERED msg/s, default 10000), compression off vs on,
#      and on with CurveZMQ-encrypted links;
#   2. latency at low load (1000 msg/s) on the uncapped veth, the same three settings.
# A setting is CODEC[+secure]: BIZRA_LINK_CODEC=CODEC, and BIZRA_LINK_SECURE=on with +secure.
# Usage: scripts/bench-link-path.sh [RUNS]   (median of RUNS per figure; default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-netns.sh
export PATH="/opt/swift/usr/bin:$PATH"
RUNS="${1:-3}"
SECONDS_SENT="${BIZRA_BENCH_SECONDS:-10}"
# Messages per second offered in the capped runs: above what the capped link carries under any
# codec, the same for every setting (an unlimited sender would spend the CPU the links need).
OFFERED="${BIZRA_BENCH_OFFERED:-10000}"
swift build -c release --product bizra >/dev/null
swift build -c release --product bizra-core >/dev/null
swift build -c release --product bizra-compression >/dev/null
BIN="$PWD/.build/release"
WORK="/tmp/bizra-bench-path-$$"
NS1="bzp1-$$" NS2="bzp2-$$"
RECEIVER=""
cleanup() {
    [ -n "$RECEIVER" ] && kill "$RECEIVER" 2>/dev/null || true
    for i in 1 2; do "$BIN/bizra" down --data-dir "$WORK/n$i" >/dev/null 2>&1 || true; done
    netns_remove "$NS1" "$NS2"
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

netns_pair "$NS1" "$NS2"

cat >"$WORK/path.yaml" <<'EOF'
cluster: bizra-bench-path
nodes:
  - id: n1
    address: 127.101.0.1
    portBase: 17100
    zone: z1
    trust: 1.0
    voteWeight: 1
    components:
      compression: 1
  - id: n2
    address: 127.101.0.2
    portBase: 17200
    zone: z2
    trust: 1.0
    voteWeight: 1
    components:
      compression: 1
EOF
"$BIN/bizra" keys gen --config "$WORK/path.yaml" --data-dir "$WORK/n1" >/dev/null
"$BIN/bizra" keys gen --client bench --config "$WORK/path.yaml" --data-dir "$WORK/n1" >/dev/null
mkdir -p "$WORK/n2"
cp -r "$WORK/n1/keys" "$WORK/n1/keyring.yaml" "$WORK/n2/"

# start SETTING: both nodes up with that link setting, links registered (they dial on demand).
start() {
    local codec="${1%+secure}" secure=off
    [ "$codec" != "$1" ] && secure=on
    for i in 1 2; do
        BIZRA_LINK_CODEC="$codec" BIZRA_LINK_SECURE="$secure" ip netns exec "bzp$i-$$" "$BIN/bizra" up --detach --node "n$i" \
            --config "$WORK/path.yaml" --data-dir "$WORK/n$i" >/dev/null
    done
    for i in 1 2; do
        for _ in $(seq 1 150); do
            if "$BIN/bizra" status --json --data-dir "$WORK/n$i" 2>/dev/null | grep -q '"dictionaryID"'; then break; fi
            sleep 0.2
        done
    done
    sleep 1
}
stop() { for i in 1 2; do "$BIN/bizra" down --data-dir "$WORK/n$i" >/dev/null; done; }

# run SETTING RATE SECONDS: one sender/receiver pair; prints the receiver's line.
run() {
    out="$WORK/receive.out"
    ip netns exec "$NS2" "$BIN/bizra" bench path --role receive --node n2 --client bench \
        --config "$WORK/path.yaml" --data-dir "$WORK/n2" --seconds "$(($3 - 1))" --idle-seconds 10 >"$out" &
    RECEIVER=$!
    sleep 1
    sent="$(ip netns exec "$NS1" "$BIN/bizra" bench path --role send --node n1 --client bench --rate "$2" \
        --config "$WORK/path.yaml" --data-dir "$WORK/n1" --seconds "$3" | tail -1)"
    wait "$RECEIVER" || true
    RECEIVER=""
    echo "$(tail -1 "$out") [sender: $sent]"
}

# drops: what each node's core and link counted as dropped (frames; a frame carries 1-64
# messages). Messages the receiver reports missing were dropped or were still on the way when
# its window closed (two pooled connections do not keep order between them).
drops() {
    local i
    for i in 1 2; do
        "$BIN/bizra" status --json --data-dir "$WORK/n$i" | python3 -c '
import json, sys
d = json.load(sys.stdin)
core = sum(sum(n["core"]["dropped"].values()) for n in d["nodes"] if "core" in n)
link = sum(p["droppedUnreachable"] + p["droppedOverflow"] + p["droppedWriteFailed"] + p["droppedInFlight"]
           + p["droppedInbound"] for l in d.get("links", []) for p in l["peers"])
print(f"n'"$i"' dropped frames: core {core}, link {link}", end="; ")'
    done
}

wire_ratio() {
    "$BIN/bizra" status --json --data-dir "$WORK/n1" | tr -d ' \n' |
        sed -n 's/.*"rawBytesOut":\([0-9]*\).*"wireBytesOut":\([0-9]*\).*/\1 \2/p' |
        awk '{ if ($2 > 0) printf "%.2f", $1 / $2 }'
}

echo "== 1. 10 Mbit/s (tc tbf on n1's side of the veth), $OFFERED msg/s offered (median of $RUNS)"
ip netns exec "$NS1" tc qdisc add dev eth0 root tbf rate 10mbit burst 32kbit latency 100ms
for codec in none auto auto+secure; do
    rates=()
    for _ in $(seq 1 "$RUNS"); do
        # Fresh nodes per run, so that no backlog of an earlier run arrives in this one.
        start "$codec"
        line="$(run "$codec" "$OFFERED" "$SECONDS_SENT" | tail -1)"
        echo "  $codec: $line; link raw/wire out $(wire_ratio); $(drops)"
        rates+=("$(echo "$line" | sed -n 's/^delivered [0-9]* in [0-9.]* s = \([0-9]*\) msg\/s.*/\1/p')")
        stop
    done
    echo "10 Mbit/s, $codec: $(printf '%s\n' "${rates[@]}" | median) msg/s delivered end to end (runs: ${rates[*]})"
done
ip netns exec "$NS1" tc qdisc del dev eth0 root

echo "== 2. low load: 1000 msg/s on the uncapped veth"
for codec in none auto auto+secure; do
    start "$codec"
    echo "$codec: $(run "$codec" 1000 "$SECONDS_SENT" | tail -1)"
    stop
done
