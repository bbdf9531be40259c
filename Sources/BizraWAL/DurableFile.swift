#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The few POSIX calls the WAL and the snapshot store need, each turning errno into a
/// `StorageError` that names the file.
enum DurableFile {
    static func errnoText() -> String { String(cString: strerror(errno)) }

    static func openAppend(_ path: String) throws(StorageError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StorageError(.io, file: path, "cannot open for writing: \(errnoText())") }
        return fd
    }

    static func readAll(_ path: String) throws(StorageError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError(.io, file: path, "cannot open for reading: \(errnoText())") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw StorageError(.io, file: path, offset: bytes.count, "read failed: \(errnoText())")
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: buffer[0..<count])
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(StorageError) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                throw StorageError(.io, file: path, "write failed: \(errnoText())")
            }
            written += count
        }
    }

    /// fdatasync: the data and the metadata needed to read it back (the size) reach the disk.
    static func syncData(_ fd: Int32, path: String) throws(StorageError) {
        #if canImport(Glibc)
            let rc = fdatasync(fd)
        #else
            let rc = fsync(fd)
        #endif
        guard rc == 0 else { throw StorageError(.io, file: path, "fdatasync failed: \(errnoText())") }
    }

    static func truncate(_ path: String, to size: Int) throws(StorageError) {
        guard Glibc.truncate(path, off_t(size)) == 0 else {
            throw StorageError(.io, file: path, "cannot truncate to \(size) bytes: \(errnoText())")
        }
        try syncPath(path)
    }

    /// Opens, fsyncs and closes `path` (a file or a directory).
    static func syncPath(_ path: String) throws(StorageError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError(.io, file: path, "cannot open to sync: \(errnoText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StorageError(.io, file: path, "fsync failed: \(errnoText())") }
    }

    static func makeDirectory(_ path: String) throws(StorageError) {
        var parts: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            parts.append(component)
            let prefix = parts.joined(separator: "/")
            if prefix.isEmpty { continue }
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw StorageError(.io, file: prefix, "cannot create directory: \(errnoText())")
            }
        }
    }

    /// The names in `directory`, sorted.
    static func list(_ directory: String) throws(StorageError) -> [String] {
        guard let handle = opendir(directory) else {
            throw StorageError(.io, file: directory, "cannot list: \(errnoText())")
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func remove(_ path: String) throws(StorageError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw StorageError(.io, file: path, "cannot remove: \(errnoText())")
        }
    }

    static func rename(_ from: String, to: String) throws(StorageError) {
        guard Glibc.rename(from, to) == 0 else {
            throw StorageError(.io, file: from, "cannot rename to \(to): \(errnoText())")
        }
    }
}
