import BizraRaft
import BizraSim

/// `bizra-sim bench raft`: the figures of docs/BENCHMARKS.md's "Raft core (simulated)" section.
/// Run from a release build.
///
/// (a) election time after a leader crash, 3/5/7/9 voters (`--elections N` seeds each);
/// (b) messages and bytes per committed entry, with and without batching;
/// (c) seeds per minute of the raft scenario, 5 nodes, 60 virtual s, swarm faults (`--scenario-seeds N`);
/// (d) entries per second through a 3-node `RaftMemoryCluster`, 256-byte entries (`--entries N`).
func runRaftBenchmarks(_ options: CommandLineOptions) -> Int32 {
    let only = options.values["only"].map { Set($0.split(separator: ",").map(String.init)) }
    if only?.contains("a") ?? true { benchElections(count: options.int("elections", default: 200)) }
    if only?.contains("b") ?? true { benchTraffic() }
    var ok = true
    if only?.contains("c") ?? true { ok = benchScenarioSeeds(count: options.int("scenario-seeds", default: 10)) && ok }
    if only?.contains("d") ?? true {
        for window in [nil, 4] as [Int?] {
            for _ in 0..<options.int("repeats", default: 3) {
                ok = benchCoreThroughput(entries: options.int("entries", default: 200_000), window: window) && ok
            }
        }
    }
    return ok ? 0 : 1
}

private func percentile(_ sorted: [SimTime], _ fraction: Double) -> SimTime {
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
}

private func benchElections(count: Int) {
    for voters in [3, 5, 7, 9] {
        var samples: [SimTime] = []
        var none = 0
        for seed in 1...max(1, count) {
            if let elapsed = RaftBenchmarks.electionAfterLeaderCrash(voters: voters, seed: UInt64(seed)) {
                samples.append(elapsed)
            } else {
                none += 1
            }
        }
        samples.sort()
        guard !samples.isEmpty else {
            print("bench raft election [\(voters) voters]: no leader after any crash")
            continue
        }
        let figures = [0.5, 0.9, 0.99, 1.0].map { fraction -> String in
            let micros = percentile(samples, fraction)
            return
                "\(format(Double(micros) / 10_000, decimals: 1)) ticks (\(format(Double(micros) / 1_000, decimals: 1)) ms)"
        }
        print(
            "bench raft election [\(voters) voters, \(samples.count) leader crashes\(none > 0 ? ", \(none) without a new leader in 10 s" : "")]:"
                + " p50 \(figures[0]), p90 \(figures[1]), p99 \(figures[2]), max \(figures[3])")
    }
}

private func benchTraffic() {
    let entryBytes = 256
    let oneEntry = entryBytes + Raft.Entry.headerBytes
    let cases: [(String, Int, (inout Raft.Settings) -> Void)] = [
        ("defaults (64 KiB per append, 256 in flight), bursts of 64", 64, { _ in }),
        ("batching by window (64 KiB per append, 4 in flight), bursts of 64", 64, { $0.inflightMessagesMax = 4 }),
        ("batching by window (64 KiB per append, 1 in flight), bursts of 64", 64, { $0.inflightMessagesMax = 1 }),
        ("no batching (1 entry per append, 256 in flight), bursts of 64", 64, { $0.messageEntriesBytesMax = oneEntry }),
        (
            "no batching (1 entry per append, 1 in flight), bursts of 64", 64,
            {
                $0.messageEntriesBytesMax = oneEntry
                $0.inflightMessagesMax = 1
            }
        ),
        ("defaults, one entry per round", 1, { _ in }),
    ]
    for voters in [3, 5] {
        for (label, burst, configure) in cases {
            let result = RaftBenchmarks.traffic(
                voters: voters, entries: 6_400, entryBytes: entryBytes, burst: burst, configure: configure)
            let committed = Double(max(result.committed, 1))
            print(
                "bench raft traffic [\(voters) voters, \(label), \(entryBytes)-byte entries]: \(result.committed) committed,"
                    + " \(format(Double(result.messages) / committed)) messages and"
                    + " \(format(Double(result.bytes) / committed, decimals: 0)) bytes per committed entry")
        }
    }
}

private func benchScenarioSeeds(count: Int) -> Bool {
    var scenario = RaftScenario()
    scenario.clusterSizes = 5...5
    scenario.activeDuration = 60_000_000
    let start = ContinuousClock.now
    let cpuStart = processCPUSeconds()
    var events = 0
    var failed = 0
    for seed in 1...max(1, count) {
        let result = scenario.run(seed: UInt64(seed))
        events += result.stats.events
        if !result.passed { failed += 1 }
    }
    let cpu = processCPUSeconds() - cpuStart
    let wall = seconds(since: start)
    let perMinute = Double(count) / cpu * 60
    print(
        "bench raft scenario [5 nodes, 60 virtual s, swarm faults, all oracles, seeds 1...\(count)]: \(failed) failed,"
            + " \(events) events, \(format(cpu))s CPU (\(format(wall))s wall) = \(format(perMinute, decimals: 0)) seeds/min"
            + " per core, \(format(perMinute * 2, decimals: 0)) on 2 cores (goal ≥ 600/min)")
    return failed == 0
}

private func benchCoreThroughput(entries: Int, window: Int?) -> Bool {
    let start = ContinuousClock.now
    let cpuStart = processCPUSeconds()
    let committed = RaftBenchmarks.coreThroughput(
        entries: entries, entryBytes: 256, burst: 256, inflightMessagesMax: window)
    let cpu = processCPUSeconds() - cpuStart
    let wall = seconds(since: start)
    let rate = Double(committed) / cpu
    print(
        "bench raft core [3-node RaftMemoryCluster, 256-byte entries, bursts of 256, hash chain, one thread,"
            + " \(window.map { "\($0) appends in flight" } ?? "default settings")]:"
            + " \(committed) entries in \(format(cpu))s CPU (\(format(wall))s wall) = \(format(rate, decimals: 0))"
            + " entries/s (goal ≥ 100,000)")
    return committed == entries && rate >= 100_000
}
