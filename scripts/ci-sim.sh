#!/usr/bin/env bash
# CI for the deterministic simulator (issue 3). Builds the release runner and runs:
#   1. a fixed regression sweep of seeds 1..SIM_SEEDS of the register scenario (every seed that
#      ever failed stays in this window, so it is re-checked on every run);
#   2. a rotating sweep of SIM_SEEDS further seeds starting at a point derived from the commit,
#      so every commit explores new seeds (a failure prints the exact replay command);
#   3. a sweep of the gossip-set scenario (eventual consistency: set-full, convergence);
#   4. three seeds of the register scenario at 1,000 nodes;
#   5. two replays of one seed compared byte for byte across processes;
#   6. a seed's history written as JSON lines and checked by `bizra-sim check`;
#   7. a self-test: each injected bug of the example protocols must still be found;
#   8. the Raft core (issue 4): raft scenario seeds 1..SIM_SEEDS (the regression window) and
#      SIM_SEEDS rotating seeds, a cross-process replay comparison, and each injected adapter
#      bug (persisted-before-durable, ack-before-commit, apply-before-commit) found again.
# Exits non-zero on any failure, missing coverage, or an exhausted budget.
# Environment: SIM_SEEDS (default 1000), SIM_BUDGET_SECONDS per sweep (default 120), SIM_JOBS
# threads per sweep (default 2, the CI machine's cores; results do not depend on it).
set -euo pipefail
cd "$(dirname "$0")/.."

seeds="${SIM_SEEDS:-1000}"
budget="${SIM_BUDGET_SECONDS:-120}"
jobs="${SIM_JOBS:-2}"
start_time=$(date +%s)

swift build -c release --product bizra-sim --scratch-path .build-release 2>&1 | tail -1
sim=.build-release/release/bizra-sim

"$sim" run --scenario register --seeds "$seeds" --first-seed 1 --budget-seconds "$budget" --jobs "$jobs"

commit=$(git rev-parse --short=8 HEAD 2>/dev/null || echo 0)
rotating_first=$(( (16#${commit} % 1000000000) + 1000000 ))
"$sim" run --scenario register --seeds "$seeds" --first-seed "$rotating_first" --budget-seconds "$budget" --jobs "$jobs"

# The eventually consistent example (set-full and convergence oracles).
"$sim" run --scenario gset --seeds "$seeds" --first-seed 1 --budget-seconds "$budget" --jobs "$jobs"

# Scale: the full scenario (swarm faults, invariant, liveness, convergence, linearizability) on
# 1,000-node clusters; too few seeds to demand coverage.
"$sim" run --scenario register --nodes 1000 --seeds 3 --active-ms 500 --budget-seconds "$budget" --skip-coverage

# Determinism across processes: per-process hash seeds differ (SWIFT_DETERMINISTIC_HASHING unset),
# yet two replays of one seed must print byte-identical traces.
first_trace=$(env -u SWIFT_DETERMINISTIC_HASHING "$sim" replay --scenario register --seed 7 --trace | sha256sum)
second_trace=$(env -u SWIFT_DETERMINISTIC_HASHING "$sim" replay --scenario register --seed 7 --trace | sha256sum)
if [ "$first_trace" != "$second_trace" ]; then
    echo "ci-sim: FAIL — two replays of seed 7 printed different traces" >&2
    exit 1
fi

# The history file path: a replayed seed's history written as JSON lines, read back and checked
# by the command-line checker (exit 0 = linearizable).
history_file=$(mktemp)
trap 'rm -f "$history_file"' EXIT
"$sim" replay --scenario register --seed 3 --history "$history_file" > /dev/null
"$sim" check "$history_file" --model cas-register --initial 0

for bug in ack-before-durable read-from-backup send-before-persist; do
    "$sim" run --scenario register --bug "$bug" --seeds 1000 --budget-seconds 60 --expect-failure --jobs "$jobs"
done
"$sim" run --scenario gset --bug ack-before-persist --seeds 1000 --budget-seconds 60 --expect-failure --jobs "$jobs"

# The Raft core: safety after every event, liveness after healing, convergence, linearizability.
"$sim" run --scenario raft --seeds "$seeds" --first-seed 1 --budget-seconds "$budget" --jobs "$jobs"
"$sim" run --scenario raft --seeds "$seeds" --first-seed "$rotating_first" --budget-seconds "$budget" --jobs "$jobs"
first_raft=$(env -u SWIFT_DETERMINISTIC_HASHING "$sim" replay --scenario raft --seed 7 --trace | sha256sum)
second_raft=$(env -u SWIFT_DETERMINISTIC_HASHING "$sim" replay --scenario raft --seed 7 --trace | sha256sum)
if [ "$first_raft" != "$second_raft" ]; then
    echo "ci-sim: FAIL — two replays of raft seed 7 printed different traces" >&2
    exit 1
fi
for bug in persisted-before-durable ack-before-commit apply-before-commit; do
    "$sim" run --scenario raft --bug "$bug" --seeds 1000 --budget-seconds 60 --expect-failure --jobs "$jobs"
done

echo "ci-sim: PASS — register scenario seeds 1..${seeds} and ${rotating_first}..$((rotating_first + seeds - 1))," \
    "gset seeds 1..${seeds}, 3 seeds at 1,000 nodes, raft seeds 1..${seeds} and ${rotating_first}..$((rotating_first + seeds - 1))," \
    "replays byte-identical, 7/7 injected bugs found, $(( $(date +%s) - start_time ))s"
