import Foundation
import Glibc

/// Node-wide exclusive slots shared by separate processes (the link instances of one node),
/// held as Linux open-file-description locks (`F_OFD_SETLK`) on one file per slot.
///
/// Why OFD locks: like `flock`, a lock belongs to an open file description, so two descriptors
/// of the same process conflict (one process can hold several slots, and tests can play two
/// holders), and the kernel releases it when the description closes — including when the
/// holding process dies, so a crashed link never keeps a slot. Unlike `flock`, a lock can be
/// queried without taking it (`F_OFD_GETLK`), which lets a link report node-wide slot usage
/// without disturbing the holders. Linux ≥ 3.15.
///
/// Locks are never waited for: `tryAcquire` returns at once; callers poll with a named interval.
public final class SlotLock: @unchecked Sendable {
    /// `fcntl` commands of Linux's open-file-description locks (asm-generic/fcntl.h; not
    /// exported by the Glibc module).
    static let getLockCommand: Int32 = 36
    static let setLockCommand: Int32 = 37

    public let path: String
    private var fd: Int32 = -1
    private let lock = NSLock()

    public init(path: String) { self.path = path }

    deinit { release() }

    /// Whether this value holds the slot now.
    public var isHeld: Bool { lock.withLock { fd >= 0 } }

    /// Takes the slot when no other open description (in any process) holds it. Non-blocking.
    public func tryAcquire() -> Bool { take(F_WRLCK) }

    /// Gives the slot back (closing the description releases the lock).
    public func release() {
        lock.withLock {
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
        }
    }

    /// Takes a shared hold on `path` (a marker others can see with `isMarked`), non-blocking.
    /// Used as "someone is waiting for a slot": any number of waiters can hold it at once.
    public func tryMark() -> Bool { take(F_RDLCK) }

    /// Opens `path` and takes an OFD lock of `type` on it, unless this value already holds one.
    private func take(_ type: Int32) -> Bool {
        lock.withLock {
            if fd >= 0 { return true }
            let candidate = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard candidate >= 0 else { return false }
            guard Self.control(candidate, Self.setLockCommand, type: type) else {
                close(candidate)
                return false
            }
            fd = candidate
            return true
        }
    }

    /// Whether any open description (this process or another) holds a lock on `path`, without
    /// taking one. A missing file is unheld.
    public static func isHeld(path: String) -> Bool {
        let probe = open(path, O_RDWR | O_CLOEXEC)
        guard probe >= 0 else { return false }
        defer { close(probe) }
        var query = flock()
        query.l_type = Int16(F_WRLCK)
        query.l_whence = Int16(SEEK_SET)
        guard fcntl(probe, getLockCommand, &query) == 0 else { return false }
        return query.l_type != Int16(F_UNLCK)
    }

    private static func control(_ fd: Int32, _ command: Int32, type: Int32) -> Bool {
        var request = flock()
        request.l_type = Int16(type)
        request.l_whence = Int16(SEEK_SET)
        // Whole file (start 0, length 0); l_pid must be 0 for OFD locks.
        return fcntl(fd, command, &request) == 0
    }
}
