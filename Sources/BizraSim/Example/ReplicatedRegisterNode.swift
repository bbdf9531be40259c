/// One node of `ReplicatedRegister`: the leader's and the backups' state and input handlers.
package struct ReplicatedRegisterNode: SimulatedNode {
    package typealias Message = ReplicatedRegister.Message
    package typealias Request = ReplicatedRegister.Request
    package typealias Response = ReplicatedRegister.Response
    package typealias Record = ReplicatedRegister.Entry
    package typealias Config = ReplicatedRegister.Config
    package typealias Entry = ReplicatedRegister.Entry

    package let id: NodeID
    let clusterSize: Int
    let config: Config
    /// The log: entries whose writes started; `log[0..<durable]` are on disk.
    package internal(set) var log: [Entry]
    package internal(set) var durable: Int
    /// Values after applying `log[0..<commitIndex]`; what reads see.
    package internal(set) var committed: [Int64]
    package internal(set) var commitIndex: Int
    /// Leader only: values after the whole log, against which CAS is decided.
    var tentative: [Int64]
    /// Leader only: per node, the durable log length it acknowledged.
    var matchIndex: [Int]
    /// Leader only: how many nodes have `matchIndex > commitIndex`; kept so that an ack costs
    /// O(1) and a commit O(n), instead of a sort of `matchIndex` per ack.
    var aheadOfCommit = 0
    /// Leader only: requests to answer once `commitIndex` reaches their log index, in log order.
    var waiting: [(index: Int, request: RequestID, response: Response)] = []
    var waitingHead = 0

    var isLeader: Bool { id == ReplicatedRegister.leader }

    package init(
        id: NodeID, clusterSize: Int, config: Config, recovered: RecoveredDisk<Entry>, context: inout Context
    ) {
        self.id = id
        self.clusterSize = clusterSize
        self.config = config
        log = recovered.records
        durable = log.count
        committed = Array(repeating: 0, count: config.keyCount)
        commitIndex = 0
        tentative = committed
        matchIndex = Array(repeating: 0, count: clusterSize)
        if recovered.tornTailDropped { context.sometimes("register.recoveredFromTornWrite") }
        if isLeader {
            if !log.isEmpty { context.sometimes("register.leaderRebootedWithLog") }
            for entry in log where entry.key >= 0 { committed[Int(entry.key)] = entry.value }
            commitIndex = log.count
            tentative = committed
            matchIndex[id] = durable
            context.setTimer(0, after: config.tickInterval)
        }
    }

    package mutating func receive(_ message: Message, from sender: NodeID, context: inout Context) {
        switch message {
        case .append(let first, let entries, let commit):
            guard !isLeader else { return }
            appendFromLeader(first: first, entries: entries, commit: commit, context: &context)
        case .ack(let durableLength):
            guard isLeader else { return }
            setMatch(sender, min(durableLength, log.count))
            advanceCommit(context: &context)
        }
    }

    package mutating func timerFired(_ timer: Int, context: inout Context) {
        guard isLeader else { return }
        for backup in 0..<clusterSize where backup != id { replicate(to: backup, context: &context) }
        context.setTimer(0, after: config.tickInterval)
    }

    package mutating func persisted(token: UInt64, context: inout Context) {
        durable = Int(token)
        if isLeader {
            setMatch(id, durable)
            if config.bug != .sendBeforePersist { broadcastNewest(durable, context: &context) }
            advanceCommit(context: &context)
        } else {
            context.send(.ack(durable: durable), to: ReplicatedRegister.leader)
        }
    }
}
