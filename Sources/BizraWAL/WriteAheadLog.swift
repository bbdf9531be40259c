import BizraCrypto
import BizraRaft

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A segmented, checksummed write-ahead log of Raft state: hard states, entries and snapshot
/// marks, made durable with `fdatasync` in groups (one sync covers every record appended
/// since the last).
///
/// Files: `<directory>/<sequence, 20 digits>.wal`. Each record is
/// `length u32 | crc32c u32 | type u8 | body`, big-endian, where the checksum covers type and
/// body. A segment starts with a header record (magic and sequence) and is closed once it
/// passes `segmentBytesMax`. On open, the segments are replayed in order: a damaged record at
/// the very end of the last segment is a torn write (the machine stopped mid-append) and is cut
/// off; damage anywhere else is corruption, reported with the file and offset, and the caller
/// MUST refuse to serve. The model is etcd's WAL (server/storage/wal), with its repair rule.
package final class WriteAheadLog {
    package struct Settings: Sendable {
        /// A segment is closed once it grows past this many bytes.
        package var segmentBytesMax = 64 * 1_024 * 1_024
        /// The largest record body (an entries record is split below it).
        package var recordBytesMax = 16 * 1_024 * 1_024

        package init() {}
    }

    /// A snapshot boundary recorded in the log: entries at or before `index` are gone.
    package struct Mark: Equatable, Sendable {
        package var index: Raft.Index
        package var term: Raft.Term
        package var chainHead: Digest256
    }

    /// What replaying the log found.
    package struct Contents: Sendable {
        package var hardState = Raft.HardState()
        package var mark: Mark?
        package var entries: [Raft.Entry] = []
        /// Set when a torn tail was cut off: the file, the offset cut at, the bytes dropped.
        package var repairedTail: (file: String, offset: Int, bytesDropped: Int)?
    }

    enum RecordType: UInt8 {
        case header = 0
        case hardState = 1
        case entries = 2
        case mark = 3
    }

    static let magic: [UInt8] = Array("BZWAL001".utf8)

    package let directory: String
    package let settings: Settings
    private var segments: [(sequence: UInt64, path: String)]
    private var fd: Int32
    private var segmentBytes: Int
    private var pending: [UInt8] = []
    /// Bytes appended since `open` and syncs done, for metrics.
    package private(set) var bytesWritten = 0
    package private(set) var syncs = 0

    private init(directory: String, settings: Settings, segments: [(UInt64, String)], fd: Int32, segmentBytes: Int) {
        self.directory = directory
        self.settings = settings
        self.segments = segments
        self.fd = fd
        self.segmentBytes = segmentBytes
    }

    deinit { close(fd) }

    /// Opens (creating if needed) the log in `directory` and replays it.
    package static func open(directory: String, settings: Settings = Settings()) throws(StorageError) -> (
        WriteAheadLog, Contents
    ) {
        try DurableFile.makeDirectory(directory)
        let names = try DurableFile.list(directory).filter { $0.hasSuffix(".wal") }
        var segments: [(UInt64, String)] = []
        for name in names {
            guard let sequence = UInt64(name.dropLast(4)) else {
                throw StorageError(
                    .inconsistent, file: directory + "/" + name, "a WAL file name must be a sequence number")
            }
            segments.append((sequence, directory + "/" + name))
        }
        var contents = Contents()
        for (position, segment) in segments.enumerated() {
            try replay(
                segment.1, sequence: segment.0, isLast: position == segments.count - 1, settings: settings,
                into: &contents)
        }
        if segments.isEmpty {
            let path = segmentPath(directory, sequence: 1)
            let fd = try DurableFile.openAppend(path)
            let log = WriteAheadLog(
                directory: directory, settings: settings, segments: [(1, path)], fd: fd, segmentBytes: 0)
            log.pending = record(.header, header(sequence: 1))
            try log.sync()
            try DurableFile.syncPath(directory)
            return (log, contents)
        }
        let last = segments[segments.count - 1]
        let fd = try DurableFile.openAppend(last.1)
        let size = Int(lseek(fd, 0, SEEK_END))
        return (
            WriteAheadLog(directory: directory, settings: settings, segments: segments, fd: fd, segmentBytes: size),
            contents
        )
    }

    // MARK: Appending

    /// Queues the records of one Raft write. If the write carries a snapshot, the caller MUST have
    /// saved it durably (`SnapshotStore.save`) first: the mark written here refers to it.
    package func append(_ write: Raft.StorageWrite) {
        if let hardState = write.hardState {
            var writer = Raft.ByteWriter(capacity: 24)
            hardState.encode(into: &writer)
            pending += Self.record(.hardState, writer.bytes)
        }
        if let snapshot = write.snapshot {
            let metadata = snapshot.metadata
            pending += Self.record(
                .mark, Self.markBody(Mark(index: metadata.index, term: metadata.term, chainHead: metadata.chainHead)))
        }
        appendEntries(write.entries)
    }

    private func appendEntries(_ entries: [Raft.Entry]) {
        var start = 0
        while start < entries.count {
            var writer = Raft.ByteWriter(capacity: 4_096)
            writer.u32(0)
            var count = 0
            while start + count < entries.count {
                let entry = entries[start + count]
                if count > 0,
                    writer.bytes.count + entry.payload.count + Raft.Entry.headerBytes > settings.recordBytesMax
                {
                    break
                }
                entry.encode(into: &writer)
                count += 1
            }
            var body = writer.bytes
            body[0] = UInt8(truncatingIfNeeded: count >> 24)
            body[1] = UInt8(truncatingIfNeeded: count >> 16)
            body[2] = UInt8(truncatingIfNeeded: count >> 8)
            body[3] = UInt8(truncatingIfNeeded: count)
            pending += Self.record(.entries, body)
            start += count
        }
    }

    /// Writes everything queued and waits for `fdatasync`: when this returns, every write
    /// appended before it is durable (group commit). Rotates the segment when it is full.
    package func sync() throws(StorageError) {
        guard !pending.isEmpty else { return }
        let path = segments[segments.count - 1].path
        try DurableFile.writeAll(fd, pending, path: path)
        try DurableFile.syncData(fd, path: path)
        segmentBytes += pending.count
        bytesWritten += pending.count
        syncs += 1
        pending.removeAll(keepingCapacity: true)
        if segmentBytes >= settings.segmentBytesMax { try rotate() }
    }

    /// Whether records are queued and not yet synced.
    package var hasPending: Bool { !pending.isEmpty }

    private func rotate() throws(StorageError) {
        let sequence = segments[segments.count - 1].sequence + 1
        let path = Self.segmentPath(directory, sequence: sequence)
        let newFD = try DurableFile.openAppend(path)
        close(fd)
        fd = newFD
        segments.append((sequence, path))
        segmentBytes = 0
        pending = Self.record(.header, Self.header(sequence: sequence))
        try DurableFile.writeAll(fd, pending, path: path)
        try DurableFile.syncData(fd, path: path)
        segmentBytes = pending.count
        pending.removeAll(keepingCapacity: true)
        try DurableFile.syncPath(directory)
    }

    /// Log compaction behind a snapshot: starts a new segment holding the whole remaining state
    /// (hard state, the mark, the retained entries), makes it durable, then deletes the older
    /// segments. A crash at any point leaves either the old segments or the new one complete.
    package func compact(hardState: Raft.HardState, mark: Mark, retained: [Raft.Entry]) throws(StorageError) {
        try sync()
        let old = segments
        let sequence = old[old.count - 1].sequence + 1
        let path = Self.segmentPath(directory, sequence: sequence)
        let newFD = try DurableFile.openAppend(path)
        close(fd)
        fd = newFD
        segments = [(sequence, path)]
        segmentBytes = 0
        pending = Self.record(.header, Self.header(sequence: sequence))
        var writer = Raft.ByteWriter(capacity: 24)
        hardState.encode(into: &writer)
        pending += Self.record(.hardState, writer.bytes)
        pending += Self.record(.mark, Self.markBody(mark))
        appendEntries(retained)
        try sync()
        try DurableFile.syncPath(directory)
        for segment in old { try DurableFile.remove(segment.path) }
        try DurableFile.syncPath(directory)
    }

    // MARK: Encoding

    static func segmentPath(_ directory: String, sequence: UInt64) -> String {
        let digits = String(sequence)
        return directory + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".wal"
    }

    static func header(sequence: UInt64) -> [UInt8] {
        var writer = Raft.ByteWriter(capacity: 16)
        for byte in magic { writer.u8(byte) }
        writer.u64(sequence)
        return writer.bytes
    }

    static func markBody(_ mark: Mark) -> [UInt8] {
        var writer = Raft.ByteWriter(capacity: 48)
        writer.u64(mark.index)
        writer.u64(mark.term)
        writer.digest(mark.chainHead)
        return writer.bytes
    }

    static func record(_ type: RecordType, _ body: [UInt8]) -> [UInt8] {
        var payload = [type.rawValue]
        payload += body
        var writer = Raft.ByteWriter(capacity: payload.count + 8)
        writer.u32(UInt32(payload.count))
        writer.u32(CRC32C.checksum(payload))
        var out = writer.bytes
        out += payload
        return out
    }

    // MARK: Replay

    private static func replay(
        _ path: String, sequence: UInt64, isLast: Bool, settings: Settings, into contents: inout Contents
    ) throws(StorageError) {
        let data = try DurableFile.readAll(path)
        var offset = 0
        var sawHeader = false
        while offset < data.count {
            let damage: String?
            var payload: ArraySlice<UInt8> = []
            if data.count - offset < 8 {
                damage = "a record header is cut short"
            } else {
                let length = Int(data.bigEndianUInt32(at: offset))
                let checksum = data.bigEndianUInt32(at: offset + 4)
                if length == 0 || length > settings.recordBytesMax + 1 {
                    damage = "a record length of \(length) bytes is impossible"
                } else if offset + 8 + length > data.count {
                    damage = "a record of \(length) bytes runs past the end of the file"
                } else {
                    payload = data[(offset + 8)..<(offset + 8 + length)]
                    damage = payload.withUnsafeBytes { CRC32C.checksum($0) } == checksum ? nil : "checksum mismatch"
                }
            }
            if let damage {
                // A torn write: the damaged record is the last thing in the last segment.
                let recordEnd = payload.isEmpty ? data.count : offset + 8 + payload.count
                if isLast, recordEnd == data.count {
                    try DurableFile.truncate(path, to: offset)
                    contents.repairedTail = (path, offset, data.count - offset)
                    return
                }
                throw StorageError(.corrupt, file: path, offset: offset, "WAL record damaged (\(damage))")
            }
            try apply(
                Array(payload), sequence: sequence, sawHeader: &sawHeader, into: &contents, path: path, offset: offset)
            offset += 8 + payload.count
        }
    }

    private static func apply(
        _ payload: [UInt8], sequence: UInt64, sawHeader: inout Bool, into contents: inout Contents, path: String,
        offset: Int
    ) throws(StorageError) {
        func corrupt(_ why: String) -> StorageError { StorageError(.corrupt, file: path, offset: offset, why) }
        var reader = Raft.ByteReader(Array(payload.dropFirst()))
        guard let type = RecordType(rawValue: payload[0]) else { throw corrupt("unknown record type \(payload[0])") }
        if !sawHeader {
            guard type == .header, payload.count == 17, Array(payload[1...8]) == magic,
                payload.bigEndianUInt64(at: 9) == sequence
            else { throw corrupt("the segment does not start with its header") }
            sawHeader = true
            return
        }
        do {
            switch type {
            case .header:
                throw Raft.CodecError(field: "record", problem: "a second segment header")
            case .hardState:
                contents.hardState = try Raft.HardState.decode(from: &reader)
            case .mark:
                let mark = Mark(
                    index: try reader.u64("mark.index"), term: try reader.u64("mark.term"),
                    chainHead: try reader.digest("mark.chainHead"))
                contents.mark = mark
                contents.entries.removeAll()
            case .entries:
                let count = Int(try reader.u32("entries.count"))
                for _ in 0..<count {
                    let entry = try Raft.Entry.decode(from: &reader)
                    let base = contents.mark?.index ?? 0
                    let last = base + UInt64(contents.entries.count)
                    guard entry.index > base, entry.index <= last + 1 else {
                        throw Raft.CodecError(field: "entries", problem: "index \(entry.index) does not follow \(last)")
                    }
                    contents.entries.removeLast(Int(last + 1 - entry.index))
                    contents.entries.append(entry)
                }
            }
            try reader.expectEnd("record")
        } catch {
            throw corrupt("a WAL record does not decode (\(error))")
        }
    }
}

extension [UInt8] {
    func bigEndianUInt32(at offset: Int) -> UInt32 {
        self[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    func bigEndianUInt64(at offset: Int) -> UInt64 {
        self[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) }
    }
}
