import BizraCrypto
import BizraRaft
import Testing

@testable import BizraWAL

#if canImport(Glibc)
    import Glibc
#endif

/// The WAL and snapshot files on a real file system: round trips, rotation, compaction, a torn
/// tail that is repaired, and damage that is refused with the file and offset.
@Suite struct WriteAheadLogTests {
    static let configuration = Raft.Configuration(weights: [1: 1, 2: 1, 3: 1])

    /// A fresh directory under /tmp, removed by the caller's `defer`.
    static func scratch() -> String {
        var template = Array("/tmp/bizra-wal-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        return path
    }

    static func removeTree(_ path: String) {
        for sub in ["wal", "snap"] {
            for name in (try? DurableFile.list(path + "/" + sub)) ?? [] { unlink(path + "/" + sub + "/" + name) }
            rmdir(path + "/" + sub)
        }
        rmdir(path)
    }

    /// Entries 1...count chained from the zero hash, `payloadBytes` each.
    static func chain(
        from first: Raft.Index = 1, count: Int, term: Raft.Term = 1, after previous: Digest256 = .zero,
        payloadBytes: Int = 100
    )
        -> [Raft.Entry]
    {
        var previous = previous
        return (0..<count).map { offset in
            let index = first + UInt64(offset)
            let entry = Raft.Entry(
                term: term, index: index, kind: .normal, origin: .init(node: 1, sequence: index),
                payload: [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: payloadBytes), previous: previous)
            previous = entry.hash
            return entry
        }
    }

    static func write(_ token: UInt64, _ entries: [Raft.Entry], term: Raft.Term = 1, commit: Raft.Index = 0)
        -> Raft.StorageWrite
    {
        Raft.StorageWrite(
            token: token, hardState: Raft.HardState(term: term, vote: 1, commit: commit), snapshot: nil,
            entries: entries)
    }

    @Test func writesSurviveAReopenAndRestartARaftNode() throws {
        let dir = Self.scratch()
        defer { Self.removeTree(dir) }
        let entries = Self.chain(count: 50)
        do {
            let opened = try RaftDiskStorage.open(directory: dir, bootstrap: Self.configuration)
            #expect(opened.recovered.entries.isEmpty)
            try opened.storage.persist(Self.write(1, Array(entries[0..<30]), commit: 10))
            try opened.storage.persist(Self.write(2, Array(entries[30...]), commit: 40))
            try opened.storage.sync()
        }
        let reopened = try RaftDiskStorage.open(directory: dir, bootstrap: Raft.Configuration(weights: [9: 1]))
        #expect(reopened.recovered.entries == entries)
        #expect(reopened.recovered.hardState == Raft.HardState(term: 1, vote: 1, commit: 40))
        // The bootstrap configuration was saved on first open: a changed bus-config does not apply.
        #expect(reopened.recovered.snapshot.metadata.configuration == Self.configuration)
        let node = try Raft.Node(settings: Raft.Settings(id: 1), recovered: reopened.recovered)
        #expect(node.status.lastIndex == 50)
    }

    @Test func aConflictingAppendReplacesTheSuffixOnReplay() throws {
        let dir = Self.scratch()
        defer { Self.removeTree(dir) }
        let first = Self.chain(count: 10)
        let replacement = Self.chain(from: 6, count: 3, term: 2, after: first[4].hash)
        do {
            let opened = try RaftDiskStorage.open(directory: dir, bootstrap: Self.configuration)
            try opened.storage.persist(Self.write(1, first))
            try opened.storage.persist(Self.write(2, replacement, term: 2))
            try opened.storage.sync()
        }
        let reopened = try RaftDiskStorage.open(directory: dir, bootstrap: Self.configuration)
        #expect(reopened.recovered.entries == Array(first[0..<5]) + replacement)
    }

    @Test func segmentsRotateAndReplayInOrder() throws {
        let dir = Self.scratch()
        defer { Self.removeTree(dir) }
        var settings = WriteAheadLog.Settings()
        settings.segmentBytesMax = 4_096
        let entries = Self.chain(count: 200)
        do {
            let opened = try RaftDiskStorage.open(directory: dir, bootstrap: Self.configuration, settings: settings)
            for (token, batch) in stride(from: 0, to: 200, by: 10).enumerated() {
                try opened.storage.persist(Self.write(UInt64(token + 1), Array(entries[batch..<batch + 10])))
                try opened.storage.sync()
            }
        }
        let segments = try DurableFile.list(dir + "/wal")
        #expect(segments.count > 5)
        let reopened = try RaftDiskStorage.open(directory: dir, bootstrap: Self.configuration, settings: settings)
        #expect(reopened.recovered.entries == entries)
    }

    @Test func aTornTailIsCutOffAndReported() throws {
        let dir = Self.scratch()
        defer { Self.removeTree(dir) }
        let entries = Self.chain(count: 20)
        do {
            let opened = try RaftDiskStorage.open(directory: dir, bootstrap: Self.configuration)
            try opened.storage.persist(Self.write(1, Array(entries[0..<10])))
            try opened.storage.sync()
            try opened.storage.persist(Self.write(2, Array(entries[10...])))
            try opened.storage.sync()
        }
        let segment = dir + "/wal/" + (try DurableFile.list(dir + "/wal")).last!
        let size = try DurableFile.readAll(segment).count
        try DurableFile.truncate(segment, to: size - 37)  // the last append stopped part-way
        let reopened = try RaftDiskStorage.open(directory: dir, bootstrap: Self.configuration)
        #expect(reopened.recovered.entries == Array(entries[0..<10]))
        #expect(reopened.repairedTail?.file == segment)
        // The repair is durable: the next open finds a clean log.
        let again = try RaftDiskStorage.open(directory: dir, bootstrap: Self.configuration)
        #expect(again.repairedTail == nil)
        #expect(again.recovered.entries == Array(entries[0..<10]))
    }

    @Test func aDamagedRecordInTheMiddleIsRefusedWithFileAndOffset() throws {
        let dir = Self.scratch()
        defer { Self.removeTree(dir) }
        let entries = Self.chain(count: 20)
        var firstRecordEnd = 0
        do {
            let opened = try RaftDiskStorage.open(directory: dir, bootstrap: Self.configuration)
            try opened.storage.persist(Self.write(1, Array(entries[0..<10])))
            try opened.storage.sync()
            firstRecordEnd = opened.storage.wal.bytesWritten
            try opened.storage.persist(Self.write(2, Array(entries[10...])))
            try opened.storage.sync()
        }
        let segment = dir + "/wal/" + (try DurableFile.list(dir + "/wal")).last!
        var bytes = try DurableFile.readAll(segment)
        bytes[firstRecordEnd / 2] ^= 0x40
        let fd = open(segment, O_WRONLY | O_TRUNC)
        try DurableFile.writeAll(fd, bytes, path: segment)
        close(fd)
        do {
            _ = try RaftDiskStorage.open(directory: dir, bootstrap: Self.configuration)
            Issue.record("a damaged record in the middle was accepted")
        } catch {
            #expect(error.code == .corrupt)
            #expect(error.file == segment)
            #expect(error.offset > 0 && error.offset <= firstRecordEnd)
            #expect(error.description.contains("refuses to serve"))
        }
    }

    @Test func compactionKeepsTheRetainedEntriesAndDropsOldSegments() throws {
        let dir = Self.scratch()
        defer { Self.removeTree(dir) }
        var settings = WriteAheadLog.Settings()
        settings.segmentBytesMax = 2_048
        let entries = Self.chain(count: 100)
        let opened = try RaftDiskStorage.open(directory: dir, bootstrap: Self.configuration, settings: settings)
        try opened.storage.persist(Self.write(1, entries, commit: 100))
        try opened.storage.sync()
        let before = try DurableFile.list(dir + "/wal")
        #expect(before.count > 1)
        let snapshot = Raft.Snapshot(
            metadata: Raft.SnapshotMetadata(
                index: 80, term: 1, chainHead: entries[79].hash, configuration: Self.configuration,
                merkle: Self.frontier(entries[0..<80]), dataHash: Raft.Snapshot.digest(of: [1, 2, 3])),
            data: [1, 2, 3])
        try opened.storage.compact(
            snapshot: snapshot, hardState: Raft.HardState(term: 1, vote: 1, commit: 100),
            compactedThrough: .init(index: 70, term: 1, chainHead: entries[69].hash), retained: Array(entries[70...]))
        // Every segment from before the compaction is gone (the rewrite may itself rotate).
        #expect(Set(try DurableFile.list(dir + "/wal")).isDisjoint(with: before))
        let reopened = try RaftDiskStorage.open(directory: dir, bootstrap: Self.configuration, settings: settings)
        #expect(reopened.recovered.snapshot == snapshot)
        #expect(reopened.recovered.entries == Array(entries[80...]))
    }

    @Test func aDamagedSnapshotIsRefused() throws {
        let dir = Self.scratch()
        defer { Self.removeTree(dir) }
        _ = try RaftDiskStorage.open(directory: dir, bootstrap: Self.configuration)
        let file = dir + "/snap/" + (try DurableFile.list(dir + "/snap")).last!
        var bytes = try DurableFile.readAll(file)
        bytes[bytes.count - 3] ^= 1
        let fd = open(file, O_WRONLY | O_TRUNC)
        try DurableFile.writeAll(fd, bytes, path: file)
        close(fd)
        #expect(throws: StorageError.self) { try RaftDiskStorage.open(directory: dir, bootstrap: Self.configuration) }
    }

    @Test func crcMatchesTheCastagnoliCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    static func frontier(_ entries: ArraySlice<Raft.Entry>) -> Raft.MerkleFrontier {
        var frontier = Raft.MerkleFrontier()
        for entry in entries { frontier.append(entry.hash) }
        return frontier
    }
}
