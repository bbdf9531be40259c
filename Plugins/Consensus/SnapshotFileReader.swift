import BizraKV
import BizraWAL
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Serves `consensus.snapshot-read`: a chunk of one snapshot file of this member, so that
/// `bizra consensus snapshot save` works from any host that reaches the bus. It reads the file
/// as written (magic, checksum, body); the client checks the whole file before keeping it.
enum SnapshotFileReader {
    static func read(_ request: KV.Request, directory: String) -> KV.Reply {
        guard let index = request.index, let offset = request.offset else {
            return .failed("snapshot-read needs index and offset")
        }
        let path: String
        do { path = try SnapshotStore(directory: directory).path(for: index) } catch {
            return .failed("no snapshot directory on this member: \(error)")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            // Not yet durable (a snapshot just asked for), or pruned by a newer one.
            return .failed("no snapshot at index \(index) on this member (not yet written, or replaced by a newer one)")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failed("cannot stat the snapshot at index \(index)") }
        let size = UInt64(info.st_size)
        guard offset <= size else { return .failed("offset \(offset) is past the end of the snapshot (\(size) bytes)") }
        let wanted = Int(min(UInt64(KV.snapshotChunkBytesMax), size - offset))
        var bytes = [UInt8](repeating: 0, count: wanted)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, wanted, off_t(offset)) }
        guard count == wanted else { return .failed("short read of the snapshot at index \(index)") }
        var reply = KV.Reply(status: .ok)
        reply.index = index
        reply.size = size
        reply.chunk = Data(bytes).base64EncodedString()
        return reply
    }
}
