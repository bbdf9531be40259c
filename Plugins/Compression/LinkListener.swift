import BizraBus
import BizraCrypto
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
            TCPSocket.configure(connection, userTimeoutMillis: service.userTimeoutMillis)
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

    /// One inbound connection's state: its peer once it said hello, and on an encrypted link
    /// the record layer in each direction.
    private struct Inbound {
        var peer: PeerLink?
        var opener: LinkOpener?
        var sealer: LinkSealer?
        var batches: UInt64 = 0
        var acked: UInt64 = 0

        mutating func wire(_ frame: [UInt8]) -> [UInt8] { sealer?.seal(frame) ?? frame }
    }

    private func serve(_ connection: Int32) {
        let decoder = LinkDecoder(limits: service.limits)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var state = Inbound()
        while !service.stopping.load(ordering: .relaxed) {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            do {
                let chunk = Array(buffer[..<count])
                if let opener = state.opener {
                    opener.append(chunk)
                    while let plain = try opener.next() { decoder.append(plain) }
                } else {
                    decoder.append(chunk)
                }
                while let (message, wireBytes) = try decoder.next() {
                    guard let known = state.peer else {
                        try greet(message, state: &state, connection: connection)
                        // On an encrypted link the dialer waits for the welcome: nothing unsealed follows.
                        guard state.opener == nil || decoder.bufferedBytes == 0 else {
                            throw LinkError(.malformed, "link frames before the handshake completed")
                        }
                        continue
                    }
                    if case .batch = message { state.batches += 1 }
                    if let answer = handle(message, wireBytes: wireBytes, from: known) {
                        guard TCPSocket.writeAll(connection, state.wire(answer), deadlineMillis: 1000) else { return }
                        known.record(control: answer.count)
                    }
                }
                // One acknowledgement per read: the dialer counts what a failing connection lost.
                if state.batches > state.acked, let peer = state.peer {
                    let ack = LinkEncoder.ack(batches: state.batches)
                    guard TCPSocket.writeAll(connection, state.wire(ack), deadlineMillis: 1000) else { return }
                    peer.record(control: ack.count)
                    state.acked = state.batches
                }
            } catch {
                state.peer?.recordRejected()
                log.warning("inbound link closed: \(error)", metadata: ["peer": "\(state.peer?.node.id ?? "?")"])
                return
            }
        }
    }

    /// The first link frame: a plain hello, or on an encrypted link a secure hello answered
    /// with a welcome, after which both directions are sealed.
    private func greet(_ message: Link.Message, state: inout Inbound, connection: Int32) throws(LinkError) {
        switch message {
        case .hello(let hello):
            guard service.secureKey == nil else {
                throw LinkError(.crypto, "plain hello from \(hello.node); this link requires encryption")
            }
            state.peer = try peer(hello)
        case .secureHello(let hello, let ephemeral, let signature):
            guard let own = service.secureKey else {
                throw LinkError(.crypto, "encrypted hello from \(hello.node); this link is not encrypted")
            }
            let peer = try peer(hello)
            guard let key = service.peerPublicKey(hello.node),
                Ed25519.verify(
                    signature: signature, message: Link.helloTranscript(hello, ephemeral: ephemeral), publicKey: key)
            else { throw LinkError(.crypto, "hello from \(hello.node) is not signed by its link key") }
            let mine = SessionCrypto.EphemeralKeyPair.generate()
            guard let keys = SessionCrypto.listenerKeys(own: mine, dialer: ephemeral) else {
                throw LinkError(.crypto, "unusable ephemeral key from \(hello.node)")
            }
            let proof = own.sign(Link.welcomeTranscript(listener: mine.publicKey, dialer: ephemeral))
            let welcome = LinkEncoder.secureWelcome(ephemeral: mine.publicKey, signature: proof)
            guard TCPSocket.writeAll(connection, welcome, deadlineMillis: 1000) else {
                throw LinkError(.crypto, "cannot answer the hello")
            }
            state.peer = peer
            state.opener = LinkOpener(key: keys.receive, limits: service.limits)
            state.sealer = LinkSealer(key: keys.send)
        default:
            throw LinkError(.malformed, "the first link frame is not a hello")
        }
    }

    private func peer(_ hello: Link.Hello) throws(LinkError) -> PeerLink {
        guard let peer = service.peers[hello.node] else {
            throw LinkError(.malformed, "hello from \(hello.node), which is not a peer node in the config")
        }
        return peer
    }

    /// Accounts for one link frame from the peer; returns the answer to send, if any.
    private func handle(_ message: Link.Message, wireBytes: Int, from peer: PeerLink) -> [UInt8]? {
        switch message {
        case .batch(let frames, _):
            var raw = 0
            var dropped = 0
            for frame in frames {
                raw += frame.count
                if !service.inject(frame, from: peer.node.id) { dropped += 1 }
            }
            peer.record(received: frames.count, rawBytes: raw, wireBytes: wireBytes, dropped: dropped)
            return nil
        case .ping(let token):
            peer.record(controlIn: wireBytes)
            return LinkEncoder.pong(token: token)
        case .dictionary, .pong, .hello, .ack, .secureHello, .secureWelcome:
            peer.record(controlIn: wireBytes)
            return nil
        }
    }
}
