import Testing

@testable import BizraSim

/// The example protocol under the swarm: the correct register passes, each injected bug is found
/// by some seed, and a failing seed replays to the same failure and the same event trace.
@Suite struct RegisterScenarioTests {
    @Test func correctRegisterPassesSwarmSeeds() {
        let sweep = SwarmSweep.run(RegisterScenario(), firstSeed: 1, count: 30)
        #expect(sweep.failed == 0, "\(sweep.failures.map { "seed \($0.seed): \($0.failure)" })")
        #expect(sweep.passed == 30)
        #expect(sweep.unknown == 0)
    }

    @Test func sameSeedGivesByteIdenticalTrace() {
        var scenario = RegisterScenario()
        scenario.recordTrace = true
        let first = scenario.run(seed: 11)
        let second = scenario.run(seed: 11)
        #expect(!first.trace.isEmpty)
        #expect(first.trace == second.trace)
        #expect(first.traceHash == second.traceHash)
        #expect(first.history.jsonLines() == second.history.jsonLines())
        let other = scenario.run(seed: 12)
        #expect(other.traceHash != first.traceHash)
        #expect(other.trace != first.trace)
    }

    /// Recording the trace must not change what happens (it draws no random numbers).
    @Test func traceRecordingDoesNotPerturbTheRun() {
        var recording = RegisterScenario()
        recording.recordTrace = true
        let traced = recording.run(seed: 5)
        let plain = RegisterScenario().run(seed: 5)
        #expect(traced.traceHash == plain.traceHash)
        #expect(traced.stats == plain.stats)
    }

    @Test(arguments: [ReplicatedRegister.Bug.ackBeforeDurable, .readFromBackup, .sendBeforePersist])
    func injectedBugIsFoundAndItsSeedReplays(bug: ReplicatedRegister.Bug) {
        var scenario = RegisterScenario()
        scenario.bug = bug
        var found: SeedResult?
        for seed in 1...300 as ClosedRange<UInt64> {
            let result = scenario.run(seed: seed)
            if !result.passed {
                found = result
                break
            }
        }
        guard let failing = found, let failure = failing.failure else {
            Issue.record("no seed in 1...300 found bug \(bug.rawValue)")
            return
        }
        let replay = scenario.run(seed: failing.seed)
        #expect(replay.failure == failure)
        #expect(replay.traceHash == failing.traceHash)
        #expect(RegisterScenario().run(seed: failing.seed).passed, "the correct protocol passes the same seed")
    }

    /// Sweeps over disjoint seeds merge into the sweep over all of them (what `--jobs` relies on).
    @Test func mergedSweepsEqualOneSweep() {
        var scenario = RegisterScenario()
        scenario.bug = .sendBeforePersist
        let whole = SwarmSweep.run(scenario, firstSeed: 1, count: 12)
        var merged = SwarmSweep.run(scenario, firstSeed: 7, count: 6)
        merged.merge(SwarmSweep.run(scenario, firstSeed: 1, count: 6))
        #expect(merged.seedsRun == whole.seedsRun && merged.passed == whole.passed)
        #expect(merged.events == whole.events && merged.coverage == whole.coverage)
        #expect(merged.failures.map(\.seed) == whole.failures.map(\.seed))
    }

    @Test func shrinkingKeepsTheFailureWithFewerFaults() {
        var scenario = RegisterScenario()
        scenario.bug = .sendBeforePersist
        let original = scenario.run(seed: 5)
        guard let failure = original.failure else {
            Issue.record("seed 5 should fail with send-before-persist")
            return
        }
        guard let kept = FaultShrinker.shrink(scenario, seed: 5) else {
            Issue.record("shrinking found nothing to shrink")
            return
        }
        #expect(kept.count < original.faultCount / 4)
        scenario.faultSubset = kept
        #expect(scenario.run(seed: 5).failure?.check == failure.check)
        #expect(FaultShrinker.shrink(RegisterScenario(), seed: 5) == nil, "a passing seed has nothing to shrink")
    }

    /// The "sometimes" oracle: a sweep must exercise every fault it claims to test.
    @Test func sweepReachesRequiredCoverage() {
        let sweep = SwarmSweep.run(RegisterScenario(), firstSeed: 1, count: 120)
        #expect(sweep.missingCoverage(RegisterScenario.requiredCoverage) == [])
    }

    @Test func livenessFailsWhenTheLeaderNeverReturns() {
        #expect(runWithLeaderNeverRestarted(seed: 1)?.check == "liveness")
    }

    @Test func registerQuorumIndexMatchesBruteForce() {
        var rng = SimRNG(seed: 9)
        for _ in 0..<500 {
            let count = 1 + rng.below(7)
            let lengths = (0..<count).map { _ in rng.below(10) }
            let bruteForce = (0...10).filter { index in lengths.filter { $0 >= index }.count > count / 2 }.max() ?? 0
            #expect(ReplicatedRegisterNode.quorumIndex(lengths) == bruteForce, "\(lengths)")
        }
    }
}

/// Runs the register with the leader crashed for good, to show the liveness oracle fires.
func runWithLeaderNeverRestarted(seed: UInt64) -> SimFailure? {
    var sim = Simulator<ReplicatedRegisterNode>(
        settings: SimSettings(clusterSize: 3, seed: seed), nodeConfig: ReplicatedRegister.Config())
    sim.schedule(fault: .crash(ReplicatedRegister.leader), at: 10_000)
    var workload = RegisterWorkload(clientCount: 4, keyCount: 3, stopAt: 50_000)
    workload.start(&sim)
    sim.run(until: 100_000, workload: &workload)
    workload.beginFinalReads(&sim)
    sim.run(until: 1_100_000, workload: &workload)
    if workload.finalReadsAnswered < workload.finalReadsWanted {
        sim.fail("liveness", "\(workload.finalReadsAnswered) of \(workload.finalReadsWanted) final reads answered")
    }
    return sim.failure
}
