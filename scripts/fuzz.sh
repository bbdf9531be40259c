#!/usr/bin/env bash
# Builds the libFuzzer targets (a release build with the fuzzer sanitizer, in its own scratch
# folder) and runs each for SECONDS over a scratch copy of its committed seed corpus, so that
# new inputs libFuzzer finds never land in the repository. A crash fails the script and leaves
# the reproducer in .build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-60}"
export SWIFT_BACKTRACE=enable=no
for target in frame config link; do
    swift build -c release --sanitize=fuzzer -Xswiftc -DFUZZING --scratch-path .build-fuzz --product "fuzz-$target"
done
mkdir -p .build-fuzz/artifacts
for target in frame config link; do
    work=".build-fuzz/corpus-$target"
    rm -rf "$work" && mkdir -p "$work"
    echo "fuzz-$target: ${SECONDS_PER_TARGET} s"
    log=".build-fuzz/fuzz-$target.log"
    rc=0
    ".build-fuzz/release/fuzz-$target" "$work" "fuzz/corpus/$target" -max_total_time="$SECONDS_PER_TARGET" \
        -timeout=10 -max_len=70000 -artifact_prefix=.build-fuzz/artifacts/ -print_final_stats=1 >"$log" 2>&1 || rc=$?
    grep -E "^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|==[0-9]+==|SUMMARY)" "$log" || true
    if [ "$rc" -ne 0 ]; then
        tail -40 "$log"
        echo "fuzz-$target failed (exit $rc): reproducer in .build-fuzz/artifacts/"
        exit 1
    fi
done
