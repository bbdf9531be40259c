import Foundation
import Synchronization

/// The supervisor's local control socket (`supervisor.sock` in the data directory): JSON
/// requests over ZeroMQ REQ/REP, used by `bizra down|status|scale`. Only processes that can
/// open the data directory (mode 0700) can reach it.
public final class ControlServer: Sendable {
    private let context = ZMQContext()
    private let socket: Mutex<ZMQSocketBox>

    /// The largest request accepted; larger ones get an error reply.
    public static let requestBytesMax = 64 * 1024

    public init(endpoint: String) throws(BusError) {
        if endpoint.hasPrefix("ipc://") { unlink(String(endpoint.dropFirst(6))) }
        let s = try ZMQSocket(context, .rep)
        try s.bind(endpoint)
        socket = Mutex(ZMQSocketBox(s))
    }

    /// Waits up to `timeoutMillis` for one request and answers it with `handle`. Call from one thread.
    public func serveOne(timeoutMillis: Int, _ handle: ([UInt8]) -> [UInt8]) {
        socket.withLock { box in
            guard let ready = try? zmqPollReadable([.socket(box.socket)], timeoutMillis: timeoutMillis), !ready.isEmpty,
                let parts = try? box.socket.receive(), let request = parts.first
            else { return }
            let reply =
                request.count <= Self.requestBytesMax
                ? handle(request) : Array("{\"error\":\"request too large\"}".utf8)
            _ = try? box.socket.send([reply], dontWait: false)
        }
    }

    public func close() {
        socket.withLock { $0.socket.close() }
        context.terminate()
    }
}

/// One request to a control socket; nil when nobody answers within `timeoutMillis`.
public enum ControlClient {
    public static func call(endpoint: String, request: [UInt8], timeoutMillis: Int) -> [UInt8]? {
        let context = ZMQContext()
        defer { context.terminate() }
        guard let socket = try? ZMQSocket(context, .req) else { return nil }
        defer { socket.close() }
        guard (try? socket.connect(endpoint)) != nil, (try? socket.send([request], dontWait: false)) == .sent,
            let ready = try? zmqPollReadable([.socket(socket)], timeoutMillis: timeoutMillis), !ready.isEmpty
        else { return nil }
        return (try? socket.receive())?.first
    }
}

/// Lets a socket sit in a Mutex; it is only ever used under that lock, by one thread at a time.
struct ZMQSocketBox: @unchecked Sendable {
    let socket: ZMQSocket
    init(_ socket: ZMQSocket) { self.socket = socket }
}
