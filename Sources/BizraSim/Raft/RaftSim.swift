import BizraRaft

/// The vocabulary of the Raft simulation: what clients ask (`Request`), what nodes answer
/// (`Response`), what a node writes to its simulated disk (`Record`), the settings every node of
/// a run shares (`Config`), the key–value state machine and the adapter bugs a test can inject.
///
/// `RaftSimNode` runs one `Raft.Node` per simulated node; simulator node `i` is Raft member
/// `i + 1` (Raft reserves id 0 for "none").
package enum RaftSim {
    /// The Raft id of simulator node `node`.
    @inline(__always)
    package static func raftID(_ node: NodeID) -> Raft.NodeID { Raft.NodeID(node + 1) }

    /// The simulator node of Raft member `id`, or nil when `id` is no node of a cluster of `size`.
    @inline(__always)
    package static func simNode(_ id: Raft.NodeID, clusterSize size: Int) -> NodeID? {
        id >= 1 && id <= Raft.NodeID(size) ? Int(id) - 1 : nil
    }

    /// Client → node. Keys are `0..<Config.keyCount`; registers start at 0. The operator's
    /// requests (`reconfigure`, `transfer`) are not part of the client history.
    package enum Request: Equatable, Sendable, CustomStringConvertible {
        case get(key: Int)
        case put(key: Int, value: Int64)
        case cas(key: Int, expected: Int64, new: Int64)
        /// Operator: propose a membership or weight change.
        case reconfigure(Raft.ConfigChange)
        /// Operator: ask the leader to hand leadership to `to`.
        case transfer(to: Raft.NodeID)

        package var description: String {
            switch self {
            case .get(let key): return "get(k\(key))"
            case .put(let key, let value): return "put(k\(key)=\(value))"
            case .cas(let key, let expected, let new): return "cas(k\(key) \(expected)->\(new))"
            case .reconfigure(let change): return "reconfigure(\(change))"
            case .transfer(let to): return "transfer(to \(to))"
            }
        }
    }

    /// Node → client.
    package enum Response: Equatable, Sendable {
        case value(Int64)
        case written
        case swapped
        /// The CAS committed but did not apply: the value differed.
        case mismatch
        /// Certainly no effect (refused, or `Raft.ProposalOutcome.Result.dropped`): a `fail`.
        case refused(String)
        /// May or may not take effect (`Raft.ProposalOutcome.Result.unknown`): an `info`.
        case unknown(String)
        /// The operator's request was accepted by the core (it may still not commit).
        case accepted
    }

    /// One record of a node's write-ahead log on the simulated disk.
    package enum Record: Sendable {
        /// One `Raft.Ready.write`, written as one record (hard state, snapshot, entries).
        case write(Raft.StorageWrite)
        /// A snapshot this node took (`Raft.Node.compact`): it replaces the stored snapshot and
        /// covers the stored entries up to its index; later entries stay.
        case compaction(Raft.Snapshot)
        /// The node's incarnation, written at every boot. Proposal ids and read contexts embed
        /// it, so that they stay unique across restarts (the core requires unique ids).
        case incarnation(UInt32)
    }

    /// Adapter bugs the simulation must find (`--bug`). None is a `Raft.Settings` change: each is
    /// a mistake a component shell could make around a correct core.
    package enum Bug: String, CaseIterable, Sendable {
        case none
        /// Reports a write durable (`persisted(token:)`) as soon as it starts, not after fsync.
        case persistedBeforeDurable = "persisted-before-durable"
        /// Acknowledges a put as soon as the core accepts the proposal, before it commits.
        case ackBeforeCommit = "ack-before-commit"
        /// Applies entries to the state machine as they are written, before they commit.
        case applyBeforeCommit = "apply-before-commit"
    }

    /// Settings shared by every node of a run (drawn per seed by `RaftScenario`).
    package struct Config: Sendable {
        /// The voters at bootstrap and their weights (Raft ids).
        package var bootstrap = Raft.Configuration(weights: [1: 1, 2: 1, 3: 1])
        package var keyCount = 3
        /// Local µs per Raft tick.
        package var tickMicros: SimTime = 10_000
        package var electionTimeoutTicks = 10
        package var heartbeatIntervalTicks = 1
        package var readMode = Raft.ReadMode.readIndex
        /// Take a snapshot after this many applied entries (0: never).
        package var compactEveryEntries = 64
        /// Entries kept in the log behind a snapshot.
        package var retainEntries: Raft.Index = 8
        package var snapshotChunkBytes = 16
        package var messageEntriesBytesMax = 64 * 1_024
        package var inflightMessagesMax = 256
        package var bug = Bug.none
        /// Proposals and reads one node tracks for its clients; beyond it requests are refused.
        package var pendingRequestsMax = 1_024
        /// Ticks one input may catch up on (a resumed node's clock moved on while it was stopped).
        package var catchUpTicksMax = 10_000

        package init() {}

        /// The Raft settings of member `id`, with the election generator seeded by `seed`.
        package func settings(id: Raft.NodeID, seed: UInt64) -> Raft.Settings {
            var settings = Raft.Settings(id: id, randomSeed: seed)
            settings.electionTimeoutTicks = electionTimeoutTicks
            settings.heartbeatIntervalTicks = heartbeatIntervalTicks
            settings.readMode = readMode
            settings.snapshotChunkBytes = snapshotChunkBytes
            settings.messageEntriesBytesMax = messageEntriesBytesMax
            settings.inflightMessagesMax = inflightMessagesMax
            return settings
        }
    }

    /// A client command as the payload of a `normal` entry: kind (1 put, 2 cas), key, then one or
    /// two 8-byte big-endian values.
    package enum Command: Equatable, Sendable {
        case put(key: Int, value: Int64)
        case cas(key: Int, expected: Int64, new: Int64)

        package var encoded: [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(18)
            switch self {
            case .put(let key, let value):
                out += [1, UInt8(truncatingIfNeeded: key)]
                appendBigEndian(value, to: &out)
            case .cas(let key, let expected, let new):
                out += [2, UInt8(truncatingIfNeeded: key)]
                appendBigEndian(expected, to: &out)
                appendBigEndian(new, to: &out)
            }
            return out
        }

        package init?(decoding bytes: [UInt8]) {
            guard bytes.count >= 10 else { return nil }
            let key = Int(bytes[1])
            switch bytes[0] {
            case 1 where bytes.count == 10: self = .put(key: key, value: readBigEndian(bytes, at: 2))
            case 2 where bytes.count == 18:
                self = .cas(key: key, expected: readBigEndian(bytes, at: 2), new: readBigEndian(bytes, at: 10))
            default: return nil
            }
        }
    }

    /// The replicated state machine: the registers, and per proposing node a window of the
    /// proposal sequences already applied.
    ///
    /// The window exists because a forwarded proposal can reach the leader twice (the network
    /// duplicates messages, and a leader cannot tell a copy from a new proposal), and the core
    /// then commits it twice; an entry whose origin (node, sequence) already applied, or is too
    /// old to tell, applies as a no-op and answers `refused`. Every node decides alike, since
    /// the window is part of the state (and of snapshots). This is the "deduplicated by client
    /// and sequence" that `Raft.ProposalOutcome` asks of the application.
    package struct StateMachine: Equatable, Sendable {
        package private(set) var values: [Int64]
        /// Per origin node: the highest sequence applied, and a bitmap of the 64 below it
        /// (bit d: sequence highest − d applied).
        private var windows: [Raft.NodeID: (highest: UInt64, seen: UInt64)] = [:]

        /// Origins remembered; the state of a run stays bounded by the cluster's node ids.
        package static let originsMax = 1_024

        package init(keyCount: Int) { values = Array(repeating: 0, count: keyCount) }

        package static func == (lhs: StateMachine, rhs: StateMachine) -> Bool { lhs.encoded == rhs.encoded }

        /// Applies `command` proposed as `origin`; returns the client's answer.
        package mutating func apply(_ command: Command, origin: Raft.ProposalID) -> Response {
            guard admit(origin) else { return .refused("a copy of an applied proposal, or too old to tell") }
            switch command {
            case .put(let key, let value):
                values[key] = value
                return .written
            case .cas(let key, let expected, let new):
                guard values[key] == expected else { return .mismatch }
                values[key] = new
                return .swapped
            }
        }

        private mutating func admit(_ origin: Raft.ProposalID) -> Bool {
            let sequence = origin.sequence
            guard var window = windows[origin.node] else {
                guard windows.count < Self.originsMax else { return false }
                windows[origin.node] = (sequence, 1)
                return true
            }
            if sequence > window.highest {
                let shift = sequence - window.highest
                window.seen = shift >= 64 ? 1 : window.seen << shift | 1
                window.highest = sequence
            } else {
                let distance = window.highest - sequence
                guard distance < 64, window.seen & (1 << distance) == 0 else { return false }
                window.seen |= 1 << distance
            }
            windows[origin.node] = window
            return true
        }

        /// The snapshot image: every register, then the windows in node order, all 8-byte big-endian.
        package var encoded: [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(values.count * 8 + 8 + windows.count * 24)
            for value in values { appendBigEndian(value, to: &out) }
            appendBigEndian(Int64(windows.count), to: &out)
            for node in windows.keys.sorted() {
                let window = windows[node]!
                for word in [node, window.highest, window.seen] { appendBigEndian(Int64(bitPattern: word), to: &out) }
            }
            return out
        }

        /// Decodes `encoded`; the empty image (the bootstrap snapshot) is the initial state.
        package init?(decoding bytes: [UInt8], keyCount: Int) {
            self.init(keyCount: keyCount)
            if bytes.isEmpty { return }
            guard bytes.count >= keyCount * 8 + 8 else { return nil }
            values = (0..<keyCount).map { readBigEndian(bytes, at: $0 * 8) }
            let count = Int(readBigEndian(bytes, at: keyCount * 8))
            guard count >= 0, count <= Self.originsMax, bytes.count == keyCount * 8 + 8 + count * 24 else { return nil }
            for number in 0..<count {
                let base = keyCount * 8 + 8 + number * 24
                let words = (0..<3).map { UInt64(bitPattern: readBigEndian(bytes, at: base + $0 * 8)) }
                windows[words[0]] = (words[1], words[2])
            }
        }

        /// FNV-1a of the registers: compared across nodes at each applied index.
        package var digest: UInt64 {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for value in values {
                var bits = UInt64(bitPattern: value)
                for _ in 0..<8 {
                    hash = (hash ^ (bits & 0xFF)) &* 0x0000_0100_0000_01B3
                    bits >>= 8
                }
            }
            return hash
        }
    }

    /// What a node's disk holds, folded into what `Raft.Node` starts from: a write's snapshot
    /// discards the stored entries, a write's entries replace the log from their first index on,
    /// a compaction record replaces the snapshot and drops the entries it covers. `problem` says
    /// why the records do not fold cleanly (a bug to report).
    package struct Recovery {
        package var recovered: Raft.Recovered
        package var incarnation: UInt32 = 0
        package var problem: String?

        package init(records: [Record], bootstrap: Raft.Configuration) {
            recovered = .bootstrap(bootstrap)
            for record in records { fold(record) }
        }

        private mutating func fold(_ record: Record) {
            switch record {
            case .incarnation(let number): incarnation = max(incarnation, number)
            case .compaction(let snapshot):
                let base = recovered.snapshot.metadata.index
                guard snapshot.metadata.index > base else { return }
                let covered = Int(snapshot.metadata.index - base)
                if covered > recovered.entries.count {
                    problem =
                        "compaction at \(snapshot.metadata.index) beyond the stored log (\(base) + "
                        + "\(recovered.entries.count) entries)"
                }
                recovered.entries.removeFirst(min(covered, recovered.entries.count))
                recovered.snapshot = snapshot
            case .write(let write):
                if let hardState = write.hardState { recovered.hardState = hardState }
                if let snapshot = write.snapshot {
                    recovered.snapshot = snapshot
                    recovered.entries.removeAll()
                }
                guard let first = write.entries.first else { return }
                let base = recovered.snapshot.metadata.index
                guard first.index > base, first.index <= base + UInt64(recovered.entries.count) + 1 else {
                    problem =
                        "a write's entries start at \(first.index) but the stored log is \(base) + "
                        + "\(recovered.entries.count) entries"
                    return
                }
                recovered.entries.removeSubrange(Int(first.index - base - 1)...)
                recovered.entries += write.entries
            }
        }

        /// The commit index a node recovering from this state starts with (as `Raft.Node` computes it).
        package var commit: Raft.Index {
            let snapshotIndex = recovered.snapshot.metadata.index
            let last = snapshotIndex + UInt64(recovered.entries.count)
            return min(max(recovered.hardState.commit, snapshotIndex), last)
        }
    }
}

@inline(__always)
private func appendBigEndian(_ value: Int64, to out: inout [UInt8]) {
    let bits = UInt64(bitPattern: value)
    for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
}

@inline(__always)
private func readBigEndian(_ bytes: [UInt8], at offset: Int) -> Int64 {
    var bits: UInt64 = 0
    for byte in bytes[offset..<offset + 8] { bits = bits << 8 | UInt64(byte) }
    return Int64(bitPattern: bits)
}
