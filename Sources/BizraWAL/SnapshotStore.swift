import BizraRaft

/// Snapshot files, written atomically: temporary file, fdatasync, rename, directory fsync.
///
/// `<directory>/<index, 20 digits>.snap` holds `magic(8) | crc32c u32 | encoded Raft.Snapshot`.
/// The newest `keep` snapshots are kept. Loading takes the newest; a damaged newest snapshot is
/// an error (the node refuses to serve), not a silent fall-back to an older one whose log may
/// already be compacted away.
package struct SnapshotStore {
    package let directory: String
    /// Snapshots kept on disk (the newest first).
    package var keep = 2
    /// The largest snapshot data accepted on load.
    package var dataBytesMax = 1 << 30

    static let magic: [UInt8] = Array("BZSNAP01".utf8)

    package init(directory: String) throws(StorageError) {
        self.directory = directory
        try DurableFile.makeDirectory(directory)
    }

    /// Writes `snapshot` durably and prunes older ones. Returns the file's path.
    @discardableResult
    package func save(_ snapshot: Raft.Snapshot) throws(StorageError) -> String {
        var writer = Raft.ByteWriter(capacity: snapshot.data.count + 512)
        snapshot.encode(into: &writer)
        let path = path(for: snapshot.metadata.index)
        try ChecksummedFile.write(path, magic: Self.magic, body: writer.bytes)
        try prune()
        return path
    }

    /// The newest snapshot, or nil when there is none.
    package func loadLatest() throws(StorageError) -> Raft.Snapshot? {
        guard let name = try snapshotNames().last else { return nil }
        return try load(directory + "/" + name)
    }

    /// Reads and checks one snapshot file.
    package func load(_ path: String) throws(StorageError) -> Raft.Snapshot {
        let body = try ChecksummedFile.read(path, magic: Self.magic, what: "snapshot")
        var reader = Raft.ByteReader(body)
        do {
            let snapshot = try Raft.Snapshot.decode(from: &reader, dataBytesMax: dataBytesMax)
            try reader.expectEnd("snapshot")
            return snapshot
        } catch {
            throw StorageError(.corrupt, file: path, offset: 12 + reader.offset, "snapshot does not decode (\(error))")
        }
    }

    /// The file that holds the snapshot at `index`.
    package func path(for index: Raft.Index) -> String {
        let digits = String(index)
        return directory + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".snap"
    }

    private func snapshotNames() throws(StorageError) -> [String] {
        try DurableFile.list(directory).filter { $0.hasSuffix(".snap") }
    }

    private func prune() throws(StorageError) {
        let names = try snapshotNames()
        guard names.count > keep else { return }
        for name in names.prefix(names.count - keep) { try DurableFile.remove(directory + "/" + name) }
        try DurableFile.syncPath(directory)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
