import BizraCrypto
import BizraSim

@testable import BizraRaft

extension RaftScenarioRunner {
    // MARK: Showing state

    mutating func show(_ arguments: inout Arguments) throws(ScriptError) {
        var targets: [Raft.NodeID] = []
        while !arguments.positional.isEmpty { targets.append(try arguments.node()) }
        if targets.isEmpty { targets = cluster.ids }
        switch arguments.command {
        case "queue":
            output += cluster.queue.map(F.message)
        case "merkle":
            showMerkle(targets)
        default:
            for id in targets { showNode(id, what: arguments.command) }
        }
    }

    private mutating func showNode(_ id: Raft.NodeID, what: String) {
        guard let node = cluster.nodes[id] else {
            output.append("\(id): down")
            return
        }
        let status = node.status
        switch what {
        case "status":
            var line = "\(id): \(status.role.rawValue) term=\(status.term) vote=\(status.vote.map(String.init) ?? "-")"
            line += " leader=\(status.leader.map(String.init) ?? "-") commit=\(status.commit) applied=\(status.applied)"
            line += " last=\(status.lastIndex)"
            if status.firstIndex > 1 { line += " first=\(status.firstIndex)" }
            if status.persisted < status.lastIndex { line += " persisted=\(status.persisted)" }
            if let transferee = status.transferee { line += " transferee=\(transferee)" }
            output.append(line)
        case "config":
            output.append("\(id): \(status.configuration)")
        case "progress":
            showProgress(node)
        case "log":
            showLog(node)
        case "outcomes":
            output += cluster.outcomes[id, default: []].map { "\(id): \(F.outcome($0))" }
        case "reads":
            output += cluster.reads[id, default: []].map { "\(id): \(F.read($0))" }
        default:
            output += cluster.events[id, default: []].map { "\(id): \(F.event($0))" }
        }
    }

    private mutating func showProgress(_ node: Raft.Node) {
        guard node.role == .leader else {
            output.append("\(node.id): not the leader")
            return
        }
        for peer in node.progress.keys.sorted() {
            let state = node.progress[peer]!
            var line = "\(node.id)->\(peer) \(state.state.rawValue) match=\(state.match) next=\(state.next)"
            line += " inflight=\(state.inflights.count)"
            if state.isLearner { line += " learner" }
            if state.state == .snapshot { line += " snapshot=\(state.snapshotIndex) offset=\(state.snapshotOffset)" }
            if state.state == .probe, state.probeSent { line += " paused" }
            output.append(line)
        }
    }

    private mutating func showLog(_ node: Raft.Node) {
        let status = node.status
        let headIndex = status.firstIndex - 1
        let head = node.entryHash(at: headIndex).map(F.hashPrefix) ?? "?"
        output.append(
            "\(node.id): snapshot \(headIndex)/\(node.log.term(at: headIndex) ?? 0) head=\(head)"
                + " commit=\(status.commit) applied=\(status.applied)")
        guard status.lastIndex >= status.firstIndex else { return }
        for index in status.firstIndex...status.lastIndex {
            let entry = node.entry(at: index)!
            output.append("\(node.id): \(F.entry(entry)) origin=\(entry.origin) hash=\(F.hashPrefix(entry.hash))")
        }
    }

    /// Groups nodes by Merkle root; roots are named by order of appearance (not printed as hex,
    /// so that the transcripts do not depend on the tree's exact hashing).
    private mutating func showMerkle(_ targets: [Raft.NodeID]) {
        var roots: [Digest256] = []
        var groups: [[String]] = []
        for id in targets {
            guard let status = cluster.nodes[id]?.status else { continue }
            let root = status.merkleRoot
            let number = roots.firstIndex(of: root) ?? roots.count
            if number == roots.count {
                roots.append(root)
                groups.append(["size=\(status.merkleSize)"])
            }
            groups[number].append(String(id))
        }
        for (number, group) in groups.enumerated() {
            output.append("root #\(number + 1) \(group[0]): nodes \(group.dropFirst().joined(separator: " "))")
        }
    }

    // MARK: Forging and tampering

    /// `tamper from= to= type=app|snap …`: changes the first matching queued message in place
    /// (see `mutate`).
    mutating func tamper(_ arguments: inout Arguments) throws(ScriptError) {
        var filter = try MessageFilter(&arguments)
        filter.countMax = 1
        guard let position = cluster.queue.firstIndex(where: filter.matches) else {
            throw ScriptError(description: "tamper: no queued message matches")
        }
        var message = cluster.queue[position]
        try Self.mutate(&message, &arguments)
        cluster.queue[position] = message
        output.append("tampered \(F.message(message))")
    }

    /// `raw-deliver from=X to=Y prev=P [count=N] [commit=C] [term=T] …`: builds an append from
    /// X's log (the entries after P, at most N, X's commit and term unless given), applies the
    /// `mutate` options, and delivers it to Y at once, as a forger on the link would.
    mutating func rawDeliver(_ arguments: inout Arguments) throws(ScriptError) {
        let from = try arguments.id("from")
        let to = try arguments.id("to")
        guard let sender = cluster.nodes[from] else { throw ScriptError(description: "node \(from) is down") }
        guard let prev = try arguments.int("prev").map({ Raft.Index($0) }),
            let prevTerm = sender.log.term(at: prev), let prevHash = sender.log.hash(at: prev)
        else { throw ScriptError(description: "raw-deliver needs prev=<index the sender holds>") }
        let count = try arguments.int("count") ?? Int.max
        let entries = Array(sender.log.entries(from: prev + 1, bytesMax: Int.max).prefix(count))
        let commit = try arguments.int("commit").map { Raft.Index($0) } ?? sender.status.commit
        let term = try arguments.int("term").map { Raft.Term($0) } ?? sender.term
        let append = Raft.Append(
            prevIndex: prev, prevTerm: prevTerm, prevHash: prevHash, entries: entries, commit: commit)
        var message = Raft.Message(from: from, to: to, term: term, body: .append(append))
        try Self.mutate(&message, &arguments)
        output.append("forged \(F.message(message))")
        deliverNow(message)
    }

    /// The changes a forger makes:
    /// - appends: `entry=I payload=S` replaces entry I's payload and keeps its hash (so it no
    ///   longer links), with `rehash=true` recomputes the hashes from I on (a forger who knows
    ///   the chain); `prev-hash=zero` replaces the hash of the entry before the batch;
    /// - snapshot chunks: `flip=N` inverts byte N of the chunk's data.
    static func mutate(_ message: inout Raft.Message, _ arguments: inout Arguments) throws(ScriptError) {
        switch message.body {
        case .append(var append):
            if arguments.string("prev-hash") == "zero" { append.prevHash = .zero }
            if let target = try arguments.int("entry").map({ Raft.Index($0) }) {
                guard let position = append.entries.firstIndex(where: { $0.index == target }) else {
                    throw ScriptError(description: "the append does not carry entry \(target)")
                }
                append.entries[position].payload = Array((arguments.string("payload") ?? "forged").utf8)
                if arguments.string("rehash") == "true" {
                    var previous = position == 0 ? append.prevHash : append.entries[position - 1].hash
                    for rest in position..<append.entries.count {
                        let entry = append.entries[rest]
                        append.entries[rest] = Raft.Entry(
                            term: entry.term, index: entry.index, kind: entry.kind, origin: entry.origin,
                            payload: entry.payload, previous: previous)
                        previous = append.entries[rest].hash
                    }
                }
            }
            message.body = .append(append)
        case .snapshotChunk(var chunk):
            guard let flip = try arguments.int("flip"), flip < chunk.data.count else {
                throw ScriptError(description: "tamper a snapshot chunk with flip=<byte offset in the chunk>")
            }
            chunk.data[flip] ^= 0xFF
            message.body = .snapshotChunk(chunk)
        default:
            throw ScriptError(description: "only appends and snapshot chunks can be tampered with")
        }
    }
}
