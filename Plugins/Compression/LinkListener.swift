import BizraBus
import BizraLink
import Foundation
import Logging
import Synchronization

/// Accepts peers' connections on this instance's link port and hands the frames they carry to
/// the local core. Each accepted connection gets a reader thread: it expects a hello from a
/// node in the config, then batches (injected into the core unchanged), pings (answered with
/// pongs) and dictionaries (kept by its decoder). Bytes that break the link format close the
/// connection and are counted against the peer.
final class LinkListener: @unchecked Sendable {
    let fd: Int32
    let service: LinkService
    let log: Logger
    let accepted = Atomic<Int>(0)

    /// The most inbound connections at once (peers × pool size, with room for reconnects).
    static let connectionsMax = 256
    /// An inbound connection silent this long is dead (peers ping every second).
    static let silenceMillis = 10_000

    init(fd: Int32, service: LinkService, log: Logger) {
        self.fd = fd
        self.service = service
        self.log = log
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "link-accept"
        thread.start()
    }

    private func run() {
        while !service.stopping.load(ordering: .relaxed) {
            guard TCPSocket.wait(fd, for: Int16(POLLIN), timeoutMillis: 200) else { continue }
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { continue }
            guard accepted.add(1, ordering: .relaxed).newValue <= Self.connectionsMax else {
                accepted.subtract(1, ordering: .relaxed)
                close(connection)
                log.warning("inbound link refused: \(Self.connectionsMax) connections already")
                continue
            }
            TCPSocket.configure(connection)
            TCPSocket.setReceiveTimeout(connection, millis: Self.silenceMillis)
            let thread = Thread { [self] in
                serve(connection)
                close(connection)
                accepted.subtract(1, ordering: .relaxed)
            }
            thread.name = "link-in"
            thread.start()
        }
        close(fd)
    }

    private func serve(_ connection: Int32) {
        let decoder = LinkDecoder(limits: service.limits)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var peer: PeerLink?
        var batches: UInt64 = 0
        var acked: UInt64 = 0
        while !service.stopping.load(ordering: .relaxed) {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            buffer.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            do {
                while let (message, wireBytes) = try decoder.next() {
                    guard let known = peer else {
                        peer = try hello(message)
                        continue
                    }
                    if case .batch = message { batches += 1 }
                    handle(message, wireBytes: wireBytes, from: known, connection: connection)
                }
                // One acknowledgement per read: the dialer counts what a failing connection lost.
                if batches > acked, let peer {
                    let ack = LinkEncoder.ack(batches: batches)
                    guard TCPSocket.writeAll(connection, ack, deadlineMillis: 1000) else { return }
                    peer.record(control: ack.count)
                    acked = batches
                }
            } catch {
                peer?.recordRejected()
                log.warning("inbound link closed: \(error)", metadata: ["peer": "\(peer?.node.id ?? "?")"])
                return
            }
        }
    }

    private func hello(_ message: Link.Message) throws(LinkError) -> PeerLink {
        guard case .hello(let hello) = message else {
            throw LinkError(.malformed, "the first link frame is not a hello")
        }
        guard let peer = service.peers[hello.node] else {
            throw LinkError(.malformed, "hello from \(hello.node), which is not a peer node in the config")
        }
        return peer
    }

    private func handle(_ message: Link.Message, wireBytes: Int, from peer: PeerLink, connection: Int32) {
        switch message {
        case .batch(let frames, _):
            var raw = 0
            var dropped = 0
            for frame in frames {
                raw += frame.count
                if !service.inject(frame, from: peer.node.id) { dropped += 1 }
            }
            peer.record(received: frames.count, rawBytes: raw, wireBytes: wireBytes, dropped: dropped)
        case .ping(let token):
            let pong = LinkEncoder.pong(token: token)
            peer.record(controlIn: wireBytes)
            if TCPSocket.writeAll(connection, pong, deadlineMillis: 1000) { peer.record(control: pong.count) }
        case .dictionary, .pong, .hello, .ack:
            peer.record(controlIn: wireBytes)
        }
    }
}
