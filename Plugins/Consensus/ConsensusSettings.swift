import BizraConfig
import BizraRaft
import Foundation

/// The shell's timing and limits. Raft itself counts ticks; the shell turns a monotonic clock
/// into ticks of `tickMillis`.
///
/// Defaults (loopback and LAN, where a round trip is well under a millisecond): a 10 ms tick,
/// heartbeats every 2 ticks (20 ms), an election timeout of 20 ticks drawn from 200–400 ms. A
/// leader that dies is replaced after about 0.3–0.6 s plus one election round. Slower networks
/// should raise both through the environment (`BIZRA_CONSENSUS_ELECTION_TICKS`,
/// `BIZRA_CONSENSUS_HEARTBEAT_TICKS`); the election timeout should stay ≥ 10 × the round trip.
struct ConsensusSettings: Sendable {
    static let tickMillis = 10
    /// Ticks one timer wake-up may catch up on; beyond it (a paused process) time is skipped, so a
    /// resumed node does not fire a burst of timeouts at once.
    static let catchUpTicksMax = 5

    var electionTimeoutTicks = 20
    var heartbeatIntervalTicks = 2
    /// A snapshot of the key-value store is taken (and the WAL compacted behind it) every this
    /// many applied entries.
    var snapshotEveryEntries: UInt64 = 10_000
    /// Entries kept in memory before a snapshot, for followers that are only a little behind.
    var retainedEntries: UInt64 = 1_024
    /// A client request still unanswered after this long ends `unknown` (writes) or `failed` (reads).
    var requestTimeoutMillis = 5_000
    /// How often the leader looks for expired leases.
    var leaseCheckTicks = 10
    /// Append messages in flight to one follower. Small on purpose: every message is a signed bus
    /// envelope (tens of µs of CPU at each end), so entries proposed while the window is full
    /// wait and go together in the next append (batching) instead of one message each. Measured
    /// on 3 loopback nodes, 16 clients: 256 → 288 puts/s, 8 → 511, 4 → 685–767, 2 → 732
    /// (`BIZRA_CONSENSUS_INFLIGHT_MESSAGES` overrides it).
    var inflightMessagesMax = 4

    static func fromEnvironment() -> ConsensusSettings {
        var settings = ConsensusSettings()
        let env = ProcessInfo.processInfo.environment
        if let value = env["BIZRA_CONSENSUS_ELECTION_TICKS"].flatMap(Int.init) { settings.electionTimeoutTicks = value }
        if let value = env["BIZRA_CONSENSUS_HEARTBEAT_TICKS"].flatMap(Int.init) {
            settings.heartbeatIntervalTicks = value
        }
        if let value = env["BIZRA_CONSENSUS_SNAPSHOT_ENTRIES"].flatMap(UInt64.init), value > 0 {
            settings.snapshotEveryEntries = value
        }
        if let value = env["BIZRA_CONSENSUS_INFLIGHT_MESSAGES"].flatMap(Int.init), value > 0 {
            settings.inflightMessagesMax = value
        }
        if let value = env["BIZRA_CONSENSUS_RETAINED_ENTRIES"].flatMap(UInt64.init) { settings.retainedEntries = value }
        return settings
    }

    func raftSettings(id: Raft.NodeID) -> Raft.Settings {
        var settings = Raft.Settings(id: id, randomSeed: UInt64.random(in: 1...UInt64.max))
        settings.electionTimeoutTicks = electionTimeoutTicks
        settings.heartbeatIntervalTicks = heartbeatIntervalTicks
        settings.inflightMessagesMax = inflightMessagesMax
        settings.storageStallTicksMax = max(50, electionTimeoutTicks * 3)
        settings.proposalTimeoutTicks = max(100, electionTimeoutTicks * 5)
        return settings
    }
}

/// The cluster's members as bus-config declares them: Raft id = 1-based position of the node in
/// `nodes`; the bootstrap configuration makes every declared node a voter with its `voteWeight`.
struct Members: Sendable {
    let names: [String]
    let weights: [UInt64]

    init(config: MeshConfig) {
        names = config.nodes.map(\.id)
        weights = config.nodes.map { UInt64(max(1, $0.voteWeight)) }
    }

    func id(of node: String) -> Raft.NodeID? {
        names.firstIndex(of: node).map { Raft.NodeID($0 + 1) }
    }

    func name(of id: Raft.NodeID?) -> String? {
        guard let id, id >= 1, id <= UInt64(names.count) else { return nil }
        return names[Int(id - 1)]
    }

    func declaredWeight(of id: Raft.NodeID) -> UInt64 { weights[Int(id - 1)] }

    var bootstrap: Raft.Configuration {
        var voters: [Raft.NodeID: UInt64] = [:]
        for (offset, weight) in weights.enumerated() { voters[Raft.NodeID(offset + 1)] = weight }
        return Raft.Configuration(weights: voters)
    }
}
