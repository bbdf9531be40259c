import BizraCrypto

extension Raft {
    /// What an entry carries; the raw value is part of the entry's hash.
    package enum EntryKind: UInt8, Sendable {
        /// An application command (a KV operation in bizra-consensus).
        case normal = 0
        /// The empty entry a new leader appends to commit its term (Raft §5.4.2, §8).
        case leaderNoop = 1
        /// A `Raft.ConfigChange`, encoded; it takes effect when it is applied.
        case configChange = 2
    }

    /// Who proposed an entry: the proposing node and a sequence the caller chose.
    ///
    /// It travels inside the entry (and its hash) so that the proposer recognises its own entry
    /// when it commits, even when the proposal was forwarded to a leader: that is how a proposal
    /// ends `committed` rather than `unknown` (see `Raft.ProposalOutcome`).
    package struct ProposalID: Hashable, Sendable, Comparable, CustomStringConvertible {
        package var node: NodeID
        package var sequence: UInt64

        package init(node: NodeID, sequence: UInt64) {
            self.node = node
            self.sequence = sequence
        }

        /// The origin of entries nobody proposed (a leader's no-op, an automatic leave-joint).
        package static let none = ProposalID(node: 0, sequence: 0)

        package static func < (lhs: ProposalID, rhs: ProposalID) -> Bool {
            (lhs.node, lhs.sequence) < (rhs.node, rhs.sequence)
        }

        package var description: String { "\(node).\(sequence)" }
    }

    /// One log entry, linked to its predecessor by `hash`.
    ///
    /// `hash` = BLAKE2b-256(previous hash ‖ term ‖ index ‖ kind ‖ origin node ‖ origin sequence ‖
    /// payload length ‖ payload), integers big-endian. The entry before index 1 has the all-zero
    /// hash. A follower recomputes the hash of every entry it accepts and refuses a batch that does
    /// not link to its log, so a corrupted or forged entry cannot enter a log unnoticed.
    package struct Entry: Equatable, Sendable {
        package var term: Term
        package var index: Index
        package var kind: EntryKind
        package var origin: ProposalID
        package var payload: [UInt8]
        package var hash: Digest256

        /// Builds the entry that follows `previous` (the hash of the entry at `index - 1`).
        package init(
            term: Term, index: Index, kind: EntryKind, origin: ProposalID, payload: [UInt8], previous: Digest256
        ) {
            self.term = term
            self.index = index
            self.kind = kind
            self.origin = origin
            self.payload = payload
            self.hash = Entry.link(
                previous: previous, term: term, index: index, kind: kind, origin: origin, payload: payload)
        }

        /// An entry exactly as received (its hash is checked with `links(after:)`).
        package init(
            term: Term, index: Index, kind: EntryKind, origin: ProposalID, payload: [UInt8], hash: Digest256
        ) {
            self.term = term
            self.index = index
            self.kind = kind
            self.origin = origin
            self.payload = payload
            self.hash = hash
        }

        /// The chain hash of an entry with these fields after `previous`.
        package static func link(
            previous: Digest256, term: Term, index: Index, kind: EntryKind, origin: ProposalID, payload: [UInt8]
        ) -> Digest256 {
            Blake2b.digest256 { hasher in
                hasher.update(previous)
                hasher.update(bigEndian: term)
                hasher.update(bigEndian: index)
                hasher.update(kind.rawValue)
                hasher.update(bigEndian: origin.node)
                hasher.update(bigEndian: origin.sequence)
                hasher.update(bigEndian: UInt64(payload.count))
                hasher.update(payload)
            }
        }

        /// Whether this entry's hash is the link from `previous`.
        package func links(after previous: Digest256) -> Bool {
            hash
                == Entry.link(
                    previous: previous, term: term, index: index, kind: kind, origin: origin, payload: payload)
        }

        /// The bytes this entry counts for flow control and the uncommitted-size cap: its payload
        /// plus a fixed overhead for the header and hash.
        package var accountedBytes: Int { payload.count + Entry.headerBytes }

        /// Header bytes an entry costs on the wire beside its payload (term, index, kind, origin,
        /// length, hash).
        package static let headerBytes = 8 + 8 + 1 + 16 + 4 + 32
    }

    /// The state that MUST be durable before a vote or an acknowledgement that depends on it
    /// leaves the node (Raft Figure 2, "persistent state on all servers").
    package struct HardState: Equatable, Sendable {
        package var term: Term
        /// The candidate this node voted for in `term`, if any.
        package var vote: NodeID?
        /// The commit index as last known; persisted so that a restarted node re-applies its
        /// committed entries without waiting for a leader.
        package var commit: Index

        package init(term: Term = 0, vote: NodeID? = nil, commit: Index = 0) {
            self.term = term
            self.vote = vote
            self.commit = commit
        }
    }

    /// What a snapshot replaces: the log up to `index`, the configuration then, the chain head and
    /// the Merkle frontier of the prefix, and a digest of the application's data.
    package struct SnapshotMetadata: Equatable, Sendable {
        package var index: Index
        package var term: Term
        /// The chain hash of the entry at `index` (the all-zero hash at index 0).
        package var chainHead: Digest256
        package var configuration: Configuration
        /// The Merkle frontier of entries 1...index, so that the root keeps advancing after an
        /// install (see `Raft.MerkleFrontier`).
        package var merkle: MerkleFrontier
        /// BLAKE2b-256 of `Snapshot.data`; a receiver refuses a snapshot whose bytes differ.
        package var dataHash: Digest256

        package init(
            index: Index, term: Term, chainHead: Digest256, configuration: Configuration, merkle: MerkleFrontier,
            dataHash: Digest256
        ) {
            self.index = index
            self.term = term
            self.chainHead = chainHead
            self.configuration = configuration
            self.merkle = merkle
            self.dataHash = dataHash
        }
    }

    /// A point-in-time image of the application state machine plus the Raft state it replaces.
    package struct Snapshot: Equatable, Sendable {
        package var metadata: SnapshotMetadata
        package var data: [UInt8]

        package init(metadata: SnapshotMetadata, data: [UInt8]) {
            self.metadata = metadata
            self.data = data
        }

        /// The snapshot a brand-new cluster starts from: index 0, the bootstrap configuration
        /// (from bus-config), no data.
        package static func bootstrap(_ configuration: Configuration) -> Snapshot {
            let data: [UInt8] = []
            return Snapshot(
                metadata: SnapshotMetadata(
                    index: 0, term: 0, chainHead: .zero, configuration: configuration, merkle: MerkleFrontier(),
                    dataHash: Snapshot.digest(of: data)),
                data: data)
        }

        /// The digest that `SnapshotMetadata.dataHash` holds.
        package static func digest(of data: [UInt8]) -> Digest256 {
            Blake2b.digest256 { hasher in hasher.update(data) }
        }
    }
}
