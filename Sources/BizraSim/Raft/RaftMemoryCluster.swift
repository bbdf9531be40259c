import BizraCrypto
import BizraRaft

/// A synchronous, in-memory Raft cluster: the harness of the scenario transcripts, the unit tests
/// and the core's throughput benchmark.
///
/// Unlike `Simulator`, nothing here is timed or random: messages wait in one FIFO queue until a
/// test delivers them, ticks happen when a test says so, and storage writes become durable either
/// at once (`asyncStorage` off) or when a test says so. That makes every step of a scenario
/// explicit, which is what a transcript that reads like a specification needs.
package struct RaftMemoryCluster {
    /// What a node's storage holds: the durable state, and writes not yet durable.
    package struct Storage {
        package var hardState = Raft.HardState()
        package var snapshot: Raft.Snapshot
        package var entries: [Raft.Entry] = []
        /// Writes handed out but not durable (only with `asyncStorage`), oldest first.
        package var unsynced: [Raft.StorageWrite] = []

        /// Applies a write to the durable image.
        mutating func apply(_ write: Raft.StorageWrite) {
            if let hardState = write.hardState { self.hardState = hardState }
            if let snapshot = write.snapshot {
                self.snapshot = snapshot
                entries.removeAll()
            }
            if let first = write.entries.first {
                // Stored entries are contiguous after the snapshot: truncate by position (a scan
                // of the whole log per write made the core benchmark quadratic).
                let kept = first.index > snapshot.metadata.index ? Int(first.index - snapshot.metadata.index - 1) : 0
                if kept < entries.count { entries.removeSubrange(kept...) }
                entries.append(contentsOf: write.entries)
            }
        }

        var recovered: Raft.Recovered { Raft.Recovered(hardState: hardState, snapshot: snapshot, entries: entries) }
    }

    package private(set) var ids: [Raft.NodeID]
    package var nodes: [Raft.NodeID: Raft.Node] = [:]
    package var storage: [Raft.NodeID: Storage] = [:]
    package var settings: [Raft.NodeID: Raft.Settings] = [:]
    /// Messages sent and not yet delivered, in send order.
    package var queue: [Raft.Message] = []
    /// Pairs (from, to) whose messages are dropped.
    package var cut: Set<Link> = []
    /// When on, writes wait for `sync(_:)`; when off, every write is durable at once.
    package var asyncStorage = false
    /// Keep every applied entry per node (tests); off for benchmarks.
    package var recordApplied = true
    package var applied: [Raft.NodeID: [Raft.Entry]] = [:]
    /// The state machine image a node restored from its last snapshot (its data bytes).
    package var restoredSnapshot: [Raft.NodeID: [UInt8]] = [:]
    package var reads: [Raft.NodeID: [Raft.ReadResult]] = [:]
    package var outcomes: [Raft.NodeID: [Raft.ProposalOutcome]] = [:]
    package var events: [Raft.NodeID: [Raft.Event]] = [:]
    package private(set) var messagesSent = 0
    package private(set) var bytesSent = 0
    package private(set) var messagesDropped = 0
    package private(set) var appliedCount: [Raft.NodeID: Int] = [:]

    package struct Link: Hashable, Sendable {
        package var from: Raft.NodeID
        package var to: Raft.NodeID

        package init(from: Raft.NodeID, to: Raft.NodeID) {
            self.from = from
            self.to = to
        }
    }

    /// A cluster of `configuration`'s members (voters and learners), each bootstrapped from it.
    package init(configuration: Raft.Configuration, configure: (inout Raft.Settings) -> Void = { _ in }) {
        ids = []
        for id in configuration.members { addNode(id, configuration: configuration, configure: configure) }
    }

    /// Adds a node that is not (yet) a member, started empty with `configuration` as its idea of
    /// the cluster, as a new server joining is.
    package mutating func addNode(
        _ id: Raft.NodeID, configuration: Raft.Configuration, configure: (inout Raft.Settings) -> Void = { _ in }
    ) {
        var nodeSettings = Raft.Settings(id: id, randomSeed: id)
        configure(&nodeSettings)
        settings[id] = nodeSettings
        storage[id] = Storage(snapshot: .bootstrap(configuration))
        nodes[id] = try! Raft.Node(settings: nodeSettings, recovered: storage[id]!.recovered)
        appliedCount[id] = 0
        if !ids.contains(id) { ids = (ids + [id]).sorted() }
    }

    // MARK: Driving

    /// Collects every node's `Ready` (repeatedly, until none has one) and carries it out.
    package mutating func process(_ id: Raft.NodeID) {
        // The node is moved out while its Readys are carried out: reading it through the
        // dictionary (`nodes[id]!.hasReady`) copied the whole core on every call, a quarter of
        // the core benchmark's time.
        guard var node = nodes.removeValue(forKey: id) else { return }
        drain(&node, id)
        nodes[id] = consume node
    }

    private mutating func drain(_ node: inout Raft.Node, _ id: Raft.NodeID) {
        while node.hasReady {
            let ready = node.takeReady()
            carryOut(ready, at: id, node: &node)
        }
    }

    package mutating func processAll() {
        for id in ids { process(id) }
    }

    private mutating func carryOut(_ ready: Raft.Ready, at id: Raft.NodeID, node: inout Raft.Node) {
        if let write = ready.write {
            if asyncStorage {
                storage[id]!.unsynced.append(write)
            } else {
                storage[id]!.apply(write)
                node.persisted(token: write.token)
            }
        }
        for message in ready.messages {
            messagesSent += 1
            bytesSent += message.approximateBytes
            queue.append(message)
        }
        if let snapshot = ready.snapshotToApply {
            restoredSnapshot[id] = snapshot.data
            if recordApplied { applied[id] = [] }
        }
        appliedCount[id, default: 0] += ready.committedEntries.count
        if recordApplied, !ready.committedEntries.isEmpty { applied[id, default: []] += ready.committedEntries }
        if !ready.reads.isEmpty { reads[id, default: []] += ready.reads }
        if !ready.outcomes.isEmpty { outcomes[id, default: []] += ready.outcomes }
        if !ready.events.isEmpty { events[id, default: []] += ready.events }
    }

    /// Makes every unsynced write of `id` durable (in order) and tells the node.
    package mutating func sync(_ id: Raft.NodeID) {
        guard var disk = storage[id], !disk.unsynced.isEmpty else { return }
        let writes = disk.unsynced
        disk.unsynced.removeAll()
        for write in writes { disk.apply(write) }
        storage[id] = disk
        if let last = writes.last, nodes.index(forKey: id) != nil { nodes[id]!.persisted(token: last.token) }
        process(id)
    }

    /// Delivers queued messages (and those they cause) until none is left or `messagesMax`
    /// were delivered. Returns the number delivered.
    @discardableResult
    package mutating func deliverAll(messagesMax: Int = 1_000_000) -> Int {
        var delivered = 0
        var head = 0
        while head < queue.count, delivered < messagesMax {
            let message = queue[head]
            head += 1
            if head > 4_096 {
                queue.removeFirst(head)
                head = 0
            }
            if deliver(message) { delivered += 1 }
        }
        queue.removeFirst(head)
        return delivered
    }

    /// Delivers one message now (dropping it if its link is cut or its target is down).
    @discardableResult
    package mutating func deliver(_ message: Raft.Message) -> Bool {
        guard !cut.contains(Link(from: message.from, to: message.to)),
            var node = nodes.removeValue(forKey: message.to)
        else {
            messagesDropped += 1
            return false
        }
        node.step(message)
        drain(&node, message.to)
        nodes[message.to] = consume node
        return true
    }

    /// Ticks `id` once and carries out what follows (messages stay queued).
    package mutating func tick(_ id: Raft.NodeID) {
        guard nodes.index(forKey: id) != nil else { return }
        nodes[id]!.tick()
        process(id)
    }

    /// Ticks every running node once.
    package mutating func tickAll() {
        for id in ids { tick(id) }
    }

    // MARK: Faults

    /// Cuts `id` off from every other node, both ways.
    package mutating func isolate(_ id: Raft.NodeID) {
        for other in ids where other != id {
            cut.insert(Link(from: id, to: other))
            cut.insert(Link(from: other, to: id))
        }
    }

    /// Splits the cluster into groups that cannot talk to each other.
    package mutating func partition(_ groups: [[Raft.NodeID]]) {
        cut.removeAll()
        for (groupIndex, group) in groups.enumerated() {
            for (otherIndex, other) in groups.enumerated() where otherIndex != groupIndex {
                for a in group { for b in other { cut.insert(Link(from: a, to: b)) } }
            }
        }
    }

    package mutating func heal() { cut.removeAll() }

    /// Stops `id`: its unsynced writes are lost and its queued messages will be dropped.
    package mutating func crash(_ id: Raft.NodeID) {
        nodes[id] = nil
        storage[id]?.unsynced.removeAll()
    }

    /// Restarts `id` from its durable storage. Returns the recovery error, if any.
    @discardableResult
    package mutating func restart(_ id: Raft.NodeID) -> Raft.RecoveryError? {
        guard let disk = storage[id], let nodeSettings = settings[id] else { return nil }
        do {
            nodes[id] = try Raft.Node(settings: nodeSettings, recovered: disk.recovered)
        } catch {
            return error
        }
        applied[id] = []
        restoredSnapshot[id] = disk.snapshot.data
        process(id)
        return nil
    }

    // MARK: Queries

    /// The node that leads in the highest term, if any.
    package var leader: Raft.NodeID? {
        ids.compactMap { id in nodes[id].flatMap { $0.role == .leader ? ($0.term, id) : nil } }.max { $0 < $1 }?.1
    }

    /// Ticks every node until some node leads, or `ticksMax` rounds pass. Returns the leader.
    @discardableResult
    package mutating func electLeader(ticksMax: Int = 1_000) -> Raft.NodeID? {
        for _ in 0..<ticksMax {
            if let leader { return leader }
            tickAll()
            deliverAll()
        }
        return leader
    }
}
