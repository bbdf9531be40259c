#!/usr/bin/env bash
# Link benchmarks recorded in docs/BENCHMARKS.md ("Links"), as root on the project's machine:
#   1. record real link traffic: worker request/reply between the nodes of a local 3-node cluster
#   2. compression ratio per codec on that sample (bizra bench link-codec), and on recorded
#      consensus traffic (3000 puts of JSON-like 180-byte values through the 3-node cluster)
#   3. batching: 200-byte messages over an uncapped loopback link, unbatched vs batched
#   4. latency at low load (1000 msg/s): plain (unbatched, no codec) vs batching + adaptive codec
#   5. two namespace hosts joined by a veth capped at 10 Mbit/s with `tc tbf`: delivered
#      throughput of the recorded traffic with compression off vs on
# Namespaces get only 127.x addresses and no default route. Usage: scripts/bench-link.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-netns.sh
export PATH="/opt/swift/usr/bin:$PATH"
RUNS="${1:-3}"
swift build -c release >/dev/null
BIN="$PWD/.build/release"
WORK="/tmp/bizra-bench-link-$$"
NS1="bzb1-$$" NS2="bzb2-$$"
RECEIVER=""
cleanup() {
    [ -n "$RECEIVER" ] && kill "$RECEIVER" 2>/dev/null || true
    "$BIN/bizra" down --data-dir "$WORK/cluster" >/dev/null 2>&1 || true
    "$BIN/bizra" down --data-dir "$WORK/cluster2" >/dev/null 2>&1 || true
    netns_remove "$NS1" "$NS2"
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rate_of() { sed -n 's/.* = \([0-9]*\) msg\/s.*/\1/p'; }

echo "== 1. recording worker request/reply traffic between n1, n2 and n3"
BIZRA_LINK_RECORD="$WORK/sample" "$BIN/bizra" up --detach --data-dir "$WORK/cluster" --port-base 27000 >/dev/null
for _ in $(seq 1 100); do
    if "$BIN/bizra" status --json --data-dir "$WORK/cluster" | grep -q '"dictionaryID"'; then break; fi
    sleep 0.2
done
sleep 2
for target in n2 n3; do
    "$BIN/bizra" bus call worker worker.work '{"job":{i},"op":"summarise","input":"document-{i}.txt","priority":"normal"}' \
        --node n1 --target "$target" --count 1500 --data-dir "$WORK/cluster" >/dev/null
done
"$BIN/bizra" down --data-dir "$WORK/cluster" >/dev/null
cat "$WORK"/sample-n* > "$WORK/sample.bin"
echo "recorded $(stat -c %s "$WORK/sample.bin") bytes"

echo "== 2. compression ratio per codec on the recorded sample"
"$BIN/bizra" bench link-codec --sample "$WORK/sample.bin"

echo "== 2b. recording consensus traffic (3000 kv puts from 16 clients on n1) and its ratio per codec"
BIZRA_LINK_RECORD="$WORK/consensus" "$BIN/bizra" up --detach --data-dir "$WORK/cluster2" --port-base 27000 >/dev/null
for _ in $(seq 1 100); do
    if "$BIN/bizra" consensus status --json --data-dir "$WORK/cluster2" 2>/dev/null | grep -q '"leader" : "n'; then break; fi
    sleep 0.3
done
"$BIN/bizra" bench consensus --clients 16 --count 3000 --values json --value-bytes 180 --node n1 \
    --data-dir "$WORK/cluster2" | tail -2
"$BIN/bizra" down --data-dir "$WORK/cluster2" >/dev/null
cat "$WORK"/consensus-n* > "$WORK/consensus.bin"
"$BIN/bizra" bench link-codec --sample "$WORK/consensus.bin"

echo "== 3. batching: 200-byte messages, uncapped loopback link, codec none (median of $RUNS)"
for mode in unbatched batched; do
    rates=()
    for _ in $(seq 1 "$RUNS"); do
        rates+=("$("$BIN/bizra" bench link --mode "$mode" --codec none --bytes 200 --messages 400000 | tail -1 | rate_of)")
    done
    echo "$mode: $(printf '%s\n' "${rates[@]}" | median) msg/s (runs: ${rates[*]})"
done

echo "== 4. latency at 1000 msg/s (200-byte messages)"
"$BIN/bizra" bench link --mode unbatched --codec none --rate 1000 --messages 5000 | tail -1
"$BIN/bizra" bench link --mode batched --codec auto --rate 1000 --messages 5000 | tail -1

echo "== 5. two namespace hosts, veth capped at 10 Mbit/s by tc tbf"
netns_pair "$NS1" "$NS2"
ip netns exec "$NS1" tc qdisc add dev eth0 root tbf rate 10mbit burst 32kbit latency 100ms
for codec in none auto; do
    rates=()
    for run in $(seq 1 "$RUNS"); do
        out="$WORK/receive-$codec-$run"
        ip netns exec "$NS2" "$BIN/bizra" bench link --role receive --address 127.101.0.2 --port 18000 >"$out" &
        RECEIVER=$!
        sleep 0.5
        ip netns exec "$NS1" "$BIN/bizra" bench link --role send --address 127.101.0.2 --port 18000 \
            --codec "$codec" --sample "$WORK/sample.bin" --seconds 6 --messages 100000000 >/dev/null
        wait "$RECEIVER"
        RECEIVER=""
        rates+=("$(tail -1 "$out" | rate_of)")
        [ "$run" = 1 ] && tail -1 "$out"
    done
    echo "10 Mbit/s, compression $codec: $(printf '%s\n' "${rates[@]}" | median) msg/s delivered (runs: ${rates[*]})"
done
