import BizraCrypto

extension Raft {
    /// One message between two members. `term` is the sender's current term (Raft §5.1): a
    /// receiver with a smaller term adopts it, one with a larger term answers or ignores.
    package struct Message: Equatable, Sendable {
        package var from: NodeID
        package var to: NodeID
        package var term: Term
        package var body: Body

        package init(from: NodeID, to: NodeID, term: Term, body: Body) {
            self.from = from
            self.to = to
            self.term = term
            self.body = body
        }

        package enum Body: Equatable, Sendable {
            /// RequestVote (§5.2), or a pre-vote (§9.6) when `preVote`: `term` is then the term
            /// the sender would campaign in; no state changes on either side.
            case voteRequest(VoteRequest)
            case voteResponse(preVote: Bool, granted: Bool)
            /// AppendEntries (§5.3): entries after (prevIndex, prevTerm, prevHash).
            case append(Append)
            case appendResponse(AppendResponse)
            /// A heartbeat: the leader's commit and a confirmation round (ReadIndex and lease).
            case heartbeat(commit: Index, round: UInt64)
            case heartbeatResponse(round: UInt64)
            /// One chunk of an InstallSnapshot (§7), sent one at a time.
            case snapshotChunk(SnapshotChunk)
            /// The next offset the follower wants; `done` once it installed the snapshot.
            case snapshotResponse(index: Index, nextOffset: UInt64, done: Bool, rejected: Bool)
            /// Leadership transfer (§3.10): start an election now, without pre-vote.
            case timeoutNow
            /// A follower forwards proposals to the leader.
            case forwardedProposals([ForwardedProposal])
            /// The leader refused forwarded proposals; they are definitely not committed.
            case proposalsDropped([ProposalID])
            /// A follower asks the leader to confirm a read (ReadIndex, §6.4).
            case readIndexRequest(context: UInt64)
            /// The leader's answer: serve the read once applied ≥ `index`; `index` nil = refused.
            case readIndexResponse(context: UInt64, index: Index?)
            /// "The entry at `index`, of `term`, with chain hash `hash`, is committed": sent by a
            /// node that is not a voter of its own configuration to a (pre-)candidate (see
            /// `Raft.Node.handleCommitNotice`).
            case commitNotice(index: Index, term: Term, hash: Digest256)
        }
    }

    package struct VoteRequest: Equatable, Sendable {
        package var preVote: Bool
        package var lastIndex: Index
        package var lastTerm: Term
        /// Sent after `timeoutNow`: voters skip leader stickiness for it.
        package var transfer: Bool

        package init(preVote: Bool, lastIndex: Index, lastTerm: Term, transfer: Bool) {
            self.preVote = preVote
            self.lastIndex = lastIndex
            self.lastTerm = lastTerm
            self.transfer = transfer
        }
    }

    package struct Append: Equatable, Sendable {
        package var prevIndex: Index
        package var prevTerm: Term
        /// The chain hash of the entry at `prevIndex`; a follower whose entry there hashes
        /// differently refuses, as for a term mismatch.
        package var prevHash: Digest256
        package var entries: [Entry]
        package var commit: Index

        package init(prevIndex: Index, prevTerm: Term, prevHash: Digest256, entries: [Entry], commit: Index) {
            self.prevIndex = prevIndex
            self.prevTerm = prevTerm
            self.prevHash = prevHash
            self.entries = entries
            self.commit = commit
        }
    }

    package struct AppendResponse: Equatable, Sendable {
        /// On success, the follower's durable match index; on rejection, the `prevIndex` refused.
        package var index: Index
        package var rejected: Bool
        /// On rejection: the follower's last index and the term of its entry at
        /// min(index, lastIndex), so the leader can skip a whole term at once (§5.3's optimisation).
        package var hintIndex: Index
        package var hintTerm: Term
        /// The refusal was a broken hash chain rather than a missing or mismatched entry.
        package var chainBroken: Bool

        package init(index: Index, rejected: Bool, hintIndex: Index = 0, hintTerm: Term = 0, chainBroken: Bool = false)
        {
            self.index = index
            self.rejected = rejected
            self.hintIndex = hintIndex
            self.hintTerm = hintTerm
            self.chainBroken = chainBroken
        }
    }

    package struct SnapshotChunk: Equatable, Sendable {
        package var metadata: SnapshotMetadata
        /// Total bytes of the snapshot data.
        package var totalBytes: UInt64
        package var offset: UInt64
        package var data: [UInt8]

        package init(metadata: SnapshotMetadata, totalBytes: UInt64, offset: UInt64, data: [UInt8]) {
            self.metadata = metadata
            self.totalBytes = totalBytes
            self.offset = offset
            self.data = data
        }

        package var isLast: Bool { offset + UInt64(data.count) == totalBytes }
    }

    package struct ForwardedProposal: Equatable, Sendable {
        package var id: ProposalID
        package var kind: EntryKind
        package var payload: [UInt8]

        package init(id: ProposalID, kind: EntryKind, payload: [UInt8]) {
            self.id = id
            self.kind = kind
            self.payload = payload
        }
    }
}

extension Raft.Message {
    /// Whether the message states durable facts about its sender (a granted vote, a match
    /// index, an installed snapshot, or a candidacy that counts its own vote): such messages
    /// leave only after every write started before them is durable.
    var needsDurableState: Bool {
        switch body {
        case .voteRequest(let request): return !request.preVote
        case .voteResponse(let preVote, _): return !preVote
        case .appendResponse, .snapshotResponse: return true
        case .append, .heartbeat, .heartbeatResponse, .snapshotChunk, .timeoutNow, .forwardedProposals,
            .proposalsDropped, .readIndexRequest, .readIndexResponse, .commitNotice:
            return false
        }
    }

    /// An estimate of the encoded size, for the byte figures of the benchmarks.
    package var approximateBytes: Int {
        let header = 8 + 8 + 8 + 1
        switch body {
        case .voteRequest: return header + 18
        case .voteResponse: return header + 2
        case .append(let append):
            return header + 8 + 8 + 32 + 8 + 4 + append.entries.reduce(0) { $0 + $1.accountedBytes }
        case .appendResponse: return header + 8 + 1 + 8 + 8 + 1
        case .heartbeat: return header + 16
        case .heartbeatResponse: return header + 8
        case .snapshotChunk(let chunk): return header + 256 + chunk.data.count
        case .snapshotResponse: return header + 18
        case .timeoutNow: return header
        case .forwardedProposals(let list): return header + 4 + list.reduce(0) { $0 + 21 + $1.payload.count }
        case .proposalsDropped(let ids): return header + 4 + ids.count * 16
        case .readIndexRequest: return header + 8
        case .readIndexResponse: return header + 17
        case .commitNotice: return header + 48
        }
    }
}
