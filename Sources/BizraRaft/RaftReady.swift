extension Raft {
    /// Everything the core asks of its caller after a batch of inputs, in the order the caller
    /// MUST act on it. Take it with `Raft.Node.takeReady()` after any input.
    ///
    /// 1. **`write`** — if present, start it as one ordered write: `hardState`, then `snapshot`,
    ///    then `entries`, where the first entry replaces the log from its index on (truncate any
    ///    suffix first). Writes MUST become durable in the order of their tokens; when one is,
    ///    call `Raft.Node.persisted(token:)`. The call may come much later (asynchronous storage):
    ///    the core has already withheld every message that depends on the write, and releases them
    ///    in a later `Ready` once told the write is durable. A synchronous caller simply reports
    ///    the token right after the write.
    /// 2. **`messages`** — send them, in any order, as soon as convenient. None of them depends
    ///    on a write that is not yet durable.
    /// 3. **`snapshotToApply`** — if present, replace the state machine with it, BEFORE applying
    ///    `committedEntries`.
    /// 4. **`committedEntries`** — apply them in order. They are committed and durable locally;
    ///    `configChange` entries are already in effect in the core when handed out.
    /// 5. **`reads`** — answer each confirmed read once the state machine has applied at least its
    ///    `index`; refused reads are answered with an error.
    /// 6. **`outcomes`** — tell proposers how their proposals ended.
    ///
    /// `role`, `leader` and `events` are informational (logs, metrics, simulator coverage).
    package struct Ready: Sendable {
        package var write: StorageWrite?
        package var messages: [Message] = []
        package var snapshotToApply: Snapshot?
        package var committedEntries: [Entry] = []
        package var reads: [ReadResult] = []
        package var outcomes: [ProposalOutcome] = []
        package var role: Role
        package var leader: NodeID?
        package var term: Term
        package var events: [Event] = []

        package var isEmpty: Bool {
            write == nil && messages.isEmpty && snapshotToApply == nil && committedEntries.isEmpty && reads.isEmpty
                && outcomes.isEmpty && events.isEmpty
        }
    }

    /// One ordered write to stable storage (see `Ready`).
    package struct StorageWrite: Equatable, Sendable {
        /// Report this token to `Raft.Node.persisted(token:)` once the write is durable.
        package var token: UInt64
        package var hardState: HardState?
        package var snapshot: Snapshot?
        /// Replace the log from `entries.first.index` on (after the snapshot, if any).
        package var entries: [Entry]

        package init(token: UInt64, hardState: HardState?, snapshot: Snapshot?, entries: [Entry]) {
            self.token = token
            self.hardState = hardState
            self.snapshot = snapshot
            self.entries = entries
        }
    }

    package enum Role: String, Equatable, Sendable {
        case follower, preCandidate = "pre-candidate", candidate, leader
    }

    /// A read request's result: confirmed at `index`, or refused with a reason.
    package struct ReadResult: Equatable, Sendable {
        package var context: UInt64
        /// Serve the read once applied ≥ index; nil when the read was refused.
        package var index: Index?
        package var refusal: String?
    }

    /// How a proposal ended. Every proposal the core accepted ends exactly once.
    package struct ProposalOutcome: Equatable, Sendable {
        package var id: ProposalID
        package var result: Result

        package enum Result: Equatable, Sendable {
            /// Committed at `index`; it will be (or was) applied everywhere.
            case committed(index: Index)
            /// Definitely not committed, and never will be: the leader refused it, or another
            /// entry committed at its index.
            case dropped(reason: String)
            /// The core lost track (the proposer stopped leading, a snapshot replaced its index,
            /// or it timed out): it may or may not commit. Retry only if the command is idempotent
            /// or deduplicated (bizra-consensus deduplicates by client and sequence).
            case unknown(reason: String)
        }
    }

    /// Why a proposal was not accepted at all (`Raft.Node.propose` returns it).
    package enum ProposalRefusal: Error, Equatable, Sendable, CustomStringConvertible {
        case noLeader
        case transferInProgress
        case uncommittedLimit(bytes: Int)
        case tooManyPending
        case configChange(ConfigChangeRefusal)
        case notMember
        /// This leader was removed from the configuration and hands over to the new voters.
        case leaving

        package var description: String {
            switch self {
            case .noLeader: return "no leader is known; retry after an election"
            case .transferInProgress: return "leadership is being transferred; retry shortly"
            case .uncommittedLimit(let bytes): return "\(bytes) bytes are uncommitted; slow down"
            case .tooManyPending: return "\(Raft.Limits.proposalsPendingMax) proposals are pending; slow down"
            case .configChange(let refusal): return "configuration change refused: \(refusal)"
            case .notMember: return "this node is not a member"
            case .leaving: return "this leader was removed from the configuration; retry on the next leader"
            }
        }
    }

    /// How `propose` took a proposal: appended at `index` by this leader, or forwarded.
    package enum ProposalAcceptance: Equatable, Sendable {
        case appended(index: Index, term: Term)
        case forwarded(to: NodeID)
    }

    /// Something worth logging or counting (and, in the simulator, covering).
    package enum Event: Equatable, Sendable {
        case becameLeader(term: Term)
        case steppedDown(reason: String)
        /// A committed configuration removed this leader; it hands over (see `Raft.Departure`).
        case departureStarted(index: Index)
        /// A removed member's commit notice advanced this node's commit index.
        case commitLearned(index: Index)
        case campaignStarted(term: Term, preVote: Bool)
        case configurationApplied(Configuration, index: Index)
        case configurationRefused(index: Index, reason: String)
        case snapshotInstalled(index: Index)
        case snapshotRefused(reason: String)
        case chainBroken(index: Index)
        case transferStarted(to: NodeID)
        case transferAborted(to: NodeID)
        case leaseRead
        case compacted(through: Index)
    }
}
