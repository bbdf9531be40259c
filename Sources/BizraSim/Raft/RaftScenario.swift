import BizraRaft

/// One seeded run of a Raft cluster (`RaftSimNode`) under a swarm-drawn fault plan, with every
/// oracle: Raft's safety properties after each event (`RaftSafetyOracle`), liveness after
/// healing, convergence of the members, and linearizability of the client history (CAS
/// register model, per key).
///
/// Per seed it draws, besides the cluster size and fault plan (`ScenarioDraw`), the Raft knobs
/// from fork 10 of the seed: voter weights, ReadIndex or lease reads, how often nodes compact
/// and how much log they keep, snapshot chunk size, batching and pipelining limits, and whether
/// the operator changes membership and transfers leadership.
///
/// Phases: `0..<activeDuration` clients, operator and nemesis run; then everything heals; after
/// `quietDuration` a leader must exist; then each key must be written and read within
/// `livenessDeadline`; `convergenceDuration` later every member must have applied the same
/// index with the same registers; then the history must be linearizable.
package struct RaftScenario: SimScenario {
    package var bug = RaftSim.Bug.none
    package var clusterSizes: ClosedRange<Int> = 5...5
    package var clientCount = 4
    package var keyCount = 3
    package var activeDuration: SimTime = 3_000_000
    package var quietDuration: SimTime = 1_000_000
    package var livenessDeadline: SimTime = 2_000_000
    package var convergenceDuration: SimTime = 500_000
    package var recordTrace = false
    package var faultSubset: [Int]?
    package var checkerStepsMax = 20_000_000

    package init() {}

    package var name: String { "raft" }

    package var requiredCoverage: [String] { RaftScenario.requiredCoverage }

    package static let requiredCoverage = [
        "fault.crash", "fault.crashLostUnsyncedWrites", "fault.tornWrite", "fault.partition", "fault.pause",
        "fault.clog", "raft.leaderElected", "raft.leaderElectedDuringPartition", "raft.leaderSteppedDown",
        "raft.snapshotInstalled", "raft.compacted", "raft.rebootedWithLog", "raft.rebootedFromSnapshot",
        "raft.recoveredFromTornWrite", "raft.jointEntered", "raft.jointLeft", "raft.unequalWeights",
        "raft.transferCompleted", "raft.leaseRead", "raft.proposalUnknown", "raft.proposalDropped",
        "raft.clientTimeout", "raft.casSwapped", "raft.readDuringPartition", "raft.caughtUpTicks",
    ]

    /// `@inline(never)`: see `RegisterScenario.run(seed:)` (keeps the simulator specialised).
    @inline(never)
    package func run(seed: UInt64) -> SeedResult {
        let draw = ScenarioDraw(
            seed: seed, clusterSizes: clusterSizes, activeDuration: activeDuration, recordTrace: recordTrace)
        var knobs = SimRNG(seed: seed).fork(stream: 10)
        let config = Self.drawConfig(&knobs, clusterSize: draw.clusterSize, keyCount: keyCount, bug: bug)
        var sim = Simulator<RaftSimNode>(settings: draw.settings, nodeConfig: config)
        let oracle = RaftSafetyOracle(clusterSize: draw.clusterSize, keyCount: keyCount)
        oracle.start(sim)
        sim.invariants = [oracle.invariant]
        for (time, fault) in draw.plan.selecting(faultSubset) { sim.schedule(fault: fault, at: time) }
        sim.schedule(fault: .healAll, at: activeDuration)
        var workload = RaftWorkload(clientCount: clientCount, keyCount: keyCount, stopAt: activeDuration)
        workload.membershipChanges = knobs.chance(perMillion: 600_000)
        workload.transfers = knobs.chance(perMillion: 600_000)
        if !workload.membershipChanges && !workload.transfers { workload.operatorGap = nil }
        workload.start(&sim)
        sim.run(until: activeDuration + quietDuration, workload: &workload)
        livenessAndConvergence(&sim, &workload)
        let verdict = checkHistory(&sim, workload)
        sim.coverage.merge(oracle.coverage)
        return SeedResult(
            seed: seed, clusterSize: draw.clusterSize, plan: draw.plan.description,
            faultCount: draw.plan.schedule.count,
            failure: sim.failure, verdict: verdict, stats: sim.stats, coverage: sim.coverage,
            traceHash: sim.trace.hash, trace: recordTrace ? sim.trace.text : "", history: workload.history)
    }

    /// The Raft knobs of one seed.
    static func drawConfig(_ rng: inout SimRNG, clusterSize: Int, keyCount: Int, bug: RaftSim.Bug) -> RaftSim.Config {
        var config = RaftSim.Config()
        config.bug = bug
        config.keyCount = keyCount
        let equalWeights = rng.chance(perMillion: 500_000)
        var weights: [Raft.NodeID: UInt64] = [:]
        for node in 0..<clusterSize { weights[RaftSim.raftID(node)] = equalWeights ? 1 : UInt64(1 + rng.below(3)) }
        config.bootstrap = Raft.Configuration(weights: weights)
        if rng.chance(perMillion: 300_000) { config.readMode = .lease(driftBoundTicks: 2) }
        config.compactEveryEntries = [0, 8, 16, 64, 256][rng.below(5)]
        config.retainEntries = Raft.Index(rng.below(17))
        config.snapshotChunkBytes = [8, 16, 1_024][rng.below(3)]
        if rng.chance(perMillion: 300_000) { config.messageEntriesBytesMax = 1 }
        if rng.chance(perMillion: 300_000) { config.inflightMessagesMax = 1 + rng.below(4) }
        return config
    }

    /// After healing: a leader within `quietDuration`, then each key written and read, then the
    /// members converge.
    private func livenessAndConvergence(_ sim: inout Simulator<RaftSimNode>, _ workload: inout RaftWorkload) {
        guard sim.failure == nil else { return }
        guard RaftWorkload.leader(sim) != nil else {
            let ticks = quietDuration / RaftSim.Config().tickMicros
            return sim.fail("liveness", "no leader \(ticks) ticks after healing; \(Self.describeAll(sim))")
        }
        workload.beginFinalPhase(&sim)
        let deadline = sim.now + livenessDeadline
        while sim.failure == nil && !workload.finalPhaseDone && sim.now < deadline {
            sim.run(until: min(deadline, sim.now + 20_000), workload: &workload)
        }
        guard sim.failure == nil else { return }
        guard workload.finalPhaseDone else {
            return sim.fail(
                "liveness",
                "after healing, \(workload.finalWritesDone) of \(keyCount) final writes and \(workload.finalReadsDone) "
                    + "reads succeeded within \(livenessDeadline / 1_000) ms; \(Self.describe(sim))")
        }
        sim.run(until: sim.now + convergenceDuration, workload: &workload)
        guard sim.failure == nil else { return }
        if let divergence = Self.divergence(sim) { sim.fail("convergence", divergence) }
    }

    /// The nodes' roles, terms, logs and (for leaders) followers' progress, for failure reports.
    static func describe(_ sim: Simulator<RaftSimNode>) -> String {
        (0..<sim.clusterSize).map { node in
            guard let raft = sim.nodes[node]?.raft else { return "n\(node) down" }
            let status = raft.status
            var text =
                "n\(node) \(status.role) t\(status.term) commit \(status.commit) log \(status.firstIndex)...\(status.lastIndex)"
            if status.role == .leader {
                text += " [\(status.configuration)] followers "
                text += status.followers.map { "\($0.id):\($0.state) match \($0.match) next \($0.next)" }
                    .joined(separator: ", ")
            }
            return text
        }.joined(separator: "; ")
    }

    /// Every node's view when no leader emerges: role, term, vote, commit/applied/persisted and the
    /// configuration it holds (a node that is not a voter of its own configuration never campaigns).
    static func describeAll(_ sim: Simulator<RaftSimNode>) -> String {
        (0..<sim.clusterSize).map { node in
            guard let raft = sim.nodes[node]?.raft else { return "n\(node) down" }
            let status = raft.status
            return
                "n\(node) \(status.role) t\(status.term) vote \(status.vote.map(String.init) ?? "-") commit \(status.commit) "
                + "applied \(status.applied) persisted \(status.persisted) log \(status.firstIndex)...\(status.lastIndex) "
                + "[\(status.configuration)]"
        }.joined(separator: "; ")
    }

    /// Whether every member of the leader's configuration applied what the leader applied.
    static func divergence(_ sim: Simulator<RaftSimNode>) -> String? {
        guard let leaderNode = RaftWorkload.leader(sim), let leader = sim.nodes[leaderNode] else {
            return "no leader at the end"
        }
        for member in leader.raft.configuration.members {
            guard let node = RaftSim.simNode(member, clusterSize: sim.clusterSize) else { continue }
            guard let follower = sim.nodes[node] else { return "member \(node) is down at the end" }
            if follower.appliedIndex != leader.appliedIndex || follower.machine != leader.machine {
                return "member \(node) applied \(follower.appliedIndex) \(follower.values), the leader \(leaderNode) "
                    + "\(leader.appliedIndex) \(leader.values)"
            }
        }
        return nil
    }

    private func checkHistory(_ sim: inout Simulator<RaftSimNode>, _ workload: RaftWorkload) -> CheckVerdict? {
        guard sim.failure == nil else { return nil }
        var checker = LinearizabilityChecker(model: CASRegisterModel(initial: 0))
        checker.searchStepsMax = checkerStepsMax
        let verdict = checker.check(workload.history)
        if verdict.isInvalid { sim.fail("linearizability", verdict.description) }
        return verdict
    }
}
