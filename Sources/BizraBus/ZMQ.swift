import CZeroMQ
import Glibc

/// The one owner of ZeroMQ in BIZRA Mesh: contexts, sockets, messages and polling.
///
/// Rules from ../shared/NOTES.md that shape it: a context may be shared between threads, a
/// socket may not (create it on the thread that uses it); a `zmq_msg_t` must not move between
/// init and close (it is heap-allocated here); blocking calls belong on dedicated threads.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public init() {
        guard let handle = zmq_ctx_new() else { preconditionFailure("zmq_ctx_new failed: \(ZMQ.lastError())") }
        self.handle = handle
    }

    /// Ends the context: blocked calls on its sockets return ETERM. Sockets must be closed first
    /// (LINGER is 0 on every socket this module makes, so closing never waits on the network).
    public func terminate() { _ = zmq_ctx_term(handle) }
}

enum ZMQ {
    static func lastError() -> String {
        let code = zmq_errno()
        return "\(String(cString: zmq_strerror(code))) (errno \(code))"
    }
}

/// A ZeroMQ socket, used only on the thread that created it.
final class ZMQSocket {
    enum Kind {
        case router, dealer, pub, sub, xpub, xsub, rep, req
        var raw: Int32 {
            switch self {
            case .router: ZMQ_ROUTER
            case .dealer: ZMQ_DEALER
            case .pub: ZMQ_PUB
            case .sub: ZMQ_SUB
            case .xpub: ZMQ_XPUB
            case .xsub: ZMQ_XSUB
            case .rep: ZMQ_REP
            case .req: ZMQ_REQ
            }
        }
    }

    /// The most parts a received multi-part message may have; further parts are discarded.
    static let partsMax = 8

    let handle: UnsafeMutableRawPointer
    private let message: UnsafeMutablePointer<zmq_msg_t>
    private var closed = false

    init(_ context: ZMQContext, _ kind: Kind) throws(BusError) {
        guard let handle = zmq_socket(context.handle, kind.raw) else {
            throw BusError(.zmq, "zmq_socket failed: \(ZMQ.lastError())")
        }
        self.handle = handle
        self.message = .allocate(capacity: 1)
        try set(ZMQ_LINGER, 0)
    }

    deinit {
        close()
        message.deallocate()
    }

    func close() {
        guard !closed else { return }
        closed = true
        zmq_close(handle)
    }

    /// The socket options BIZRA uses, named once.
    enum Option {
        case routerMandatory, sendHighWaterMark, receiveHighWaterMark, subscribe, maxMessageBytes
        var raw: Int32 {
            switch self {
            case .routerMandatory: ZMQ_ROUTER_MANDATORY
            case .sendHighWaterMark: ZMQ_SNDHWM
            case .receiveHighWaterMark: ZMQ_RCVHWM
            case .subscribe: ZMQ_SUBSCRIBE
            case .maxMessageBytes: ZMQ_MAXMSGSIZE
            }
        }
    }

    func set(_ option: Option, _ value: Int32) throws(BusError) { try set(option.raw, value) }
    func set(_ option: Option, bytes: [UInt8]) throws(BusError) { try set(option.raw, bytes: bytes) }

    func setInt64(_ option: Option, _ value: Int64) throws(BusError) {
        var v = value
        guard zmq_setsockopt(handle, option.raw, &v, MemoryLayout<Int64>.size) == 0 else {
            throw BusError(.zmq, "zmq_setsockopt(\(option), \(value)) failed: \(ZMQ.lastError())")
        }
    }

    func set(_ option: Int32, _ value: Int32) throws(BusError) {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size) == 0 else {
            throw BusError(.zmq, "zmq_setsockopt(\(option), \(value)) failed: \(ZMQ.lastError())")
        }
    }

    func set(_ option: Int32, bytes: [UInt8]) throws(BusError) {
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw BusError(.zmq, "zmq_setsockopt(\(option)) failed: \(ZMQ.lastError())") }
    }

    func bind(_ endpoint: String) throws(BusError) {
        guard zmq_bind(handle, endpoint) == 0 else {
            throw BusError(.zmq, "cannot bind \(endpoint): \(ZMQ.lastError())")
        }
    }

    func connect(_ endpoint: String) throws(BusError) {
        guard zmq_connect(handle, endpoint) == 0 else {
            throw BusError(.zmq, "cannot connect to \(endpoint): \(ZMQ.lastError())")
        }
    }

    /// Outcome of a send.
    enum SendResult { case sent, wouldBlock, unreachable }

    /// Sends `parts` as one multi-part message. With `dontWait`, a full queue answers `.wouldBlock`;
    /// on a ROUTER with ROUTER_MANDATORY an unknown or gone peer answers `.unreachable`.
    func send(_ parts: [[UInt8]], dontWait: Bool = true) throws(BusError) -> SendResult {
        for (index, part) in parts.enumerated() {
            var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
            if index < parts.count - 1 { flags |= ZMQ_SNDMORE }
            let rc = part.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
            if rc >= 0 { continue }
            let code = zmq_errno()
            // A multi-part message is atomic: a failure can only happen on the first part.
            if code == EAGAIN { return .wouldBlock }
            if code == EHOSTUNREACH { return .unreachable }
            throw BusError(.zmq, "zmq_send failed: \(ZMQ.lastError())")
        }
        return .sent
    }

    /// Receives one multi-part message, or nil when none is ready (`dontWait`) or on EINTR.
    func receive(dontWait: Bool = true) throws(BusError) -> [[UInt8]]? {
        var parts: [[UInt8]] = []
        while true {
            zmq_msg_init(message)
            defer { zmq_msg_close(message) }
            let rc = zmq_msg_recv(message, handle, dontWait || !parts.isEmpty ? ZMQ_DONTWAIT : 0)
            if rc < 0 {
                let code = zmq_errno()
                if code == EAGAIN || code == EINTR { return parts.isEmpty ? nil : parts }
                throw BusError(.zmq, "zmq_msg_recv failed: \(ZMQ.lastError())")
            }
            if parts.count < Self.partsMax {
                let size = zmq_msg_size(message)
                let data = zmq_msg_data(message)!.assumingMemoryBound(to: UInt8.self)
                parts.append(Array(UnsafeBufferPointer(start: data, count: size)))
            }
            if zmq_msg_more(message) == 0 { return parts }
        }
    }
}

/// What to poll: a socket, or a plain file descriptor (an eventfd that wakes an IO thread).
enum PollTarget {
    case socket(ZMQSocket)
    case fd(Int32)
}

/// Waits up to `timeoutMillis` (-1: forever) for any target to become readable; returns the
/// indices of the readable ones.
func zmqPollReadable(_ targets: [PollTarget], timeoutMillis: Int) throws(BusError) -> [Int] {
    var items = targets.map { target -> zmq_pollitem_t in
        switch target {
        case .socket(let s): zmq_pollitem_t(socket: s.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        case .fd(let fd): zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0)
        }
    }
    let rc = zmq_poll(&items, Int32(items.count), timeoutMillis)
    if rc < 0 {
        if zmq_errno() == EINTR { return [] }
        throw BusError(.zmq, "zmq_poll failed: \(ZMQ.lastError())")
    }
    return items.indices.filter { items[$0].revents & Int16(ZMQ_POLLIN) != 0 }
}

/// A self-pipe: any thread may `signal` it; the IO thread polls its read end and `drain`s it.
final class WakeupFD: @unchecked Sendable {
    let fd: Int32
    private let writeFD: Int32

    init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe failed: errno \(errno)")
        for end in fds {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        fd = fds[0]
        writeFD = fds[1]
    }

    deinit {
        Glibc.close(fd)
        Glibc.close(writeFD)
    }

    /// Wakes the poller. A full pipe already guarantees a wake-up, so a failed write is harmless.
    func signal() {
        var one: UInt8 = 1
        _ = write(writeFD, &one, 1)
    }

    func drain() {
        var sink = [UInt8](repeating: 0, count: 256)
        while read(fd, &sink, sink.count) > 0 {}
    }
}
