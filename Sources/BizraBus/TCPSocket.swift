import Foundation
import Glibc

/// The few blocking POSIX TCP calls a link (and its benchmark) needs, each bounded by a timeout. IPv4 literals
/// only (bus-config addresses of links are IPv4 literals; host names are resolved by the
/// operator's config generation, not here).
public enum TCPSocket {
    /// How long the kernel keeps unacknowledged data before it fails the connection
    /// (`TCP_USER_TIMEOUT`): long enough that a short cut heals without loss, short enough that
    /// a dead peer is noticed.
    public static let userTimeoutMillisDefault: UInt32 = 20_000

    public static func address(_ host: String, _ port: Int) -> sockaddr_in? {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
        return address
    }

    public static func listen(host: String, port: Int) throws -> Int32 {
        guard var address = address(host, port) else { throw TCPError("\(host) is not an IPv4 address") }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TCPError("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(fd, 64) == 0 else {
            let code = errno
            close(fd)
            throw TCPError("cannot listen on \(host):\(port): errno \(code)")
        }
        return fd
    }

    /// A connected socket, or nil when the peer does not accept within `timeoutMillis`.
    public static func connect(
        host: String, port: Int, timeoutMillis: Int32, userTimeoutMillis: UInt32 = userTimeoutMillisDefault
    ) -> Int32? {
        guard var address = address(host, port) else { return nil }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return nil }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if rc != 0 {
            guard errno == EINPROGRESS, wait(fd, for: Int16(POLLOUT), timeoutMillis: timeoutMillis) else {
                close(fd)
                return nil
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else {
                close(fd)
                return nil
            }
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~Int32(O_NONBLOCK))
        configure(fd, userTimeoutMillis: userTimeoutMillis)
        return fd
    }

    /// TCP_NODELAY (a lone frame goes at once: batching is ours), and the user timeout.
    public static func configure(_ fd: Int32, userTimeoutMillis: UInt32 = userTimeoutMillisDefault) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = userTimeoutMillis
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &timeout, socklen_t(MemoryLayout<UInt32>.size))
    }

    public static func setReceiveTimeout(_ fd: Int32, millis: Int) {
        var timeout = timeval(tv_sec: millis / 1000, tv_usec: (millis % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// True when `fd` is ready for `events` within `timeoutMillis`.
    public static func wait(_ fd: Int32, for events: Int16, timeoutMillis: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        return poll(&entry, 1, timeoutMillis) == 1 && entry.revents & events != 0
    }

    /// Writes all of `bytes`, or fails when the socket errors or takes longer than `deadlineMillis`
    /// in total. A failure leaves the stream unusable (part of a link frame may be written).
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], deadlineMillis: Int32) -> Bool {
        var offset = 0
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(deadlineMillis) * 1_000_000
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if written > 0 {
                offset += written
                continue
            }
            guard written < 0, errno == EAGAIN || errno == EINTR else { return false }
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return false }
            _ = wait(fd, for: Int16(POLLOUT), timeoutMillis: Int32(min(100, (deadline - now) / 1_000_000 + 1)))
        }
        return true
    }
}

public struct TCPError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
