import BizraCrypto
import BizraSim

@testable import BizraRaft

/// Interprets the commands of a scenario transcript against a `RaftMemoryCluster` and prints
/// what each one caused. See Tests/BizraRaftTests/Scenarios/README.txt for the command list.
///
/// Every command prints, node by node in the order they acted: events, a `role term vote
/// leader` line when one of those changed, a `commit applied` line when one of those moved,
/// writes not yet durable (nodes with stalled storage only), the messages sent, proposal
/// outcomes and read results. Storage is synchronous unless a node is stalled (`stall`, or
/// `asyncStorage` in `cluster`): then its writes wait for `sync`.
struct RaftScenarioRunner {
    struct ScriptError: Error, CustomStringConvertible {
        var description: String
    }

    typealias F = RaftScenarioFormat

    /// Bounds on the loops of `campaign`, `stabilize` and automatic syncing.
    static let campaignTicksMax = 1_000
    static let stabilizeRoundsMax = 1_000
    static let settleSyncsMax = 100

    var cluster: RaftMemoryCluster!
    var bootstrap = Raft.Configuration(weights: [:])
    var template = Raft.Settings(id: 1)
    /// Nodes whose writes become durable only on `sync`.
    var stalled: Set<Raft.NodeID> = []
    var nextSequence: [Raft.NodeID: UInt64] = [:]
    /// `run` prints no messages.
    var quiet = false
    var output: [String] = []
    /// Messages lost on cut links or to stopped nodes during the current command, by link.
    var dropped: [String: Int] = [:]

    // MARK: Commands

    mutating func perform(_ step: RaftScenarioScript.Step) throws(ScriptError) -> [String] {
        output = []
        dropped = [:]
        var arguments = try Arguments(step.command)
        if arguments.command != "cluster", cluster == nil { throw ScriptError(description: "start with `cluster`") }
        switch arguments.command {
        case "cluster": try startCluster(&arguments)
        case "add-node": try addNode(&arguments)
        case "tick": try tick(&arguments)
        case "campaign": try campaign(&arguments)
        case "elect": try elect(&arguments)
        case "deliver": try deliver(&arguments)
        case "stabilize": try stabilize(&arguments)
        case "drop": try drop(&arguments)
        case "run": try run(&arguments)
        case "isolate", "partition", "heal", "cut": try network(&arguments)
        case "propose": try propose(&arguments)
        case "read": try read(&arguments)
        case "conf-change": try confChange(&arguments)
        case "transfer": try transfer(&arguments)
        case "compact": try compact(&arguments)
        case "crash", "restart": try crashOrRestart(&arguments)
        case "corrupt": try corrupt(&arguments)
        case "sync", "stall", "unstall": try storage(&arguments)
        case "status", "config", "progress", "log", "outcomes", "reads", "events", "queue", "merkle":
            try show(&arguments)
        case "tamper": try tamper(&arguments)
        case "raw-deliver": try rawDeliver(&arguments)
        default: throw ScriptError(description: "unknown command \(arguments.command)")
        }
        try arguments.checkAllUsed()
        for link in dropped.keys.sorted() {
            output.append("(\(dropped[link]!) message\(dropped[link]! == 1 ? "" : "s") \(link) lost)")
        }
        return output.isEmpty ? ["ok"] : output
    }

    mutating func startCluster(_ arguments: inout Arguments) throws(ScriptError) {
        let voters = try arguments.weights("voters") ?? [1: 1, 2: 1, 3: 1]
        let learners = try arguments.ids("learners") ?? []
        var settings = Raft.Settings(id: 1)
        try arguments.set(&settings.preVote, "preVote")
        try arguments.set(&settings.checkQuorum, "checkQuorum")
        try arguments.set(&settings.electionTimeoutTicks, "electionTimeout")
        try arguments.set(&settings.heartbeatIntervalTicks, "heartbeat")
        try arguments.set(&settings.messageEntriesBytesMax, "messageBytes")
        try arguments.set(&settings.inflightMessagesMax, "inflight")
        try arguments.set(&settings.inflightBytesMax, "inflightBytes")
        try arguments.set(&settings.uncommittedBytesMax, "uncommittedBytes")
        try arguments.set(&settings.storageStallTicksMax, "stallTicks")
        try arguments.set(&settings.snapshotChunkBytes, "chunkBytes")
        try arguments.set(&settings.snapshotChunkTimeoutTicks, "chunkTimeout")
        try arguments.set(&settings.snapshotBytesMax, "snapshotBytesMax")
        try arguments.set(&settings.proposalTimeoutTicks, "proposalTimeout")
        try arguments.set(&settings.forwardToLeader, "forward")
        if let mode = arguments.string("readMode") {
            if mode == "readIndex" {
                settings.readMode = .readIndex
            } else if mode.hasPrefix("lease:"), let drift = Int(mode.dropFirst(6)) {
                settings.readMode = .lease(driftBoundTicks: drift)
            } else {
                throw ScriptError(description: "readMode is readIndex or lease:<drift ticks>")
            }
        }
        if let problem = settings.problem { throw ScriptError(description: "settings: \(problem)") }
        template = settings
        bootstrap = Raft.Configuration(weights: voters, learners: learners)
        cluster = RaftMemoryCluster(configuration: bootstrap, configure: configure)
        cluster.asyncStorage = true  // durability is driven here: see `settle`
        if let async = arguments.string("asyncStorage") {
            stalled = async == "true" ? Set(cluster.ids) : Set(try Arguments.ids(async))
        }
        output.append(bootstrap.description)
        let timeouts = cluster.ids.map { "\($0)=\(cluster.nodes[$0]!.randomizedElectionTimeout)" }
        output.append("election timeouts: " + timeouts.joined(separator: " "))
    }

    var configure: (inout Raft.Settings) -> Void {
        let template = template
        return { settings in
            let (id, seed) = (settings.id, settings.randomSeed)
            settings = template
            settings.id = id
            settings.randomSeed = seed
        }
    }

    mutating func addNode(_ arguments: inout Arguments) throws(ScriptError) {
        let id = try arguments.node()
        let (configuration, configure) = (bootstrap, configure)
        act(id) { cluster in cluster.addNode(id, configuration: configuration, configure: configure) }
    }

    mutating func tick(_ arguments: inout Arguments) throws(ScriptError) {
        let count = try arguments.positionalInt(default: 1)
        let targets = try arguments.ids("nodes") ?? cluster.ids
        for _ in 0..<count {
            for id in targets where cluster.nodes[id] != nil { act(id) { $0.tick(id) } }
        }
    }

    /// Ticks one node (and no other) until it starts a campaign.
    mutating func campaign(_ arguments: inout Arguments) throws(ScriptError) {
        let id = try arguments.node()
        var ticks = 0
        act(id) { cluster in
            let eventsBefore = cluster.events[id, default: []].count
            while ticks < Self.campaignTicksMax {
                cluster.tick(id)
                ticks += 1
                let started = cluster.events[id, default: []].dropFirst(eventsBefore).contains {
                    if case .campaignStarted = $0 { return true }
                    return false
                }
                if started { return ["\(id): campaigns after \(ticks) ticks"] }
            }
            return ["\(id): no campaign after \(ticks) ticks"]
        }
    }

    /// `campaign`, then delivery rounds until the node leads (its no-op is sent, not delivered).
    mutating func elect(_ arguments: inout Arguments) throws(ScriptError) {
        let id = try arguments.node()
        arguments.positional.insert(String(id), at: 0)
        try campaign(&arguments)
        var rounds = 0
        while cluster.nodes[id]?.role != .leader, !cluster.queue.isEmpty, rounds < Self.stabilizeRoundsMax {
            deliverRound(MessageFilter())
            rounds += 1
        }
        guard cluster.nodes[id]?.role == .leader else { throw ScriptError(description: "\(id) did not win") }
    }

    mutating func deliver(_ arguments: inout Arguments) throws(ScriptError) {
        let filter = try MessageFilter(&arguments)
        deliverRound(filter)
    }

    /// Delivers the queued messages that match (not those sent meanwhile), in queue order.
    mutating func deliverRound(_ filter: MessageFilter) {
        var taken: [Raft.Message] = []
        var kept: [Raft.Message] = []
        for message in cluster.queue {
            if taken.count < filter.countMax, filter.matches(message) {
                taken.append(message)
            } else {
                kept.append(message)
            }
        }
        cluster.queue = kept
        for message in filter.reversed ? taken.reversed() : taken { deliverNow(message) }
    }

    mutating func deliverNow(_ message: Raft.Message) {
        guard cluster.nodes[message.to] != nil,
            !cluster.cut.contains(.init(from: message.from, to: message.to))
        else {
            dropped["\(message.from)->\(message.to)", default: 0] += 1
            return
        }
        let before = (output.count, cluster.queue.count)
        act(message.to) { $0.deliver(message) }
        let type = F.messageType(message.body)
        if output.count == before.0, cluster.queue.count == before.1, type == "vote" || type == "pre-vote" {
            output.append("\(message.to): ignores \(F.message(message))")
        }
    }

    mutating func stabilize(_ arguments: inout Arguments) throws(ScriptError) {
        try stabilizeAll()
    }

    mutating func stabilizeAll() throws(ScriptError) {
        var rounds = 0
        while !cluster.queue.isEmpty {
            guard rounds < Self.stabilizeRoundsMax else {
                throw ScriptError(description: "no quiescence after \(rounds) delivery rounds")
            }
            deliverRound(MessageFilter())
            rounds += 1
        }
    }

    mutating func drop(_ arguments: inout Arguments) throws(ScriptError) {
        let filter = try MessageFilter(&arguments)
        var kept: [Raft.Message] = []
        var count = 0
        for message in cluster.queue {
            if count < filter.countMax, filter.matches(message) {
                output.append("dropped \(F.message(message))")
                count += 1
            } else {
                kept.append(message)
            }
        }
        cluster.queue = kept
    }

    /// `run N`: N times, tick every running node once and deliver until quiet; no messages shown.
    mutating func run(_ arguments: inout Arguments) throws(ScriptError) {
        let count = try arguments.positionalInt(default: 1)
        let targets = try arguments.ids("nodes")
        quiet = true
        defer { quiet = false }
        for _ in 0..<count {
            for id in targets ?? cluster.ids where cluster.nodes[id] != nil { act(id) { $0.tick(id) } }
            try stabilizeAll()
        }
    }

    mutating func network(_ arguments: inout Arguments) throws(ScriptError) {
        switch arguments.command {
        case "isolate": cluster.isolate(try arguments.node())
        case "partition":
            guard let spec = arguments.positional.first else { throw ScriptError(description: "partition 1,2/3") }
            arguments.positional.removeFirst()
            var groups: [[Raft.NodeID]] = []
            for group in spec.split(separator: "/") { groups.append(try Arguments.ids(String(group))) }
            cluster.partition(groups)
        case "cut":
            let from = try arguments.id("from")
            let to = try arguments.id("to")
            cluster.cut.insert(.init(from: from, to: to))
        default: cluster.heal()
        }
    }

    mutating func propose(_ arguments: inout Arguments) throws(ScriptError) {
        let id = try arguments.node()
        let text = arguments.positional.isEmpty ? "x" : arguments.positional.removeFirst()
        let count = try arguments.int("count") ?? 1
        let size = try arguments.int("size")
        for _ in 0..<count {
            let payload = size.map { [UInt8](repeating: UInt8(ascii: "a"), count: $0) } ?? Array(text.utf8)
            let proposal = nextProposal(id)
            act(id) { cluster in
                let result = cluster.nodes[id]!.propose(payload, id: proposal)
                return [Self.describe(result, proposal: proposal, at: id)]
            }
        }
    }

    mutating func read(_ arguments: inout Arguments) throws(ScriptError) {
        let id = try arguments.node()
        let context = UInt64(try arguments.positionalInt(default: 1))
        act(id) { $0.nodes[id]!.readIndex(context: context) }
    }

    mutating func confChange(_ arguments: inout Arguments) throws(ScriptError) {
        let id = try arguments.node()
        let change: Raft.ConfigChange
        if arguments.positional.first == "leave-joint" {
            arguments.positional.removeFirst()
            change = .leaveJoint
        } else {
            change = .change(try arguments.configSteps())
        }
        let proposal = nextProposal(id)
        act(id) { cluster in
            let result = cluster.nodes[id]!.proposeConfigChange(change, id: proposal)
            return [Self.describe(result, proposal: proposal, at: id)]
        }
    }

    mutating func transfer(_ arguments: inout Arguments) throws(ScriptError) {
        let id = try arguments.node()
        let target = try arguments.id("to")
        act(id) { cluster in
            guard let refusal = cluster.nodes[id]!.transferLeadership(to: target) else { return [] }
            return ["\(id): transfer refused: \(refusal)"]
        }
    }

    /// Snapshots the applied state (`data`, default `state@<applied>`) and compacts the log;
    /// the snapshot is made durable at once, as a caller must before it drops its WAL.
    mutating func compact(_ arguments: inout Arguments) throws(ScriptError) {
        let id = try arguments.node()
        let retain = UInt64(try arguments.int("retain") ?? 0)
        let text = arguments.string("data")
        act(id) { cluster in
            let applied = cluster.nodes[id]!.status.applied
            let data = Array((text ?? "state@\(applied)").utf8)
            let snapshot = cluster.nodes[id]!.compact(data: data, retainingEntries: retain)
            cluster.storage[id]!.snapshot = snapshot
            cluster.storage[id]!.entries.removeAll { $0.index <= snapshot.metadata.index }
            return ["\(id): snapshot at \(snapshot.metadata.index)/\(snapshot.metadata.term), \(data.count) bytes"]
        }
    }

    mutating func crashOrRestart(_ arguments: inout Arguments) throws(ScriptError) {
        let id = try arguments.node()
        if arguments.command == "crash" {
            let lost = cluster.storage[id]?.unsynced.map { "#\($0.token)" } ?? []
            cluster.crash(id)
            output.append("\(id): crashed" + (lost.isEmpty ? "" : "; writes \(lost.joined(separator: " ")) lost"))
            return
        }
        act(id) { cluster in
            if let error = cluster.restart(id) { return ["\(id): restart refused: \(error)"] }
            let disk = cluster.storage[id]!
            let entries = disk.entries.isEmpty ? "none" : "\(disk.entries.first!.index)..\(disk.entries.last!.index)"
            return ["\(id): restarted from snapshot \(disk.snapshot.metadata.index), entries \(entries)"]
        }
    }

    /// `corrupt ID index=N`: flips the first payload byte of the durable entry N (a disk error).
    mutating func corrupt(_ arguments: inout Arguments) throws(ScriptError) {
        let id = try arguments.node()
        let index = Raft.Index(try arguments.int("index") ?? 0)
        guard let position = cluster.storage[id]?.entries.firstIndex(where: { $0.index == index }),
            !cluster.storage[id]!.entries[position].payload.isEmpty
        else { throw ScriptError(description: "node \(id) stores no entry \(index) with a payload") }
        cluster.storage[id]!.entries[position].payload[0] ^= 0xFF
        output.append("\(id): entry \(index) corrupted on disk")
    }

    mutating func storage(_ arguments: inout Arguments) throws(ScriptError) {
        let id = try arguments.node()
        switch arguments.command {
        case "stall":
            stalled.insert(id)
        case "unstall":
            stalled.remove(id)
            act(id) { _ in }
        default:
            act(id) { cluster in
                guard let last = cluster.storage[id]?.unsynced.last else { return ["\(id): nothing to sync"] }
                cluster.sync(id)
                return ["\(id): durable through #\(last.token)"]
            }
        }
    }

    // MARK: Acting and reporting

    /// Runs `body` as `id`'s action (one input and what the node did about it), makes its
    /// writes durable unless it is stalled, and prints what changed.
    mutating func act(_ id: Raft.NodeID, _ body: (inout RaftMemoryCluster) -> [String]) {
        let before = Observation(cluster, id)
        let lines = body(&cluster)
        cluster.process(id)
        settle(id)
        output += lines
        report(id, since: before)
    }

    mutating func act(_ id: Raft.NodeID, _ body: (inout RaftMemoryCluster) -> Void) {
        act(id) { cluster -> [String] in
            body(&cluster)
            return []
        }
    }

    mutating func settle(_ id: Raft.NodeID) {
        guard !stalled.contains(id) else { return }
        var rounds = 0
        while cluster.nodes[id] != nil, cluster.storage[id]?.unsynced.isEmpty == false, rounds < Self.settleSyncsMax {
            cluster.sync(id)
            rounds += 1
        }
    }

    struct Observation {
        var status: Raft.Status?
        var events: Int
        var outcomes: Int
        var reads: Int
        var queue: Int
        var unsynced: [UInt64]
        var restored: [UInt8]?

        init(_ cluster: RaftMemoryCluster, _ id: Raft.NodeID) {
            status = cluster.nodes[id]?.status
            events = cluster.events[id, default: []].count
            outcomes = cluster.outcomes[id, default: []].count
            reads = cluster.reads[id, default: []].count
            queue = cluster.queue.count
            unsynced = cluster.storage[id]?.unsynced.map(\.token) ?? []
            restored = cluster.restoredSnapshot[id]
        }
    }

    mutating func report(_ id: Raft.NodeID, since before: Observation) {
        let after = Observation(cluster, id)
        for event in cluster.events[id, default: []].dropFirst(before.events) {
            output.append("\(id): \(F.event(event))")
        }
        if let status = after.status {
            let old = before.status
            if old?.role != status.role || old?.term != status.term || old?.vote != status.vote
                || old?.leader != status.leader
            {
                output.append(Self.stateLine(status))
            }
            if old?.commit != status.commit || old?.applied != status.applied {
                output.append("\(id): commit=\(status.commit) applied=\(status.applied)")
            }
        }
        if after.restored != before.restored, let data = after.restored, after.status != nil {
            output.append("\(id): state machine restored from snapshot: \(F.text(data))")
        }
        for write in cluster.storage[id]?.unsynced ?? [] where !before.unsynced.contains(write.token) {
            output.append("\(id): \(F.write(write)) (not durable yet)")
        }
        if !quiet {
            for message in cluster.queue.dropFirst(before.queue) { output.append(F.message(message)) }
        }
        for outcome in cluster.outcomes[id, default: []].dropFirst(before.outcomes) {
            output.append("\(id): \(F.outcome(outcome))")
        }
        for read in cluster.reads[id, default: []].dropFirst(before.reads) { output.append("\(id): \(F.read(read))") }
    }

    static func stateLine(_ status: Raft.Status) -> String {
        let vote = status.vote.map(String.init) ?? "-"
        let leader = status.leader.map(String.init) ?? "-"
        return "\(status.id): \(status.role.rawValue) term=\(status.term) vote=\(vote) leader=\(leader)"
    }

    static func describe(
        _ result: Result<Raft.ProposalAcceptance, Raft.ProposalRefusal>, proposal: Raft.ProposalID, at id: Raft.NodeID
    ) -> String {
        switch result {
        case .success(.appended(let index, let term)): return "\(id): proposal \(proposal) appended at \(index)/\(term)"
        case .success(.forwarded(let leader)): return "\(id): proposal \(proposal) forwarded to \(leader)"
        case .failure(let refusal): return "\(id): proposal \(proposal) refused: \(refusal)"
        }
    }

    mutating func nextProposal(_ id: Raft.NodeID) -> Raft.ProposalID {
        let sequence = nextSequence[id, default: 0] + 1
        nextSequence[id] = sequence
        return Raft.ProposalID(node: id, sequence: sequence)
    }
}
