import BizraRaft
import BizraWAL
import Logging

/// The entries that last wrote the live keys, kept past compaction so that `consensus.proof`
/// can prove keys written before this member's snapshot (the Merkle leaves of every entry are
/// in `MerkleLeafFile`; the entry itself would otherwise be gone with the log).
///
/// `<data>/proof.entries` is rewritten whole at every compaction by the storage thread, before
/// it writes the snapshot and cuts the log (`ChecksummedFile`: temporary file, fdatasync,
/// rename): `through u64` (the index of the
/// snapshot it was written for), `count u32`, then per key `u32 length | key | encoded
/// Raft.Entry` (§10 entry encoding). It is written before that snapshot: after a crash in
/// between, the member starts from the older snapshot, and entries above it are ignored on
/// load (they apply again from the log). It holds, for every key whose last write is at or
/// below the snapshot's index, that entry; keys deleted or written again since drop out. A
/// proof still checks the entry's hash against the leaf file, so a stale or damaged archive can
/// cost a proof but never forge one: a damaged file is logged and set aside, and the member
/// keeps serving (it answers proofs of those keys with an error).
struct ProofArchive {
    let path: String
    private(set) var entries: [[UInt8]: Raft.Entry] = [:]

    static let magic: [UInt8] = Array("BZPROOF2".utf8)
    /// The most entries a file may hold on load (one per live key; the store's key bound is far
    /// below this).
    static let entriesMax = 10_000_000
    /// The longest key a file may hold on load.
    static let keyBytesMax = 64 << 10

    /// Loads `path` if present; a file that does not check is renamed `<path>.damaged` and
    /// logged, and the archive starts empty.
    init(path: String, snapshotIndex: Raft.Index, log: Logger) {
        self.path = path
        guard access(path, F_OK) == 0 else { return }
        do {
            let body = try ChecksummedFile.read(path, magic: Self.magic, what: "proof archive")
            let (through, all) = try Self.decode(body)
            // Older than the snapshot (its write failed, or a snapshot was installed since): a
            // key written again between the two would be proven by its older write. Start empty.
            guard through >= snapshotIndex else {
                log.warning(
                    "the proof archive is older than the snapshot; proofs of keys written before it are unavailable until the next compaction",
                    metadata: ["archive": "\(through)", "snapshot": "\(snapshotIndex)"])
                return
            }
            entries = all.filter { $0.value.index <= snapshotIndex }
        } catch {
            log.error(
                "the proof archive does not check; proofs of keys written before the snapshot are unavailable until they are written again",
                metadata: ["file": "\(path)", "error": "\(error)"])
            _ = rename(path, path + ".damaged")
        }
    }

    /// What one compaction writes: the archive for the snapshot at `through`.
    struct Contents: Sendable {
        let path: String
        let entries: [[UInt8]: Raft.Entry]
        let through: Raft.Index

        /// Encodes and replaces the file, durably (on the storage thread, not the Raft actor).
        func write() throws(StorageError) {
            var writer = Raft.ByteWriter(capacity: 12 + entries.count * 128)
            writer.u64(through)
            writer.u32(UInt32(entries.count))
            for (key, entry) in entries.sorted(by: { $0.value.index < $1.value.index }) {
                writer.blob(key)
                entry.encode(into: &writer)
            }
            try ChecksummedFile.write(path, magic: ProofArchive.magic, body: writer.bytes)
        }
    }

    /// Takes `entries` (every one at or below `index`) as the archive now, and returns what the
    /// storage thread must write before it cuts the log.
    mutating func replace(with entries: [[UInt8]: Raft.Entry], through index: Raft.Index) -> Contents {
        self.entries = entries
        return Contents(path: path, entries: entries, through: index)
    }

    mutating func clear() { entries = [:] }

    static func decode(_ body: [UInt8]) throws -> (through: Raft.Index, entries: [[UInt8]: Raft.Entry]) {
        var reader = Raft.ByteReader(body)
        let through = try reader.u64("proof.through")
        let count = Int(try reader.u32("proof.count"))
        guard count <= entriesMax else { throw ArchiveError("\(count) entries exceed \(entriesMax)") }
        var entries: [[UInt8]: Raft.Entry] = [:]
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let key = try reader.blob("proof.key", max: Self.keyBytesMax)
            entries[key] = try Raft.Entry.decode(from: &reader)
        }
        try reader.expectEnd("proof archive")
        return (through, entries)
    }

    struct ArchiveError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
