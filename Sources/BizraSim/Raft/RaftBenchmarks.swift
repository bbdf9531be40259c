import BizraRaft

/// The measurements behind docs/BENCHMARKS.md's "Raft core (simulated)" section. Each entry
/// point is non-generic and `@inline(never)` (see `RegisterScenario.run(seed:)`); the runner
/// (`bizra-sim bench raft`) times them and prints the figures.
package enum RaftBenchmarks {
    /// Election time after a leader crash: `voters` equal voters on a healthy network (delay
    /// 0.1–1 ms, no loss), default settings (10 ms ticks, election timeout 10–19 ticks, pre-vote,
    /// check-quorum). The first leader is left alone for 1 virtual s, then crashed; the result
    /// is the virtual µs until another node leads a higher term, or nil if none within 10 s.
    @inline(never)
    package static func electionAfterLeaderCrash(voters: Int, seed: UInt64) -> SimTime? {
        var config = RaftSim.Config()
        var weights: [Raft.NodeID: UInt64] = [:]
        for node in 0..<voters { weights[RaftSim.raftID(node)] = 1 }
        config.bootstrap = Raft.Configuration(weights: weights)
        var sim = Simulator<RaftSimNode>(settings: SimSettings(clusterSize: voters, seed: seed), nodeConfig: config)
        var workload = RaftWorkload(clientCount: 0, keyCount: 0, stopAt: 0)
        workload.operatorGap = nil
        sim.run(until: 1_000_000, workload: &workload)
        guard let old = RaftWorkload.leader(sim), let oldTerm = sim.nodes[old]?.raft.term else { return nil }
        sim.schedule(fault: .crash(old), at: sim.now)
        let crashedAt = sim.now
        while sim.now < crashedAt + 10_000_000 {
            sim.run(until: sim.now + 1_000, workload: &workload)
            if let leader = RaftWorkload.leader(sim), let raft = sim.nodes[leader]?.raft, raft.term > oldTerm {
                return sim.now - crashedAt
            }
        }
        return nil
    }

    /// Message and byte counts of replicating `entries` entries of `entryBytes` bytes through a
    /// `RaftMemoryCluster` of `voters` (synchronous storage, FIFO delivery), proposed in rounds of
    /// `burst`: each round proposes, delivers until quiet, and ticks every node once (heartbeats
    /// included in the counts).
    package struct TrafficResult: Sendable {
        package var committed = 0
        package var messages = 0
        package var bytes = 0
    }

    @inline(never)
    package static func traffic(
        voters: Int, entries: Int, entryBytes: Int, burst: Int, configure: (inout Raft.Settings) -> Void
    ) -> TrafficResult {
        var weights: [Raft.NodeID: UInt64] = [:]
        for id in 1...voters { weights[Raft.NodeID(id)] = 1 }
        var cluster = RaftMemoryCluster(configuration: Raft.Configuration(weights: weights), configure: configure)
        cluster.recordApplied = false
        guard let leader = cluster.electLeader() else { return TrafficResult() }
        for _ in 0..<3 {
            cluster.tickAll()
            cluster.deliverAll()
        }
        let (messagesBefore, bytesBefore) = (cluster.messagesSent, cluster.bytesSent)
        let appliedBefore = cluster.appliedCount[leader] ?? 0
        let payload = [UInt8](repeating: 0xAB, count: entryBytes)
        var sequence: UInt64 = 0
        while sequence < UInt64(entries) {
            for _ in 0..<min(burst, entries - Int(sequence)) {
                sequence += 1
                _ = cluster.nodes[leader]!.propose(payload, id: Raft.ProposalID(node: leader, sequence: sequence))
            }
            cluster.process(leader)
            cluster.deliverAll()
            cluster.tickAll()
            cluster.deliverAll()
        }
        for _ in 0..<3 {
            cluster.tickAll()
            cluster.deliverAll()
        }
        return TrafficResult(
            committed: (cluster.appliedCount[leader] ?? 0) - appliedBefore,
            messages: cluster.messagesSent - messagesBefore,
            bytes: cluster.bytesSent - bytesBefore)
    }

    /// Throughput of the core: `entries` entries of `entryBytes` through a 3-node
    /// `RaftMemoryCluster` (hash chain, synchronous storage, nothing recorded), proposed in rounds
    /// of `burst`, with default settings or with at most `inflightMessagesMax` appends in flight
    /// per follower (which makes the leader batch). Returns the entries the leader applied.
    @inline(never)
    package static func coreThroughput(entries: Int, entryBytes: Int, burst: Int, inflightMessagesMax: Int?) -> Int {
        traffic(voters: 3, entries: entries, entryBytes: entryBytes, burst: burst) { settings in
            if let inflightMessagesMax { settings.inflightMessagesMax = inflightMessagesMax }
        }.committed
    }
}
