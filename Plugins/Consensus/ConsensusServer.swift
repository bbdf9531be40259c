import BizraBus
import BizraKV
import BizraRaft
import BizraWAL
import Foundation
import Logging

/// The event loop of one consensus member: it owns the Raft node and the key-value store, and
/// carries out every `Raft.Ready` in the order the core's contract demands (write → messages →
/// snapshot → committed entries → reads → outcomes). An actor, so that each input (a tick, a
/// Raft message, a client request, a durable-write report) runs to completion before the next.
/// Disk writes run on `StorageThread`; the bus on the SDK's IO thread.
actor ConsensusServer {
    struct Waiter {
        let continuation: CheckedContinuation<KV.Reply, Never>
        let started: ContinuousClock.Instant
        /// The encoded command when it may be proposed again: it carries a client id and
        /// sequence, so the state machine applies it once however many copies commit.
        var payload: [UInt8]?
        /// Whether the core forwarded it to a leader (rather than appending it as leader).
        var forwarded = false
    }

    struct PendingRead {
        let request: KV.Request
        let continuation: CheckedContinuation<KV.Reply, Never>
        let started: ContinuousClock.Instant
    }

    let log: Logger
    let bus: BusClient
    let members: Members
    let settings: ConsensusSettings
    let me: Raft.NodeID
    let storage: StorageThread
    let leafFile: MerkleLeafFile
    var node: Raft.Node
    var kv: KV.Store

    /// Proposals of this member still owed an answer, by proposal sequence.
    var proposals: [UInt64: Waiter] = [:]
    var nextProposal: UInt64 = 1
    /// Deduplicated writes whose outcome went unknown and that wait for a leader to be proposed
    /// again (until their request times out).
    var retryLater: [Waiter] = []
    /// Reads waiting for the leader's confirmation, by read context.
    var reads: [UInt64: PendingRead] = [:]
    var nextRead: UInt64 = 1
    /// Confirmed reads waiting for the store to apply their index.
    var confirmedReads: [(index: Raft.Index, read: PendingRead)] = []
    var lastSnapshotIndex: Raft.Index
    var lastRole = Raft.Role.follower
    var lastLeader: Raft.NodeID?
    var ticks = 0
    /// When each lease runs out, as this member's clock sees it (only the leader acts on it).
    var leaseDeadlines: [KV.LeaseID: ContinuousClock.Instant] = [:]
    var expiryProposed: [KV.LeaseID: ContinuousClock.Instant] = [:]
    var forgedDropped: UInt64 = 0
    /// The log index of the entry that last wrote each key, for inclusion proofs (for keys
    /// written before this member's snapshot, the entry is in `proofArchive`).
    var lastWriteIndex: [[UInt8]: Raft.Index] = [:]
    /// The last-writing entries of keys written at or before this member's snapshot.
    var proofArchive: ProofArchive
    var malformedDropped: UInt64 = 0
    var sendFailures: UInt64 = 0
    var watchDropped: UInt64 = 0
    /// The recent changes, for watches from a past revision; it starts at the revision of the
    /// snapshot this member started from (the entries after it apply again and refill it).
    var watchHistory: KV.WatchHistory
    var lastDropLog = ContinuousClock.now.advanced(by: .seconds(-3600))
    /// A `driveSoon()` is queued on this actor.
    var driveScheduled = false
    let watchEncoder = JSONEncoder()

    init(
        log: Logger, bus: BusClient, members: Members, settings: ConsensusSettings, me: Raft.NodeID, node: Raft.Node,
        kv: KV.Store, storage: StorageThread, leafFile: MerkleLeafFile, proofArchive: ProofArchive
    ) {
        self.log = log
        self.bus = bus
        self.members = members
        self.settings = settings
        self.me = me
        self.node = node
        self.kv = kv
        self.storage = storage
        self.leafFile = leafFile
        self.proofArchive = proofArchive
        // Keys written before the snapshot: their entries come from the archive (the entries
        // after the snapshot apply again and overwrite these).
        for (key, entry) in proofArchive.entries where kv.get(key) != nil { lastWriteIndex[key] = entry.index }
        lastSnapshotIndex = node.snapshot.metadata.index
        watchHistory = KV.WatchHistory(floor: kv.revision + 1)
        let now = ContinuousClock.now
        for (id, lease) in kv.leases { leaseDeadlines[id] = now.advanced(by: .milliseconds(Int(lease.ttlMillis))) }
    }

    // MARK: Inputs

    func tick(count: Int) {
        for _ in 0..<count { node.tick() }
        ticks += count
        retryWaitingWrites()
        if ticks % 10 < count {
            expireWaiters()
            if node.role == .leader { expireLeases() }
        }
        drive()
    }

    /// A Raft message from the bus. Its `from` MUST be the node whose consensus instance the core
    /// verified as the sender; anything else is dropped and counted (a forged `from` cannot vote).
    func receive(_ message: Raft.Message, sender: Principal) {
        guard sender.component == "consensus", members.id(of: sender.node) == message.from, message.to == me else {
            forgedDropped += 1
            if shouldLogDrop() {
                log.warning(
                    "dropped a Raft message whose from does not match its verified sender",
                    metadata: ["peer": "\(sender)", "from": "\(message.from)", "to": "\(message.to)"])
            }
            return
        }
        node.step(message)
        driveSoon()
    }

    func malformed(from sender: Principal, _ error: any Error) {
        malformedDropped += 1
        if shouldLogDrop() { log.warning("dropped a malformed Raft message", metadata: ["peer": "\(sender)"]) }
    }

    func persisted(token: UInt64) {
        node.persisted(token: token)
        driveSoon()
    }

    // MARK: Carrying out Ready

    /// Carries out the core's output once the inputs already queued on this actor have run:
    /// under load a burst of client requests and acknowledgements becomes one `Ready` — one
    /// append per follower and one WAL write — instead of one each. At most one is scheduled.
    func driveSoon() {
        guard !driveScheduled else { return }
        driveScheduled = true
        Task { self.driveScheduledNow() }
    }

    private func driveScheduledNow() {
        driveScheduled = false
        drive()
    }

    /// Takes and carries out every `Ready` until the core has nothing more to say.
    func drive() {
        while node.hasReady {
            let ready = node.takeReady()
            if let write = ready.write { storage.submit(.write(write)) }
            send(ready.messages)
            if let snapshot = ready.snapshotToApply { install(snapshot) }
            apply(ready.committedEntries)
            answer(ready.reads)
            settle(ready.outcomes)
            observe(ready)
        }
        maybeCompact()
    }

    private func send(_ messages: [Raft.Message]) {
        for message in messages {
            guard let target = members.name(of: message.to) else { continue }
            do {
                try bus.send(
                    to: .service(node: target, name: "consensus"), type: KV.RequestType.raft, payload: message.encoded)
            } catch {
                sendFailures += 1
                if shouldLogDrop() {
                    log.warning("a Raft message was not sent: \(error)", metadata: ["peer": "\(target)"])
                }
            }
        }
    }

    private func install(_ snapshot: Raft.Snapshot) {
        do {
            kv = try KV.Store(snapshot: snapshot.data)
        } catch {
            // The core checked the data's digest against the snapshot's metadata, so these bytes
            // are what the leader saved: a decode failure is a bug, and serving would diverge.
            log.critical("an installed snapshot does not decode: \(error)")
            exit(ConsensusExit.refusedDamagedData)
        }
        lastSnapshotIndex = snapshot.metadata.index
        leafFile.restarted(at: snapshot.metadata.index)
        lastWriteIndex = [:]
        proofArchive.clear()
        watchHistory.reset(afterRevision: kv.revision)
        let now = ContinuousClock.now
        leaseDeadlines = [:]
        for (id, lease) in kv.leases { leaseDeadlines[id] = now.advanced(by: .milliseconds(Int(lease.ttlMillis))) }
        log.info("installed a snapshot", metadata: ["index": "\(snapshot.metadata.index)"])
    }

    private func apply(_ entries: [Raft.Entry]) {
        guard !entries.isEmpty else { return }
        for entry in entries {
            var reply = KV.Reply(status: .ok)
            if let (command, result, events) = kv.apply(entry) {
                reply = Self.reply(for: result)
                if let command { track(command.operation, result: result) }
                for event in events { lastWriteIndex[event.key] = event.kind == .put ? entry.index : nil }
                publish(events, index: entry.index)
            }
            if entry.origin.node == me, let waiter = proposals.removeValue(forKey: entry.origin.sequence) {
                waiter.continuation.resume(returning: reply)
            }
        }
        leafFile.append(entries)
        serveConfirmedReads()
    }

    private func answer(_ results: [Raft.ReadResult]) {
        for result in results {
            guard let read = reads.removeValue(forKey: result.context) else { continue }
            guard let index = result.index else {
                read.continuation.resume(
                    returning: .failed(result.refusal ?? "the read was refused", leader: members.name(of: node.leader)))
                continue
            }
            if kv.appliedIndex >= index {
                read.continuation.resume(returning: serve(read.request))
            } else {
                confirmedReads.append((index, read))
            }
        }
    }

    private func serveConfirmedReads() {
        guard !confirmedReads.isEmpty else { return }
        var waiting: [(index: Raft.Index, read: PendingRead)] = []
        for pending in confirmedReads {
            if kv.appliedIndex >= pending.index {
                pending.read.continuation.resume(returning: serve(pending.read.request))
            } else {
                waiting.append(pending)
            }
        }
        confirmedReads = waiting
    }

    private func settle(_ outcomes: [Raft.ProposalOutcome]) {
        for outcome in outcomes where outcome.id.node == me {
            switch outcome.result {
            case .committed: continue  // answered when applied
            case .dropped(let reason):
                proposals.removeValue(forKey: outcome.id.sequence)?.continuation.resume(
                    returning: .failed(reason, leader: members.name(of: node.leader)))
            case .unknown(let reason):
                guard let waiter = proposals.removeValue(forKey: outcome.id.sequence) else { continue }
                if waiter.payload != nil {
                    repropose(waiter, reason: reason)
                } else {
                    waiter.continuation.resume(returning: .unknown(reason))
                }
            }
        }
    }

    private func observe(_ ready: Raft.Ready) {
        for event in ready.events {
            switch event {
            case .becameLeader(let term): log.info("became leader", metadata: ["term": "\(term)"])
            case .steppedDown(let reason): log.info("stepped down: \(reason)", metadata: ["term": "\(ready.term)"])
            case .chainBroken(let index):
                log.error("a leader's entries do not link to this log", metadata: ["index": "\(index)"])
            case .configurationApplied(let configuration, let index):
                log.info("configuration \(configuration) applied", metadata: ["index": "\(index)"])
            case .configurationRefused(let index, let reason):
                log.error("configuration change refused: \(reason)", metadata: ["index": "\(index)"])
            case .snapshotRefused(let reason): log.warning("snapshot refused: \(reason)")
            case .departureStarted(let index):
                log.info("removed from the configuration; handing over", metadata: ["index": "\(index)"])
            default: break
            }
        }
        if ready.role != lastRole {
            if ready.role == .leader { resetLeaseDeadlines() }
            lastRole = ready.role
        }
        if ready.leader != lastLeader {
            log.info(
                "leader is \(members.name(of: ready.leader) ?? "unknown")", metadata: ["term": "\(ready.term)"])
            lastLeader = ready.leader
            if ready.leader != nil { reforwardToNewLeader() }
        }
    }

    /// Every `snapshotEveryEntries` applied entries: snapshot the store, compact the core's log and
    /// hand the snapshot and the WAL rewrite to the storage thread (queued after every write
    /// already handed out, so the WAL never loses an entry it was told to keep).
    private func maybeCompact(force: Bool = false) {
        guard kv.appliedIndex >= lastSnapshotIndex + (force ? 1 : settings.snapshotEveryEntries) else { return }
        let archive = archiveProofEntries(through: kv.appliedIndex)
        let snapshot = node.compact(data: kv.snapshotData, retainingEntries: settings.retainedEntries)
        let metadata = snapshot.metadata
        let status = node.status
        var retained: [Raft.Entry] = []
        if status.lastIndex > metadata.index {
            retained = (metadata.index + 1...status.lastIndex).compactMap { node.entry(at: $0) }
        }
        let hardState = Raft.HardState(term: node.term, vote: node.vote, commit: status.commit)
        leafFile.sync()
        let mark = WriteAheadLog.Mark(index: metadata.index, term: metadata.term, chainHead: metadata.chainHead)
        storage.submit(.compact(snapshot, hardState, mark, retained, archive))
        lastSnapshotIndex = metadata.index
    }

    /// Before the log is cut at `index`: the entry that last wrote each live key at or below it
    /// goes into the proof archive; the storage thread writes it before the snapshot.
    private func archiveProofEntries(through index: Raft.Index) -> ProofArchive.Contents {
        var archived: [[UInt8]: Raft.Entry] = [:]
        for (key, writeIndex) in lastWriteIndex where writeIndex <= index {
            if let entry = proofArchive.entries[key], entry.index == writeIndex {
                archived[key] = entry
            } else if let entry = node.entry(at: writeIndex) {
                archived[key] = entry
            }
        }
        return proofArchive.replace(with: archived, through: index)
    }

    /// A snapshot for a backup (`bizra consensus snapshot save`): taken now unless nothing
    /// applied since the last one; the reply names its index.
    func snapshotNow() -> KV.Reply {
        maybeCompact(force: true)
        var reply = KV.Reply(status: .ok)
        reply.index = lastSnapshotIndex
        reply.revision = kv.revision
        return reply
    }

    // MARK: Proposing again (exactly once, by client and sequence)

    /// A new leader: writes forwarded to the old one may be lost with it. Rather than wait for
    /// their timeout, propose the deduplicated ones again at once (the copy that commits first
    /// applies; any other answers with its result).
    private func reforwardToNewLeader() {
        let stale = proposals.filter { $0.value.forwarded && $0.value.payload != nil }.keys.sorted()
        for sequence in stale {
            guard let waiter = proposals.removeValue(forKey: sequence) else { continue }
            repropose(waiter, reason: "the leader changed")
        }
    }

    /// Proposes a deduplicated write again under a new proposal id, or keeps it for a later tick
    /// when no leader takes it now; answers `unknown` once its request has run out of time.
    func repropose(_ waiter: Waiter, reason: String) {
        guard let payload = waiter.payload,
            ContinuousClock.now - waiter.started < .milliseconds(settings.requestTimeoutMillis)
        else {
            waiter.continuation.resume(returning: .unknown(reason))
            return
        }
        let sequence = nextProposal
        nextProposal += 1
        switch node.propose(payload, id: Raft.ProposalID(node: me, sequence: sequence)) {
        case .success(let acceptance):
            var moved = waiter
            if case .forwarded = acceptance { moved.forwarded = true } else { moved.forwarded = false }
            proposals[sequence] = moved
        case .failure:
            retryLater.append(waiter)
        }
    }

    /// Every tick: writes waiting for a leader are proposed again.
    func retryWaitingWrites() {
        guard !retryLater.isEmpty else { return }
        let waiting = retryLater
        retryLater.removeAll()
        for waiter in waiting { repropose(waiter, reason: "no leader took the write again in time") }
    }

    // MARK: Watch

    private func publish(_ events: [KV.Event], index: Raft.Index) {
        let watchEvents = events.map { KV.WatchEvent($0, index: index) }
        watchHistory.append(watchEvents)
        for (event, watchEvent) in zip(events, watchEvents) {
            let key = String(decoding: event.key.prefix(Self.watchTopicKeyBytesMax), as: UTF8.self)
            guard let payload = try? watchEncoder.encode(watchEvent) else { continue }
            do {
                try bus.publish(topic: KV.watchTopicPrefix + key, type: "raft.watch", payload: Array(payload))
            } catch {
                watchDropped += 1
            }
        }
    }

    /// Key bytes that go into a watch topic (topics are at most 255 bytes); the event itself
    /// carries the whole key.
    static let watchTopicKeyBytesMax = 200

    /// Warnings about dropped input are logged at most once per 5 s, so they cannot flood the log.
    func shouldLogDrop() -> Bool {
        let now = ContinuousClock.now
        guard now - lastDropLog >= .seconds(5) else { return false }
        lastDropLog = now
        return true
    }
}
