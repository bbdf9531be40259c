import BizraRaft
import BizraWAL
import Dispatch
import Foundation
import Logging
import Synchronization

/// The consensus shell's disk: one dedicated thread that performs Raft writes and compactions in
/// order and group-commits them (every write queued while the previous `fdatasync` ran shares the
/// next one), then reports the newest durable token back to the event loop.
///
/// A failed write or sync cannot be retried safely (the kernel may have dropped the dirty pages,
/// as PostgreSQL's "fsyncgate" showed), so the process logs it and exits; the supervisor restarts
/// it and recovery reads what is really on disk.
final class StorageThread: @unchecked Sendable {
    enum Job: Sendable {
        case write(Raft.StorageWrite)
        /// The proof archive for the snapshot (written first, so that it is durable before the
        /// log that could rebuild it is cut), then the snapshot and the WAL compaction.
        case compact(Raft.Snapshot, Raft.HardState, WriteAheadLog.Mark, [Raft.Entry], ProofArchive.Contents)
    }

    /// Jobs queued and not yet taken. Every write a leader starts carries at least one new entry,
    /// and the core tracks at most `proposalsPendingMax` proposals; a follower's writes in flight
    /// are capped at `writesInFlightMax`; term and vote changes and compactions are rare. Beyond
    /// this bound the shell's accounting is wrong, which is a bug worth stopping for.
    static let jobsMax = Raft.Limits.proposalsPendingMax + Raft.Limits.writesInFlightMax + 1_024

    /// Touched only by the storage thread once `start` ran (hence `@unchecked Sendable`).
    private let storage: RaftDiskStorage
    private let jobs = Mutex<[Job]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let log: Logger
    /// fdatasync calls and writes made durable, for the status output.
    let syncs = Atomic<Int>(0)
    let writes = Atomic<Int>(0)

    init(storage: RaftDiskStorage, log: Logger) {
        self.storage = storage
        self.log = log
    }

    func submit(_ job: Job) {
        let count = jobs.withLock { queue in
            queue.append(job)
            return queue.count
        }
        precondition(count <= Self.jobsMax, "storage queue holds \(count) jobs, more than \(Self.jobsMax)")
        wake.signal()
    }

    func start(onDurable: @escaping @Sendable (UInt64) -> Void) {
        let thread = Thread { [self] in
            while true {
                wake.wait()
                let batch = jobs.withLock { queue in
                    let taken = queue
                    queue.removeAll(keepingCapacity: true)
                    return taken
                }
                guard !batch.isEmpty else { continue }
                if let token = perform(batch) { onDurable(token) }
            }
        }
        thread.name = "bizra-consensus-storage"
        thread.start()
    }

    /// Performs a batch with one sync at the end; returns the newest durable write token.
    private func perform(_ batch: [Job]) -> UInt64? {
        var newest: UInt64?
        do {
            for job in batch {
                switch job {
                case .write(let write):
                    try storage.persist(write)
                    newest = write.token
                    writes.add(1, ordering: .relaxed)
                case .compact(let snapshot, let hardState, let mark, let retained, let archive):
                    do { try archive.write() } catch {
                        // It costs the proofs of keys written before this snapshot, nothing else:
                        // on restart the older archive is refused (its index is below the snapshot's).
                        log.error(
                            "cannot write the proof archive; keys written before this snapshot will have no proofs here after a restart",
                            metadata: ["error": "\(error)"])
                    }
                    try storage.compact(
                        snapshot: snapshot, hardState: hardState, compactedThrough: mark, retained: retained)
                    log.info("snapshot saved and WAL compacted", metadata: ["index": "\(mark.index)"])
                }
            }
            try storage.sync()
            syncs.add(1, ordering: .relaxed)
        } catch {
            log.critical("storage failed, stopping so that recovery reads what is on disk: \(error)")
            exit(ConsensusExit.storageFailed)
        }
        return newest
    }
}

/// Exit codes of bizra-consensus beyond the component host's (0 stopped, 2 usage/config, 3 core gone).
enum ConsensusExit {
    /// The data directory is damaged or inconsistent: the node refuses to serve from it.
    static let refusedDamagedData: Int32 = 4
    /// A disk write or sync failed while running.
    static let storageFailed: Int32 = 5
}
