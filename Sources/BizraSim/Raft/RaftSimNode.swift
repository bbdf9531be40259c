import BizraCrypto
import BizraRaft

/// One simulated member of a Raft cluster: a `Raft.Node` with the shell duties a component
/// executable has — a tick timer, the network, a write-ahead log, a state machine, clients.
///
/// - **Time.** Timer 0 fires every `Config.tickMicros` local µs and calls `tick()`. Every input
///   first catches up on the ticks its local clock has passed, so a node resumed after a pause
///   (SIGSTOP) sees the time that went by, as a shell reading a monotonic clock would; lease
///   reads depend on that.
/// - **Storage.** Each `Ready.write` is one disk record; its token is reported to the core when
///   the simulator says the record is durable. Snapshots the node takes (`compact`) are
///   `compaction` records. On boot the records are folded back (`RaftSim.Recovery`).
/// - **State machine.** Registers `0..<keyCount`; committed entries apply in order; a snapshot
///   (installed or recovered) replaces them.
/// - **Clients.** Puts and CASes are proposals, answered by `Ready.outcomes` (committed → the
///   result of applying the entry, dropped → refused, unknown → indeterminate). Gets go through
///   `readIndex` and are served once the state machine applied the confirmed index.
///
/// What the node applied during its last input is kept in `appliedLately` for the safety
/// oracle (`RaftSafetyOracle`), which also reads `violation`: a broken caller contract the core
/// must never cause (an outcome for an entry that did not apply, a gap in applied indexes, an
/// unusable recovered log, a broken hash chain reported by the core).
package struct RaftSimNode: SimulatedNode {
    package typealias Message = RaftSim.Envelope
    package typealias Request = RaftSim.Request
    package typealias Response = RaftSim.Response
    package typealias Record = RaftSim.Record
    package typealias Config = RaftSim.Config

    /// A client proposal waiting for its outcome, and the result of applying it once it has.
    struct PendingProposal {
        var request: RequestID
        var result: Response?
        /// Already answered (the `ack-before-commit` bug).
        var answered = false
    }

    package let id: NodeID
    let clusterSize: Int
    let config: Config
    package internal(set) var raft: Raft.Node
    /// The registers (and proposal windows), as of `appliedIndex`.
    package internal(set) var machine: RaftSim.StateMachine
    package internal(set) var appliedIndex: Raft.Index
    /// (index, entry hash, state digest after it) of what the last input applied; for the oracle.
    package internal(set) var appliedLately: [(index: Raft.Index, hash: Digest256, state: UInt64)] = []
    /// A snapshot the last input restored (installed, or recovered at boot) and the state digest
    /// it gave, for the oracle.
    package internal(set) var restoredLately: (index: Raft.Index, chainHead: Digest256, state: UInt64)?
    package internal(set) var violation: String?
    /// Whether the last input could have moved the commit index (a message, a write completion
    /// or the boot; not a tick or a client request): the oracle reads the commit index only then.
    package internal(set) var commitMayHaveChanged = true
    /// What the oracle reads after each input (see `observe()`).
    package internal(set) var observation = RaftObservation()
    /// The commit index this incarnation started with (what the disk held).
    package let recoveredCommit: Raft.Index
    let incarnation: UInt32
    var incarnationDurable = false
    var nextSequence: UInt64 = 1
    var nextReadContext: UInt64 = 1
    var pending: [UInt64: PendingProposal] = [:]
    /// Reads waiting for confirmation, by context.
    var readsUnconfirmed: [UInt64: (request: RequestID, key: Int)] = [:]
    /// Confirmed reads waiting for the state machine to reach their index.
    var readsConfirmed: [(index: Raft.Index, request: RequestID, key: Int)] = []
    var nextTickLocal: SimTime
    var appliedSinceCompaction = 0
    var compactions: UInt64 = 0
    var heardTimeoutNow = false
    /// The bus: the next sequence per receiver, and the replay window per sender.
    var sentSequences: [UInt64]
    var replayWindows: [RaftSim.ReplayWindow]
    var wasJoint: Bool

    package var raftID: Raft.NodeID { RaftSim.raftID(id) }

    package var values: [Int64] { machine.values }

    static let tickTimer = 0
    static let incarnationToken: UInt64 = 2

    package init(
        id: NodeID, clusterSize: Int, config: Config, recovered: RecoveredDisk<Record>, context: inout Context
    ) {
        self.id = id
        self.clusterSize = clusterSize
        self.config = config
        let recovery = RaftSim.Recovery(records: recovered.records, bootstrap: config.bootstrap)
        let settings = config.settings(id: RaftSim.raftID(id), seed: context.rng.next())
        var problem = recovery.problem
        do {
            raft = try Raft.Node(settings: settings, recovered: recovery.recovered)
        } catch {
            problem = "\(error)"
            raft = try! Raft.Node(settings: settings, recovered: .bootstrap(config.bootstrap))
        }
        violation = problem.map { "node \(id) cannot recover: \($0)" }
        let snapshot = recovery.recovered.snapshot
        machine =
            RaftSim.StateMachine(decoding: snapshot.data, keyCount: config.keyCount)
            ?? RaftSim.StateMachine(keyCount: config.keyCount)
        appliedIndex = snapshot.metadata.index
        recoveredCommit = recovery.commit
        incarnation = recovery.incarnation + 1
        wasJoint = raft.configuration.isJoint
        sentSequences = Array(repeating: 0, count: clusterSize)
        replayWindows = Array(repeating: RaftSim.ReplayWindow(), count: clusterSize)
        nextTickLocal = context.localTime + config.tickMicros
        restoredLately = (snapshot.metadata.index, snapshot.metadata.chainHead, machine.digest)
        context.persist(.incarnation(incarnation), token: Self.incarnationToken)
        context.setTimer(Self.tickTimer, after: config.tickMicros)
        if recovered.tornTailDropped { context.sometimes("raft.recoveredFromTornWrite") }
        if !recovery.recovered.entries.isEmpty { context.sometimes("raft.rebootedWithLog") }
        if snapshot.metadata.index > 0 { context.sometimes("raft.rebootedFromSnapshot") }
        drive(&context)
    }

    package mutating func receive(_ envelope: Message, from sender: NodeID, context: inout Context) {
        beginInput(&context)
        guard replayWindows[sender].admit(incarnation: envelope.incarnation, sequence: envelope.sequence) else {
            context.sometimes("raft.replayRefused")
            return drive(&context)  // the ticks caught up on may have work
        }
        let message = envelope.message
        guard message.from == RaftSim.raftID(sender) else { return }  // the bus verified the sender
        switch message.body {
        case .timeoutNow: heardTimeoutNow = true
        // The messages that carry or acknowledge log positions are the ones that move a commit index.
        case .append, .heartbeat, .snapshotChunk, .appendResponse, .snapshotResponse, .commitNotice:
            commitMayHaveChanged = true
        default: break
        }
        raft.step(message)
        drive(&context)
    }

    package mutating func timerFired(_ timer: Int, context: inout Context) {
        beginInput(&context)
        drive(&context)
        context.setTimer(Self.tickTimer, after: max(1, nextTickLocal - context.localTime))
    }

    package mutating func persisted(token: UInt64, context: inout Context) {
        beginInput(&context)
        commitMayHaveChanged = raft.role == .leader  // a leader counts its own durable log
        if token == Self.incarnationToken {
            incarnationDurable = true
        } else if token & 3 == 0, config.bug != .persistedBeforeDurable {
            raft.persisted(token: token >> 2)
        }
        drive(&context)
    }

    package mutating func clientRequest(_ request: Request, id requestID: RequestID, context: inout Context) {
        beginInput(&context)
        handle(request, requestID, &context)
        drive(&context)
    }

    /// Clears what the oracle saw last time and catches up on ticks.
    private mutating func beginInput(_ context: inout Context) {
        commitMayHaveChanged = false
        appliedLately.removeAll(keepingCapacity: true)
        restoredLately = nil
        if nextTickLocal - context.localTime > config.tickMicros {
            // The clock stepped back (a skew fault at start-up): re-synchronise rather than stall.
            nextTickLocal = context.localTime + config.tickMicros
        }
        var ticks = 0
        while context.localTime >= nextTickLocal && ticks < config.catchUpTicksMax {
            raft.tick()
            nextTickLocal += config.tickMicros
            ticks += 1
        }
        if ticks == config.catchUpTicksMax { nextTickLocal = context.localTime + config.tickMicros }
        if ticks > 2 { context.sometimes("raft.caughtUpTicks") }
    }

    // MARK: Client requests

    private mutating func handle(_ request: Request, _ requestID: RequestID, _ context: inout Context) {
        guard incarnationDurable else {
            return context.reply(.refused("starting up"), to: requestID)
        }
        guard pending.count + readsUnconfirmed.count + readsConfirmed.count < config.pendingRequestsMax else {
            return context.reply(.refused("too many requests pending"), to: requestID)
        }
        switch request {
        case .get(let key):
            let readContext = UInt64(incarnation) << 32 | nextReadContext
            nextReadContext += 1
            readsUnconfirmed[readContext] = (requestID, key)
            raft.readIndex(context: readContext)
        case .put(let key, let value):
            propose(.put(key: key, value: value), requestID, &context)
        case .cas(let key, let expected, let new):
            propose(.cas(key: key, expected: expected, new: new), requestID, &context)
        case .reconfigure(let change):
            let proposal = Raft.ProposalID(node: raftID, sequence: takeSequence())
            switch raft.proposeConfigChange(change, id: proposal) {
            case .success: context.reply(.accepted, to: requestID)
            case .failure(let refusal): context.reply(.refused(refusal.description), to: requestID)
            }
        case .transfer(let target):
            let refusal = raft.transferLeadership(to: target)
            context.reply(refusal.map { .refused($0.description) } ?? .accepted, to: requestID)
        }
    }

    private mutating func propose(_ command: RaftSim.Command, _ requestID: RequestID, _ context: inout Context) {
        let sequence = takeSequence()
        switch raft.propose(command.encoded, id: Raft.ProposalID(node: raftID, sequence: sequence)) {
        case .failure(let refusal):
            context.reply(.refused(refusal.description), to: requestID)
        case .success:
            var proposal = PendingProposal(request: requestID)
            if config.bug == .ackBeforeCommit, case .put = command {
                context.reply(.written, to: requestID)
                proposal.answered = true
            }
            pending[sequence] = proposal
        }
    }

    /// A proposal sequence, unique across this node's restarts and dense within an incarnation
    /// (the state machine's duplicate window counts in sequences).
    private mutating func takeSequence() -> UInt64 {
        defer { nextSequence += 1 }
        return UInt64(incarnation) << 32 | nextSequence
    }
}
