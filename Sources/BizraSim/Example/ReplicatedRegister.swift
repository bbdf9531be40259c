/// The example protocol: a fixed-leader, majority-replicated key–value register (read, write,
/// compare-and-set), written as a sans-IO node to show how a core plugs into the simulator.
///
/// Node 0 is the leader. A write or CAS is decided against the leader's tentative state, appended
/// to its log, persisted, then replicated; it is acknowledged once a majority (the leader
/// included) has it durable, in log order. Reads are served by the leader from committed state.
/// Backups append entries in order, persist them and acknowledge their durable length; the leader
/// retransmits from each backup's acknowledged length on every tick, so loss, duplication and
/// reordering only cost time. After a crash every node recovers its log from disk; the leader
/// treats its whole durable log as committed (entries it had not acknowledged were reported to
/// their clients as indeterminate, which linearizability allows to take effect late).
///
/// This is primary–backup replication (Alsberg & Day, 1976) with Raft's persist-before-send and
/// majority-ack rules but no elections: if node 0 is down the register is unavailable. Three bugs
/// can be injected (`RegisterBug`) so tests can show the simulator and checkers find them.
package enum ReplicatedRegister {
    package static let leader: NodeID = 0

    /// One log entry: set `key` to `value`, or a no-op (a CAS that failed) when `key` is -1.
    package struct Entry: Equatable, Sendable, CustomStringConvertible {
        package var key: Int32
        package var value: Int64
        package static let noOp = Entry(key: -1, value: 0)
        package var description: String { key < 0 ? "noop" : "k\(key)=\(value)" }
    }

    /// Node → node messages.
    package enum Message: Equatable, Sendable {
        /// Leader → backup: entries starting at log index `first` (1-based), and the commit index.
        case append(first: Int, entries: [Entry], commit: Int)
        /// Backup → leader: my log is durable up to `durable`.
        case ack(durable: Int)
    }

    /// Client → node requests; keys are `0..<Config.keyCount`, values start at 0.
    package enum Request: Equatable, Sendable {
        case read(key: Int)
        case write(key: Int, value: Int64)
        case cas(key: Int, expected: Int64, new: Int64)
    }

    /// Node → client answers.
    package enum Response: Equatable, Sendable {
        case value(Int64)
        case written
        case swapped
        /// The CAS did not apply: the current value differed from the expected one.
        case mismatch
        /// This node does not serve the request; it certainly had no effect.
        case notLeader
        /// Too many requests are waiting for commit; it certainly had no effect.
        case busy
    }

    /// Bugs a test can inject to see the simulator find them.
    package enum Bug: String, CaseIterable, Sendable {
        case none
        /// The leader acknowledges writes as soon as it decides them, before they are durable.
        case ackBeforeDurable = "ack-before-durable"
        /// Backups answer reads from their own, possibly stale, copy.
        case readFromBackup = "read-from-backup"
        /// The leader replicates entries before its own write of them is durable.
        case sendBeforePersist = "send-before-persist"
    }

    /// Settings shared by every node of a run.
    package struct Config: Sendable {
        package var keyCount = 3
        package var bug = Bug.none
        /// Local µs between the leader's retransmission ticks.
        package var tickInterval: SimTime = 5_000
        /// Entries per append message.
        package var appendBatchMax = 64
        /// Writes waiting for commit at the leader; beyond it requests are refused with `busy`.
        package var pendingRepliesMax = 1_024
        /// Log entries the leader accepts (there is no compaction); beyond it writes get `busy`.
        package var logEntriesMax = 500_000
        package init() {}
    }
}
