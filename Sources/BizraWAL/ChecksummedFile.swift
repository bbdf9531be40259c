/// A small file written whole and atomically (temporary file, fdatasync, rename, directory
/// fsync): `magic(8) | crc32c(body) u32 | body`. Snapshots and the consensus member's proof
/// archive use it; a reader gets the body only if magic and checksum match.
package enum ChecksummedFile {
    /// Replaces `path` with `body` under `magic` (8 bytes), durably.
    package static func write(_ path: String, magic: [UInt8], body: [UInt8]) throws(StorageError) {
        precondition(magic.count == 8, "a checksummed file's magic is 8 bytes")
        var header = [UInt8]()
        header.reserveCapacity(12)
        header += magic
        let checksum = CRC32C.checksum(body)
        for shift in stride(from: 24, through: 0, by: -8) {
            header.append(UInt8(truncatingIfNeeded: checksum >> shift))
        }
        let temporary = path + ".tmp"
        try DurableFile.remove(temporary)
        let fd = try DurableFile.openAppend(temporary)
        do {
            try DurableFile.writeAll(fd, header + body, path: temporary)
            try DurableFile.syncData(fd, path: temporary)
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        try DurableFile.rename(temporary, to: path)
        let slash = path.lastIndex(of: "/")
        try DurableFile.syncPath(slash.map { String(path[..<$0]) } ?? ".")
    }

    /// The body of `path`, checked against `magic` and the checksum; `what` names the kind of
    /// file in errors.
    package static func read(_ path: String, magic: [UInt8], what: String) throws(StorageError) -> [UInt8] {
        let bytes = try DurableFile.readAll(path)
        guard bytes.count >= 12, Array(bytes[0..<8]) == magic else {
            throw StorageError(.corrupt, file: path, "not a BIZRA \(what) file (bad magic)")
        }
        let body = Array(bytes[12...])
        guard bytes.bigEndianUInt32(at: 8) == CRC32C.checksum(body) else {
            throw StorageError(.corrupt, file: path, offset: 12, "\(what) checksum mismatch")
        }
        return body
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
