/// Timing and limits of the consensus members (`bizra-consensus`): bus-config `consensus:`.
/// Every member of a cluster should use the same values. Raft counts time in ticks of 10 ms.
///
/// The defaults suit loopback and a LAN, where a round trip is well under a millisecond:
/// heartbeats every 2 ticks (20 ms) and an election timeout of 20 ticks, drawn from 200–400 ms,
/// so a dead leader is replaced in about 0.3–0.6 s. On slower networks keep the election
/// timeout at least ten round trips and the heartbeat well under half of it.
public struct ConsensusConfig: Sendable, Equatable {
    public var electionTimeoutTicks: Int
    public var heartbeatIntervalTicks: Int
    /// Append messages in flight to one follower; a full window makes entries wait and travel
    /// together (each message is a signed envelope).
    public var inflightMessages: Int
    /// Applied entries between snapshots of the key-value store (the WAL is compacted behind each).
    public var snapshotEveryEntries: Int
    /// A client request still unanswered after this long ends `unknown` (writes) or `failed` (reads).
    public var requestTimeoutMillis: Int

    public init(
        electionTimeoutTicks: Int, heartbeatIntervalTicks: Int, inflightMessages: Int, snapshotEveryEntries: Int,
        requestTimeoutMillis: Int
    ) {
        self.electionTimeoutTicks = electionTimeoutTicks
        self.heartbeatIntervalTicks = heartbeatIntervalTicks
        self.inflightMessages = inflightMessages
        self.snapshotEveryEntries = snapshotEveryEntries
        self.requestTimeoutMillis = requestTimeoutMillis
    }

    /// The values used for every key the file leaves out.
    public static let defaults = ConsensusConfig(
        electionTimeoutTicks: 20, heartbeatIntervalTicks: 2, inflightMessages: 4, snapshotEveryEntries: 10_000,
        requestTimeoutMillis: 5_000)
    public static let electionTimeoutTicksRange = 5...6_000
    public static let inflightMessagesRange = 1...256
    public static let snapshotEveryEntriesRange = 10...10_000_000
    public static let requestTimeoutMillisRange = 100...600_000
    static let keys = [
        "electionTimeoutTicks", "heartbeatIntervalTicks", "inflightMessages", "snapshotEveryEntries",
        "requestTimeoutMillis",
    ]

    static func read(_ node: ConfigNode) throws(ConfigError) -> ConsensusConfig {
        let map = try node.mapping(allowed: keys)
        return ConsensusConfig(
            electionTimeoutTicks: try map.optional("electionTimeoutTicks")?.int() ?? defaults.electionTimeoutTicks,
            heartbeatIntervalTicks: try map.optional("heartbeatIntervalTicks")?.int()
                ?? defaults.heartbeatIntervalTicks,
            inflightMessages: try map.optional("inflightMessages")?.int() ?? defaults.inflightMessages,
            snapshotEveryEntries: try map.optional("snapshotEveryEntries")?.int() ?? defaults.snapshotEveryEntries,
            requestTimeoutMillis: try map.optional("requestTimeoutMillis")?.int() ?? defaults.requestTimeoutMillis)
    }

    func validate(_ check: Check) throws(ConfigError) {
        try check.range(
            electionTimeoutTicks, Self.electionTimeoutTicksRange, key: "electionTimeoutTicks",
            fix: "write 20 (200–400 ms with 10 ms ticks) or at least ten network round trips")
        let heartbeatMax = electionTimeoutTicks / 2
        try check.range(
            heartbeatIntervalTicks, 1...heartbeatMax, key: "heartbeatIntervalTicks",
            fix: "write at most half of electionTimeoutTicks (\(heartbeatMax)); 2 suits the default")
        try check.range(inflightMessages, Self.inflightMessagesRange, key: "inflightMessages", fix: "write 4")
        try check.range(
            snapshotEveryEntries, Self.snapshotEveryEntriesRange, key: "snapshotEveryEntries", fix: "write 10000")
        try check.range(
            requestTimeoutMillis, Self.requestTimeoutMillisRange, key: "requestTimeoutMillis", fix: "write 5000")
    }
}
