import BizraRaft

/// A consensus member's durable state: the WAL (`<data>/wal`) and the snapshot files
/// (`<data>/snap`), and how they recombine into a `Raft.Recovered` at start.
///
/// Obligations it carries out for the shell (see `Raft.Ready`): a write's snapshot is saved as a
/// file before the WAL records that refer to it; `sync()` makes every queued write durable with
/// one `fdatasync` (group commit), after which the shell reports the writes' tokens.
package final class RaftDiskStorage {
    package let wal: WriteAheadLog
    package let snapshots: SnapshotStore

    private init(wal: WriteAheadLog, snapshots: SnapshotStore) {
        self.wal = wal
        self.snapshots = snapshots
    }

    /// What opening found: the state to start the Raft node from, and a torn tail that was cut.
    package struct Opened {
        package var storage: RaftDiskStorage
        package var recovered: Raft.Recovered
        package var repairedTail: (file: String, offset: Int, bytesDropped: Int)?
    }

    /// Opens the data directory, creating it with `bootstrap` as the first configuration when it
    /// is empty (that snapshot is saved at once, so a later edit of bus-config cannot change it).
    package static func open(
        directory: String, bootstrap: Raft.Configuration, settings: WriteAheadLog.Settings = .init()
    ) throws(StorageError) -> Opened {
        let snapshots = try SnapshotStore(directory: directory + "/snap")
        let (wal, contents) = try WriteAheadLog.open(directory: directory + "/wal", settings: settings)
        var snapshot = try snapshots.loadLatest()
        if snapshot == nil {
            if let mark = contents.mark {
                throw StorageError(
                    .inconsistent, file: directory + "/wal",
                    "the WAL refers to a snapshot at index \(mark.index) but \(directory)/snap holds none")
            }
            let initial = Raft.Snapshot.bootstrap(bootstrap)
            try snapshots.save(initial)
            snapshot = initial
        }
        let base = snapshot!
        if let mark = contents.mark, mark.index > base.metadata.index {
            throw StorageError(
                .inconsistent, file: directory + "/wal",
                "the WAL refers to a snapshot at index \(mark.index), newer than the newest snapshot file (\(base.metadata.index))"
            )
        }
        guard let entries = entriesAfter(base.metadata, in: contents.entries) else {
            throw StorageError(
                .inconsistent, file: directory + "/wal",
                "the WAL's entries start at index \(contents.entries.first?.index ?? 0), leaving a gap after the snapshot at \(base.metadata.index)"
            )
        }
        let recovered = Raft.Recovered(hardState: contents.hardState, snapshot: base, entries: entries)
        return Opened(
            storage: RaftDiskStorage(wal: wal, snapshots: snapshots), recovered: recovered,
            repairedTail: contents.repairedTail)
    }

    /// The WAL's entries that follow the snapshot. If the WAL holds the snapshot's own index with
    /// a different term or hash, the log was replaced by that snapshot (a crash came between
    /// saving it and recording it in the WAL), and nothing after it is kept. Nil when the entries
    /// leave a gap after the snapshot (data is missing).
    static func entriesAfter(_ metadata: Raft.SnapshotMetadata, in entries: [Raft.Entry]) -> [Raft.Entry]? {
        if let atSnapshot = entries.first(where: { $0.index == metadata.index }),
            atSnapshot.term != metadata.term || atSnapshot.hash != metadata.chainHead
        {
            return []
        }
        let after = entries.filter { $0.index > metadata.index }
        guard let first = after.first else { return [] }
        return first.index == metadata.index + 1 ? after : nil
    }

    /// Queues one Raft write (saving its snapshot file first, durably, if it has one).
    package func persist(_ write: Raft.StorageWrite) throws(StorageError) {
        if let snapshot = write.snapshot { try snapshots.save(snapshot) }
        wal.append(write)
    }

    /// Makes every queued write durable (one fdatasync for all of them).
    package func sync() throws(StorageError) { try wal.sync() }

    /// Saves a snapshot the application took (`Raft.Node.compact`) and rewrites the WAL behind
    /// it, keeping `retained` (the node's entries after its compaction point).
    package func compact(
        snapshot: Raft.Snapshot, hardState: Raft.HardState, compactedThrough mark: WriteAheadLog.Mark,
        retained: [Raft.Entry]
    )
        throws(StorageError)
    {
        try snapshots.save(snapshot)
        try wal.compact(hardState: hardState, mark: mark, retained: retained)
    }
}
