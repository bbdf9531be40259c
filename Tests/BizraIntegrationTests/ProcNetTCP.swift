import Foundation

/// Counts established TCP connections from given processes to given local ports, read from
/// /proc (no `ss`): a process's sockets are the `socket:[inode]` links in /proc/PID/fd, and
/// /proc/net/tcp lists each connection with its remote port, state and inode.
enum ProcNetTCP {
    /// Processes whose command line holds every one of `arguments` (NUL-separated words).
    static func pids(executableSuffix: String, arguments: [String]) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = read("/proc/\(pid)/cmdline") else { return false }
            let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard let first = words.first, first.hasSuffix(executableSuffix) else { return false }
            return arguments.allSatisfy(words.contains)
        }
    }

    static func socketInodes(of pids: [Int32]) -> Set<UInt64> {
        var inodes: Set<UInt64> = []
        for pid in pids {
            let dir = "/proc/\(pid)/fd"
            for fd in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/" + fd),
                    target.hasPrefix("socket:["), let inode = UInt64(target.dropFirst(8).dropLast())
                else { continue }
                inodes.insert(inode)
            }
        }
        return inodes
    }

    /// Established connections (state 01) whose socket is one of `inodes` and whose remote
    /// port is in `remotePorts`, from /proc/net/tcp.
    static func established(inodes: Set<UInt64>, remotePorts: Set<Int>) -> Int {
        guard let data = read("/proc/net/tcp") else { return 0 }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[3] == "01",
                let remotePort = fields[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                let inode = UInt64(fields[9])
            else { return false }
            return remotePorts.contains(remotePort) && inodes.contains(inode)
        }.count
    }

    /// The whole of a /proc file: they report size 0 and `FileManager.contents` stops after
    /// its first read, so read to the end.
    static func read(_ path: String) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return try? handle.readToEnd()
    }
}
