import BizraBus
import BizraCrypto
import BizraLink
import Foundation
import Logging
import Synchronization

/// One pooled outbound connection to a peer, opened on demand (§9.1 of docs/PROTOCOL.md): waits
/// until the pool policy wants it connected (frames queued; for a further dialer, a backlog),
/// takes one of the node-wide slots for the peer (`LinkSlots`), dials (trying the peer's link
/// instances in turn, with capped exponential back-off), says hello, then writes batches taken
/// from the peer's queue and a ping every second; a reader thread on the same socket takes the
/// pongs (RTT). It closes when idle (or when another instance of the node waits for the slot)
/// and releases the slot. Outbound connections only write frames; frames from the peer arrive on
/// the connections it dials to us.
final class LinkDialer: @unchecked Sendable {
    let peer: PeerLink
    /// This dialer's place in the instance's pool (0: the first connection to the peer).
    let index: Int
    let service: LinkService
    var log: Logger
    private let slots: LinkSlots.Peer

    static let connectTimeoutMillis: Int32 = 1000
    static let backoffMinMillis = 100
    static let backoffMaxMillis = 2000
    static let pingIntervalSeconds = 1.0
    /// A batch whose write takes longer than this fails the connection (frames counted lost).
    static let writeDeadlineMillis: Int32 = 10_000
    /// Link instances of the peer a slot may dial (a pool uses the first two).
    static let peerInstancesTried = 2
    /// On a deliberate close, how long to wait for the peer's last acknowledgements.
    static let closeDrainMillis = 2000

    init(peer: PeerLink, index: Int, slots: LinkSlots.Peer, service: LinkService, log: Logger) {
        self.peer = peer
        self.index = index
        self.slots = slots
        self.service = service
        self.log = log
        self.log[metadataKey: "peer"] = "\(peer.node.id)"
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "link-dial-\(peer.node.id)-\(index)"
        thread.start()
    }

    /// How a connection ended.
    enum Ending: Equatable {
        /// The peer took the connection but not the hello (a key or encryption mismatch).
        case handshakeFailed
        /// The connection broke (or the link is stopping).
        case broken
        /// Closed on purpose (idle, or yielding the slot to another instance of the node).
        case closed(LinkPoolPolicy.Close)
    }

    private func run() {
        var backoffMillis = Self.backoffMinMillis
        var wasUp = false
        while peer.awaitDemand(index: index, policy: service.pool) {
            guard let slot = takeSlot() else { continue }
            guard let (fd, port) = dial() else {
                slot.release()
                peer.dialFailed()
                if wasUp { log.info("link to peer lost; reconnecting") }
                wasUp = false
                usleep(UInt32(backoffMillis) * 1000)
                backoffMillis = min(backoffMillis * 2, Self.backoffMaxMillis)
                continue
            }
            let ending = serve(fd, port: port, announce: !wasUp)
            close(fd)
            slot.release()
            switch ending {
            case .handshakeFailed:
                // Back off as for a refused connection, rather than spin.
                peer.dialFailed()
                if wasUp { log.info("link to peer lost; reconnecting") }
                wasUp = false
                usleep(UInt32(backoffMillis) * 1000)
                backoffMillis = min(backoffMillis * 2, Self.backoffMaxMillis)
            case .broken:
                wasUp = true
                backoffMillis = Self.backoffMinMillis
            case .closed(let reason):
                log.debug("link connection to peer closed (\(reason.rawValue)); slot released")
                wasUp = false
                backoffMillis = Self.backoffMinMillis
                if reason == .yield { usleep(UInt32(LinkPoolPolicy.yieldCooldownMillis) * 1000) }
            }
        }
    }

    /// One of the node's slots for the peer, polling while all are held (marking this dialer
    /// as waiting when its instance has no connection to the peer); nil when the demand went.
    private func takeSlot() -> SlotLock? {
        defer { slots.waiting.release() }
        while true {
            for number in service.pool.slotOrder(index: index) where slots.slots[number].tryAcquire() {
                return slots.slots[number]
            }
            if index == 0 && peer.snapshot().connections == 0 { _ = slots.waiting.tryMark() }
            usleep(UInt32(LinkPoolPolicy.slotPollMillis) * 1000)
            guard peer.wantsConnection(index: index, policy: service.pool) else { return nil }
        }
    }

    /// A connected socket to one of the peer's link instances (this dialer's first), or nil when
    /// neither accepts.
    private func dial() -> (fd: Int32, port: Int)? {
        for offset in 0..<Self.peerInstancesTried {
            let port = peer.node.linkPort(instance: (index + offset) % Self.peerInstancesTried)
            if let fd = TCPSocket.connect(
                host: peer.node.address, port: port, timeoutMillis: Self.connectTimeoutMillis,
                userTimeoutMillis: service.userTimeoutMillis)
            {
                return (fd, port)
            }
        }
        return nil
    }

    /// Runs one connection until it breaks, the link stops, or the pool policy closes it.
    private func serve(_ fd: Int32, port: Int, announce: Bool) -> Ending {
        guard let session = greet(fd) else { return .handshakeFailed }
        if announce { log.info("link to peer up", metadata: ["port": "\(port)"]) }
        var sealer = session.sealer
        /// Writes one link frame (sealed on an encrypted link); `overhead` is then what the
        /// seal added (the MESSAGE command's 33 octets), for the wire-byte counters.
        func write(_ bytes: [UInt8], overhead: inout Int) -> Bool {
            guard let sealed = sealer?.seal(bytes) else {
                overhead = 0
                return TCPSocket.writeAll(fd, bytes, deadlineMillis: Self.writeDeadlineMillis)
            }
            overhead = sealed.count - bytes.count
            return TCPSocket.writeAll(fd, sealed, deadlineMillis: Self.writeDeadlineMillis)
        }
        func write(_ bytes: [UInt8]) -> Bool {
            var overhead = 0
            guard write(bytes, overhead: &overhead) else { return false }
            peer.record(control: overhead)
            return true
        }
        let broken = Atomic<Bool>(false)
        let readerDone = DispatchSemaphore(value: 0)
        let inFlight = InFlightBatches()
        // Declared before the reader's join, so it runs after it: a PONG the reader handles
        // while the connection closes cannot leave an RTT behind a link with no connection.
        peer.connectionUp()
        defer { peer.connectionDown() }
        defer {
            let lost = inFlight.unacknowledgedFrames()
            if lost > 0 {
                peer.recordLostInFlight(frames: lost)
                log.warning("connection to peer failed; \(lost) frames unacknowledged, counted lost")
            }
        }
        let reader = Thread { [self] in
            readAnswers(fd, opener: session.opener, inFlight: inFlight)
            broken.store(true, ordering: .relaxed)
            readerDone.signal()
        }
        reader.start()
        var drained = false
        defer {
            if !drained {
                shutdown(fd, Int32(SHUT_RDWR))
                readerDone.wait()
            }
        }
        let encoder = LinkEncoder(limits: service.limits)
        var policy = LinkCodecPolicy(mode: service.codecMode)
        var nextPing = Date()
        var usage = ConnectionUsage(openedMillis: PeerLink.nowMillis())
        while true {
            if let dictionary = service.currentDictionary(), dictionary.id != encoder.zstd.dictionaryID {
                let bytes = LinkEncoder.dictionary(id: dictionary.id, bytes: dictionary.bytes)
                guard write(bytes) else { return .broken }
                encoder.zstd.load(dictionary: dictionary.bytes, id: dictionary.id)
                peer.record(control: bytes.count)
            }
            guard
                let (frames, backlogged) = peer.nextBatch(
                    until: nextPing, framesMax: service.limits.batchFramesMax,
                    bytesMax: service.batchBytesMax, abandon: { broken.load(ordering: .relaxed) })
            else { return .broken }
            if Date() >= nextPing {
                let ping = LinkEncoder.ping(token: UInt64(DispatchTime.now().uptimeNanoseconds / 1000))
                guard write(ping) else {
                    // The batch taken above is lost with the connection: count it.
                    if !frames.isEmpty {
                        peer.recordWriteFailed(frames: frames.count)
                        log.warning("write to peer failed; \(frames.count) frames dropped")
                    }
                    return .broken
                }
                peer.record(control: ping.count)
                nextPing = Date().addingTimeInterval(Self.pingIntervalSeconds)
                usage.closing = service.pool.shouldClose(
                    idleMillis: PeerLink.nowMillis() - usage.lastBatchMillis,
                    contendedMillis: usage.contended(SlotLock.isHeld(path: slots.waiting.path)))
            }
            if !frames.isEmpty {
                let codec = policy.choose(
                    frames: frames.count, backlogged: backlogged, hasDictionary: encoder.zstd.dictionaryID != 0)
                let batch = encoder.batch(frames, codec: codec)
                policy.observe(codec: codec, blockBytes: batch.blockBytes, wireBytes: batch.bytes.count)
                inFlight.sending(frames: frames.count)
                var overhead = 0
                guard write(batch.bytes, overhead: &overhead) else {
                    inFlight.failedLast()
                    peer.recordWriteFailed(frames: frames.count)
                    log.warning("write to peer failed; \(frames.count) frames dropped")
                    return .broken
                }
                peer.record(sent: batch, sealedOverhead: overhead)
                usage.lastBatchMillis = PeerLink.nowMillis()
            }
            if let reason = usage.closing {
                drained = drain(fd, readerDone: readerDone)
                return .closed(reason)
            }
        }
    }

    /// A deliberate close: ends the write side so that the peer reads every batch, then waits
    /// (bounded) for its last acknowledgements and its close. True when the reader ended.
    private func drain(_ fd: Int32, readerDone: DispatchSemaphore) -> Bool {
        shutdown(fd, Int32(SHUT_WR))
        guard readerDone.wait(timeout: .now() + .milliseconds(Self.closeDrainMillis)) == .success else { return false }
        return true
    }

    /// When a connection last carried a batch, since when another dialer waits for its slot,
    /// and whether the pool policy asked it to close.
    struct ConnectionUsage {
        var lastBatchMillis: Int64
        var contendedSinceMillis: Int64?
        var closing: LinkPoolPolicy.Close?

        init(openedMillis: Int64) { lastBatchMillis = openedMillis }

        /// Notes whether a waiter is there now; how long one has been, or nil.
        mutating func contended(_ waiting: Bool) -> Int64? {
            let now = PeerLink.nowMillis()
            contendedSinceMillis = waiting ? (contendedSinceMillis ?? now) : nil
            return contendedSinceMillis.map { now - $0 }
        }
    }

    /// The record layer of a connection: none on a plain link.
    struct Session {
        var sealer: CurveZMQ.Sealer?
        var opener: CurveZMQ.Opener?
    }

    /// Says hello; on an encrypted link, runs the CurveZMQ handshake as its client (§9.10).
    /// Nil: give up on this connection.
    private func greet(_ fd: Int32) -> Session? {
        guard let own = service.secureKey else {
            let bytes = LinkEncoder.hello(Link.Hello(node: service.node.id, instance: UInt16(service.instance)))
            return TCPSocket.writeAll(fd, bytes, deadlineMillis: Self.writeDeadlineMillis) ? Session() : nil
        }
        guard let serverKey = service.peerCurveKey(peer.node.id) else {
            peer.recordRejected()
            log.warning(
                "encrypted link to peer not attempted: no usable \(peer.node.id)/compression key in the keyring")
            return nil
        }
        var client = CurveZMQClient(
            permanent: own, serverKey: serverKey, metadata: service.curveMetadata, limits: service.limits)
        var random = SodiumRandom()
        guard TCPSocket.writeAll(fd, client.hello(random: &random), deadlineMillis: Self.writeDeadlineMillis) else {
            return nil
        }
        TCPSocket.setReceiveTimeout(fd, millis: Int(Self.connectTimeoutMillis) * 5)
        defer { TCPSocket.setReceiveTimeout(fd, millis: 0) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        do {
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard count > 0 else {
                    throw LinkError(.crypto, "the peer closed the connection (is its link encrypted, with this key?)")
                }
                switch try client.receive(Array(buffer[..<count]), random: &random) {
                case .wait: continue
                case .send(let bytes), .refuse(let bytes, _):
                    guard TCPSocket.writeAll(fd, bytes, deadlineMillis: Self.writeDeadlineMillis) else { return nil }
                case .established(let bytes, let session):
                    guard bytes.isEmpty || TCPSocket.writeAll(fd, bytes, deadlineMillis: Self.writeDeadlineMillis)
                    else { return nil }
                    return Session(sealer: session.sealer, opener: session.opener)
                }
            }
        } catch {
            peer.recordRejected()
            log.warning("encrypted link handshake with peer failed: \(error)")
            return nil
        }
    }

    /// Reads the peer's pongs (round-trip time) and acknowledgements on a dialed connection.
    private func readAnswers(_ fd: Int32, opener: CurveZMQ.Opener?, inFlight: InFlightBatches) {
        let decoder = LinkDecoder(limits: service.limits)
        var buffer = [UInt8](repeating: 0, count: 4096)
        // Starts with no new bytes: what the handshake read past READY is already in the opener.
        var chunk: [UInt8] = []
        while true {
            do {
                if let opener {
                    opener.append(chunk)
                    while let plain = try opener.next() { decoder.append(plain) }
                } else {
                    decoder.append(chunk)
                }
                while let (message, bytes) = try decoder.next() {
                    peer.record(controlIn: bytes)
                    switch message {
                    case .pong(let token):
                        let now = UInt64(DispatchTime.now().uptimeNanoseconds / 1000)
                        if now >= token { peer.record(rttMicros: Int64(now - token)) }
                    case .ack(let batches): inFlight.acknowledge(upTo: batches)
                    default: break
                    }
                }
            } catch {
                peer.recordRejected()
                log.warning("answers from peer refused; closing the connection: \(error)")
                return
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            chunk = Array(buffer[..<count])
        }
    }
}

/// Batches written on one connection and not yet acknowledged by the peer (ACK link frames
/// carry the cumulative count received). When the connection fails, their frames are counted
/// lost (`in_flight`), never resent. Bounded by what the kernel's buffers can hold; past
/// `entriesMax` the oldest are forgotten as if acknowledged (a peer that far behind is failing anyway).
final class InFlightBatches: Sendable {
    static let entriesMax = 1 << 18
    private let state = Mutex<(base: UInt64, frames: [Int], head: Int)>((0, [], 0))

    /// Call before writing a batch (an acknowledgement may overtake the writer's return).
    func sending(frames: Int) {
        state.withLock { s in
            if s.frames.count - s.head >= Self.entriesMax {
                s.head += 1
                s.base += 1
            }
            s.frames.append(frames)
        }
    }

    /// The write of the batch last announced failed: it is counted elsewhere.
    func failedLast() { state.withLock { s in if s.frames.count > s.head { s.frames.removeLast() } } }

    func acknowledge(upTo batches: UInt64) {
        state.withLock { s in
            while s.base < batches && s.head < s.frames.count {
                s.head += 1
                s.base += 1
            }
            if s.head > 4096 && s.head * 2 > s.frames.count {
                s.frames.removeFirst(s.head)
                s.head = 0
            }
        }
    }

    func unacknowledgedFrames() -> Int { state.withLock { s in s.frames[s.head...].reduce(0, +) } }
}
