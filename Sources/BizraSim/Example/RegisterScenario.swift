/// One seeded run of `ReplicatedRegister` under a swarm-drawn fault plan, with every oracle:
/// invariants after each event, liveness (final reads) after healing and a quiet period, replica
/// convergence, and a linearizability check of the client history (CAS register model, per key).
///
/// Phases (virtual time): `0..<activeDuration` clients and nemesis run; at `activeDuration`
/// everything heals; `quietDuration` later every key is read from the leader, which must answer
/// within `livenessDeadline`; then logs must be equal on all nodes and the history linearizable.
package struct RegisterScenario: SimScenario {
    package var bug = ReplicatedRegister.Bug.none
    package var clusterSizes: ClosedRange<Int> = 3...7
    package var clientCount = 4
    package var keyCount = 3
    package var activeDuration: SimTime = 2_000_000
    package var quietDuration: SimTime = 500_000
    package var livenessDeadline: SimTime = 1_000_000
    package var recordTrace = false
    /// Apply only these entries of the seed's fault schedule (for shrinking); nil applies all.
    package var faultSubset: [Int]?
    /// Linearizability search steps per seed before the verdict is `unknown`.
    package var checkerStepsMax = 20_000_000

    package init() {}

    package var name: String { "register" }

    package var requiredCoverage: [String] { RegisterScenario.requiredCoverage }

    /// Names of `SimCoverage` events a sweep of this scenario must see at least once.
    package static let requiredCoverage = [
        "fault.crash", "fault.crashLostUnsyncedWrites", "fault.tornWrite", "fault.partition", "fault.pause",
        "fault.clog", "register.indeterminate", "register.casSwapped", "register.writeAckedDuringPartition",
        "register.leaderRebootedWithLog", "register.recoveredFromTornWrite",
    ]

    /// `@inline(never)` keeps this non-generic entry point a call into this module, where the
    /// simulator is specialised for `ReplicatedRegisterNode`; inlined into another module, the
    /// generic event loop would run unspecialised, several times slower.
    @inline(never)
    package func run(seed: UInt64) -> SeedResult {
        let draw = ScenarioDraw(
            seed: seed, clusterSizes: clusterSizes, activeDuration: activeDuration, recordTrace: recordTrace)
        let (clusterSize, plan, settings) = (draw.clusterSize, draw.plan, draw.settings)
        var config = ReplicatedRegister.Config()
        config.keyCount = keyCount
        config.bug = bug
        var sim = Simulator<ReplicatedRegisterNode>(settings: settings, nodeConfig: config)
        sim.invariants = [RegisterScenario.backupLogWithinLeaderLog]
        for (time, fault) in plan.selecting(faultSubset) { sim.schedule(fault: fault, at: time) }
        sim.schedule(fault: .healAll, at: activeDuration)
        var workload = RegisterWorkload(clientCount: clientCount, keyCount: keyCount, stopAt: activeDuration)
        workload.start(&sim)
        sim.run(until: activeDuration + quietDuration, workload: &workload)
        if sim.failure == nil {
            workload.beginFinalReads(&sim)
            sim.run(until: sim.now + livenessDeadline, workload: &workload)
        }
        let verdict = finalChecks(&sim, workload)
        return SeedResult(
            seed: seed, clusterSize: clusterSize, plan: plan.description, faultCount: plan.schedule.count,
            failure: sim.failure, verdict: verdict,
            stats: sim.stats, coverage: sim.coverage, traceHash: sim.trace.hash,
            trace: recordTrace ? sim.trace.text : "", history: workload.history)
    }

    /// The bare event loop for throughput measurement: `clusterSize` register nodes and 8 busy
    /// clients for `duration` virtual µs, no faults and no invariants. Returns the event count.
    @inline(never)
    package static func throughputRun(seed: UInt64, clusterSize: Int, duration: SimTime) -> Int {
        var config = ReplicatedRegister.Config()
        config.keyCount = 8
        let settings = SimSettings(clusterSize: clusterSize, seed: seed)
        var sim = Simulator<ReplicatedRegisterNode>(settings: settings, nodeConfig: config)
        var workload = RegisterWorkload(clientCount: 8, keyCount: 8, stopAt: duration)
        workload.think = 0...200
        workload.start(&sim)
        sim.run(until: duration, workload: &workload)
        return sim.stats.events
    }

    private func finalChecks(_ sim: inout Simulator<ReplicatedRegisterNode>, _ workload: RegisterWorkload)
        -> CheckVerdict?
    {
        guard sim.failure == nil else { return nil }
        if workload.finalReadsAnswered < workload.finalReadsWanted {
            sim.fail(
                "liveness",
                "\(workload.finalReadsAnswered) of \(workload.finalReadsWanted) final reads answered after healing")
            return nil
        }
        let logs = (0..<sim.clusterSize).compactMap { node in
            sim.nodes[node].map { (node: node, state: Array($0.log[0..<$0.durable])) }
        }
        if let divergence = ConvergenceChecker.check(
            logs, describe: { "a log of \($0.count) entries ending \($0.suffix(3))" })
        {
            sim.fail("convergence", divergence)
            return nil
        }
        var checker = LinearizabilityChecker(model: CASRegisterModel(initial: 0))
        checker.searchStepsMax = checkerStepsMax
        let verdict = checker.check(workload.history)
        if verdict.isInvalid { sim.fail("linearizability", verdict.description) }
        return verdict
    }

    /// Invariant: while the leader is up, every backup's log is a prefix of the leader's (checked
    /// on length and last entry). Only a backup's own input or a fault can break it — the leader
    /// only appends, except when it reboots, which is a fault — so it checks `lastTouched`
    /// nodes only and costs O(1) per event, O(nodes) per fault.
    package static let backupLogWithinLeaderLog = SimInvariant<ReplicatedRegisterNode>(
        name: "backupLogWithinLeaderLog"
    ) { sim in
        guard let leader = sim.nodes[ReplicatedRegister.leader] else { return nil }
        switch sim.lastTouched {
        case .none: return nil
        case .node(let node): return node == ReplicatedRegister.leader ? nil : prefixViolation(node, leader, sim)
        case .all:
            for node in 1..<sim.clusterSize {
                if let violation = prefixViolation(node, leader, sim) { return violation }
            }
            return nil
        }
    }

    static func prefixViolation(
        _ node: NodeID, _ leader: ReplicatedRegisterNode, _ sim: Simulator<ReplicatedRegisterNode>
    ) -> String? {
        guard let backup = sim.nodes[node], !backup.log.isEmpty else { return nil }
        let last = backup.log.count - 1
        if last >= leader.log.count {
            return "backup \(node) holds \(backup.log.count) entries, the leader only \(leader.log.count)"
        }
        if backup.log[last] != leader.log[last] {
            return "entry \(last + 1) is \(backup.log[last]) on backup \(node) but \(leader.log[last]) on the leader"
        }
        return nil
    }
}

/// What one seed did and whether it passed; enough to print a summary line and a replay command.
package struct SeedResult: Sendable {
    package var seed: UInt64
    package var clusterSize: Int
    package var plan: String
    /// Entries in the seed's fault schedule (before any `faultSubset`).
    package var faultCount: Int
    package var failure: SimFailure?
    /// The history check's verdict (nil when the run failed before it).
    package var verdict: CheckVerdict?
    package var stats: SimStats
    package var coverage: SimCoverage
    package var traceHash: UInt64
    package var trace: String
    package var history: History

    package var passed: Bool { failure == nil }
    package var unknown: Bool {
        if case .unknown = verdict { return true }
        return false
    }
}
