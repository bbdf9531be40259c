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
    /// A connection must complete its greeting (plain HELLO, or the whole CurveZMQ handshake)
    /// within this long of being accepted, however it paces its bytes; until then its reads
    /// time out after it too. A peer that dribbles bytes cannot hold an inbound slot.
    static let greetingDeadlineMillis: UInt64 = 5_000
    /// "Too many connections" refusals are logged at most once a second.
    private let refusalLog = OncePerSecond()

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
                if refusalLog.allow() {
                    log.warning("inbound link refused: \(Self.connectionsMax) connections already")
                }
                continue
            }
            TCPSocket.configure(connection, userTimeoutMillis: service.userTimeoutMillis)
            TCPSocket.setReceiveTimeout(connection, millis: Int(Self.greetingDeadlineMillis))
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
    /// the CurveZMQ server until the handshake completes, then the record layer each way.
    private struct Inbound {
        var peer: PeerLink?
        /// The peer an encrypted dialer proved to be (set once its handshake completed).
        var claimed: PeerLink?
        var curve: CurveZMQServer?
        var opener: CurveZMQ.Opener?
        var sealer: CurveZMQ.Sealer?
        var batches: UInt64 = 0
        var acked: UInt64 = 0
        /// Encrypted links: bytes read, plaintext link bytes opened, overhead already counted.
        var sealedIn = 0
        var plainIn = 0
        var overheadCounted = 0

        mutating func wire(_ frame: [UInt8]) -> [UInt8] { sealer?.seal(frame) ?? frame }
    }

    private func serve(_ connection: Int32) {
        let decoder = LinkDecoder(limits: service.limits)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var state = Inbound()
        if let own = service.secureKey {
            state.curve = CurveZMQServer(permanent: own, metadata: service.curveMetadata, limits: service.limits)
        }
        let acceptedMillis = DispatchTime.now().uptimeNanoseconds / 1_000_000
        var greeted = false
        while !service.stopping.load(ordering: .relaxed) {
            if !greeted {
                // Until the greeting completes, a read waits only for what is left of the deadline.
                let elapsed = DispatchTime.now().uptimeNanoseconds / 1_000_000 - acceptedMillis
                guard elapsed < Self.greetingDeadlineMillis else {
                    refused(
                        LinkError(
                            .malformed, "no completed greeting within \(Self.greetingDeadlineMillis) ms of connecting"),
                        state: state)
                    return
                }
                TCPSocket.setReceiveTimeout(connection, millis: Int(Self.greetingDeadlineMillis - elapsed))
            }
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else {
                if !greeted && count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    refused(
                        LinkError(
                            .malformed, "no completed greeting within \(Self.greetingDeadlineMillis) ms of connecting"),
                        state: state)
                }
                return
            }
            defer {
                if !greeted && state.peer != nil && state.curve == nil {
                    greeted = true
                    TCPSocket.setReceiveTimeout(connection, millis: Self.silenceMillis)
                }
            }
            do {
                var chunk = Array(buffer[..<count])
                if state.curve != nil {
                    guard try handshake(chunk, state: &state, connection: connection) else { continue }
                    chunk = []  // bytes past INITIATE are already in the opener
                }
                if let opener = state.opener {
                    opener.append(chunk)
                    state.sealedIn += chunk.count
                    while let plain = try opener.next() {
                        state.plainIn += plain.count
                        decoder.append(plain)
                    }
                    // Wire bytes include each MESSAGE's 33 octets: what the opened records took,
                    // minus the link bytes they held (bytes of a record not yet whole wait).
                    let overhead = state.sealedIn - opener.bufferedBytes - state.plainIn - state.overheadCounted
                    if overhead > 0, let peer = state.peer {
                        peer.record(controlIn: overhead)
                        state.overheadCounted += overhead
                    }
                } else {
                    if state.peer == nil && decoder.bufferedBytes == 0 && CurveZMQ.startsWithHello(chunk[...]) {
                        throw LinkError(.crypto, "a CurveZMQ HELLO: the dialer encrypts, this link does not")
                    }
                    decoder.append(chunk)
                }
                while let (message, wireBytes) = try decoder.next() {
                    guard let known = state.peer else {
                        state.peer = try greet(message)
                        continue
                    }
                    if case .batch = message { state.batches += 1 }
                    if let answer = handle(message, wireBytes: wireBytes, from: known) {
                        let sent = state.wire(answer)
                        guard TCPSocket.writeAll(connection, sent, deadlineMillis: 1000) else { return }
                        known.record(control: sent.count)
                    }
                }
                // One acknowledgement per read: the dialer counts what a failing connection lost.
                if state.batches > state.acked, let peer = state.peer {
                    let ack = LinkEncoder.ack(batches: state.batches)
                    let sent = state.wire(ack)
                    guard TCPSocket.writeAll(connection, sent, deadlineMillis: 1000) else { return }
                    peer.record(control: sent.count)
                    state.acked = state.batches
                }
            } catch {
                refused(error, state: state)
                return
            }
        }
    }

    /// Counts and logs a connection closed for bytes it sent: against its peer when known.
    private func refused(_ error: any Error, state: Inbound) {
        guard let peer = state.peer ?? state.claimed else {
            let total = service.rejectedUnidentified.add(1, ordering: .relaxed).newValue
            if service.rejectedUnidentifiedLog.allow() {
                log.warning("inbound link refused before its peer was known (\(total) so far): \(error)")
            }
            return
        }
        peer.recordRejected()
        log.warning("inbound link closed: \(error)", metadata: ["peer": "\(peer.node.id)"])
    }

    /// Feeds the CurveZMQ server (§9.10); true once the handshake completed (the peer is then
    /// known and the record layer set), false while it goes on. Throws to close the connection.
    private func handshake(_ chunk: [UInt8], state: inout Inbound, connection: Int32) throws(LinkError) -> Bool {
        var random = SodiumRandom()
        var claimedNode = ""
        let step = try state.curve!.receive(chunk, random: &random) { [service] metadata in
            guard let claim = CurveZMQ.claimedIdentity(metadata), service.peers[claim.node] != nil else { return nil }
            claimedNode = claim.node
            return service.peerCurveKey(claim.node)
        }
        switch step {
        case .wait: return false
        case .send(let bytes):
            guard TCPSocket.writeAll(connection, bytes, deadlineMillis: 1000) else {
                throw LinkError(.crypto, "cannot answer the handshake")
            }
            return false
        case .refuse(let bytes, let reason):
            // Not counted against the node it claims: it did not prove to be that node, and anyone
            // with a Curve key could otherwise charge refusals to (and flood the log of) a real
            // peer. It goes with the unidentified refusals, logged at most once a second.
            _ = TCPSocket.writeAll(connection, bytes, deadlineMillis: 1000)
            throw LinkError(reason.code, "\(reason.message) (claimed node \(claimedNode.isEmpty ? "?" : claimedNode))")
        case .established(let bytes, let session):
            guard let claim = CurveZMQ.claimedIdentity(session.peerMetadata) else {
                throw LinkError(.malformed, "INITIATE metadata lacks Node or Instance")
            }
            state.claimed = try peer(claim)
            guard TCPSocket.writeAll(connection, bytes, deadlineMillis: 1000) else {
                throw LinkError(.crypto, "cannot answer the handshake")
            }
            (state.peer, state.curve) = (state.claimed, nil)
            (state.opener, state.sealer) = (session.opener, session.sealer)
            return true
        }
    }

    /// The first link frame of a plain link: a hello from a peer node.
    private func greet(_ message: Link.Message) throws(LinkError) -> PeerLink {
        switch message {
        case .hello(let hello): return try peer(hello)
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
        case .dictionary, .pong, .hello, .ack:
            peer.record(controlIn: wireBytes)
            return nil
        }
    }
}
