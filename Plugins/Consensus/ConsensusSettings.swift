import BizraConfig
import BizraRaft
import Foundation

/// The shell's timing and limits. Raft itself counts ticks; the shell turns a monotonic clock
/// into ticks of `tickMillis`.
///
/// They come from bus-config `consensus:` (`ConsensusConfig`, whose defaults suit loopback and
/// a LAN: heartbeats every 20 ms, an election timeout drawn from 200–400 ms). The environment
/// may override them for one process (`BIZRA_CONSENSUS_ELECTION_TICKS`, `…_HEARTBEAT_TICKS`,
/// `…_INFLIGHT_MESSAGES`, `…_SNAPSHOT_ENTRIES`, `…_RETAINED_ENTRIES`, `…_REQUEST_TIMEOUT_MS`);
/// an override that is not a number in range is refused at start, naming the variable.
struct ConsensusSettings: Sendable {
    static let tickMillis = 10
    /// Ticks one timer wake-up may catch up on; beyond it (a paused process) time is skipped, so a
    /// resumed node does not fire a burst of timeouts at once.
    static let catchUpTicksMax = 5

    var electionTimeoutTicks = ConsensusConfig.defaults.electionTimeoutTicks
    var heartbeatIntervalTicks = ConsensusConfig.defaults.heartbeatIntervalTicks
    /// A snapshot of the key-value store is taken (and the WAL compacted behind it) every this
    /// many applied entries.
    var snapshotEveryEntries = UInt64(ConsensusConfig.defaults.snapshotEveryEntries)
    /// Entries kept in memory before a snapshot, for followers that are only a little behind.
    var retainedEntries: UInt64 = 1_024
    /// A client request still unanswered after this long ends `unknown` (writes) or `failed` (reads).
    var requestTimeoutMillis = ConsensusConfig.defaults.requestTimeoutMillis
    /// How often the leader looks for expired leases.
    var leaseCheckTicks = 10
    /// Append messages in flight to one follower. Small on purpose: every message is a signed bus
    /// envelope (tens of µs of CPU at each end), so entries proposed while the window is full
    /// wait and go together in the next append (batching) instead of one message each. Measured
    /// on 3 loopback nodes, 16 clients, before the core batched each Ready's proposals: 256 →
    /// 288 puts/s, 8 → 511, 4 → 685–767, 2 → 732.
    var inflightMessagesMax = ConsensusConfig.defaults.inflightMessages

    /// An environment override that cannot be used.
    struct OverrideError: Error, CustomStringConvertible {
        let variable: String
        let value: String
        let expected: ClosedRange<Int>

        var description: String {
            "environment variable \(variable)=\(value) is not a whole number in \(expected) "
                + "(fix: correct or unset it; bus-config `consensus:` holds the cluster's value)"
        }
    }

    /// The settings of bus-config `consensus:`, then the environment's overrides.
    init(config: ConsensusConfig, environment: [String: String]) throws(OverrideError) {
        electionTimeoutTicks = config.electionTimeoutTicks
        heartbeatIntervalTicks = config.heartbeatIntervalTicks
        inflightMessagesMax = config.inflightMessages
        snapshotEveryEntries = UInt64(config.snapshotEveryEntries)
        requestTimeoutMillis = config.requestTimeoutMillis
        func override(_ name: String, _ range: ClosedRange<Int>) throws(OverrideError) -> Int? {
            let variable = "BIZRA_CONSENSUS_" + name
            guard let text = environment[variable] else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw OverrideError(variable: variable, value: text, expected: range)
            }
            return value
        }
        if let value = try override("ELECTION_TICKS", ConsensusConfig.electionTimeoutTicksRange) {
            electionTimeoutTicks = value
        }
        if let value = try override("HEARTBEAT_TICKS", 1...max(1, electionTimeoutTicks / 2)) {
            heartbeatIntervalTicks = value
        }
        if let value = try override("INFLIGHT_MESSAGES", ConsensusConfig.inflightMessagesRange) {
            inflightMessagesMax = value
        }
        if let value = try override("SNAPSHOT_ENTRIES", ConsensusConfig.snapshotEveryEntriesRange) {
            snapshotEveryEntries = UInt64(value)
        }
        if let value = try override("RETAINED_ENTRIES", 0...1_000_000) { retainedEntries = UInt64(value) }
        if let value = try override("REQUEST_TIMEOUT_MS", ConsensusConfig.requestTimeoutMillisRange) {
            requestTimeoutMillis = value
        }
        // An election timeout lowered by the environment below the file's heartbeat.
        heartbeatIntervalTicks = min(heartbeatIntervalTicks, max(1, electionTimeoutTicks / 2))
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
