import BizraCrypto
import BizraRaft
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The chain hashes of every applied entry, 32 bytes each at offset (index − 1) × 32, in
/// `<data>/merkle.leaves`: what inclusion proofs need (an RFC 6962 audit path is computed from
/// all the leaves of the tree), kept beside the log because compaction drops entries.
///
/// Written as entries apply, synced before each compaction (so the leaves of everything a
/// snapshot covers are durable before the log that could rebuild them is gone). On start it is
/// cut back to the snapshot's index (the entries after it are applied again). A member that
/// installed a snapshot from the leader lacks the leaves before it: `isComplete` turns false
/// and it refuses proofs (another member can give them).
final class MerkleLeafFile {
    let path: String
    private var fd: Int32
    private(set) var count: UInt64
    private(set) var isComplete: Bool

    init(path: String, snapshotIndex: Raft.Index) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        let held = UInt64(lseek(fd, 0, SEEK_END)) / 32
        isComplete = held >= snapshotIndex
        count = isComplete ? snapshotIndex : 0
        guard ftruncate(fd, off_t(count * 32)) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    deinit { close(fd) }

    /// Appends the hashes of entries `count + 1 …` in order.
    func append(_ entries: [Raft.Entry]) {
        guard isComplete, let first = entries.first else { return }
        guard first.index == count + 1 else {
            isComplete = false
            return
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.count * 32)
        for entry in entries { bytes.append(contentsOf: entry.hash.bytes) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written == bytes.count { count += UInt64(entries.count) } else { isComplete = false }
    }

    /// After a snapshot install at `index`: keeps the leaves when they reach it, else gives up.
    func restarted(at index: Raft.Index) {
        if isComplete && count >= index {
            count = index
        } else {
            isComplete = false
            count = 0
        }
        _ = ftruncate(fd, off_t(count * 32))
    }

    func sync() { _ = fdatasync(fd) }

    /// The first `size` leaves, or nil when this member does not hold them.
    func leaves(_ size: UInt64) -> [Digest256]? {
        guard isComplete, size <= count else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(size) * 32)
        let read = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard read == bytes.count else { return nil }
        return (0..<Int(size)).map { Digest256(bytes: bytes[($0 * 32)..<($0 * 32 + 32)]) }
    }
}
