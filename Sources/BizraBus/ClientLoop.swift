import Foundation
import Logging

/// The SDK's IO thread: owns the DEALER (directed frames, requests, replies, control), the PUB
/// (topic frames) and the SUB (subscriptions) sockets.
final class ClientLoop {
    /// The longest the loop sleeps in poll, so timers (heartbeats, request deadlines) stay on time.
    static let tickMillis = 20
    /// The most messages read from one socket per round.
    static let drainMax = 512
    /// The most requests awaiting replies at once; past it a request fails at once.
    static let pendingMax = 65_536
    /// Concurrent handler invocations; past it a request gets an `overloaded` error reply.
    static let handlersInflightMax = 1024

    let client: BusClient
    let dealer: ZMQSocket
    let pub: ZMQSocket
    let sub: ZMQSocket
    var signer: FrameSigner
    var pending: [UInt64: PendingRequest] = [:]
    /// Requests that got a retryable error reply: resent (without spending a retry) at their deadline.
    var pendingResend: Set<UInt64> = []
    /// Frames that could not be written because the DEALER's queue was full; retried first.
    var stalled: [[UInt8]] = []
    /// The most such frames; past it new frames are dropped and counted (requests then time out
    /// and are retried).
    static let stalledMax = 10_000
    var deregistered = false
    var lastHeartbeatSentMicros: Int64 = 0
    var lastHeardFromCoreMicros: Int64 = Clocks.monotonicMicros()
    var registrationSentMicros: Int64 = 0
    var log: Logger { client.log }
    var heartbeatMicros: Int64 { Int64(client.options.settings.heartbeatIntervalMillis) * 1000 }
    var heartbeatTimeoutMicros: Int64 { Int64(client.options.settings.heartbeatTimeoutMillis) * 1000 }

    init(client: BusClient) throws(BusError) {
        self.client = client
        let o = client.options
        signer = FrameSigner(
            principal: o.principal, key: o.key,
            limits: FrameLimits(
                maxFrameBytes: o.settings.maxFrameBytes, maxBatchEnvelopes: o.settings.maxBatchEnvelopes))
        dealer = try ZMQSocket(client.context, .dealer)
        pub = try ZMQSocket(client.context, .pub)
        sub = try ZMQSocket(client.context, .sub)
        for socket in [dealer, pub, sub] {
            try socket.set(.sendHighWaterMark, 100_000)
            try socket.set(.receiveHighWaterMark, 100_000)
        }
        try dealer.connect(o.endpoints.router)
        try pub.connect(o.endpoints.publish)
        try sub.connect(o.endpoints.subscribe)
    }

    func close() {
        dealer.close()
        pub.close()
        sub.close()
        client.context.terminate()
        client.state.withLock { $0.ioThreadExited = true }
    }

    func run() {
        let targets: [PollTarget] = [.socket(dealer), .socket(sub), .fd(client.wakeup.fd)]
        if !client.options.registers { client.state.withLock { $0.registered = true } }
        while !client.stopping.load(ordering: .acquiring) {
            do {
                let ready = try zmqPollReadable(targets, timeoutMillis: Self.tickMillis)
                if ready.contains(2) { client.wakeup.drain() }
                if ready.contains(0) { try drain(dealer) { self.onDirected($0) } }
                if ready.contains(1) { try drain(sub) { self.onTopic($0) } }
                try flushOutbound()
                timers()
            } catch {
                log.error("bus IO error: \(error)")
                usleep(10_000)
            }
        }
        shutdown()
    }

    private func shutdown() {
        if client.options.registers && client.isRegistered {
            enqueueControl(Frame.Record(kind: .message, type: ControlType.deregister, payload: []))
        }
        try? flushOutbound()
        let leftovers = client.outbound.withLock { q in
            q.closed = true
            return q.takeAll()
        }
        for item in leftovers { item.pending?.complete(.failure(BusError(.closed, "the bus client closed"))) }
        // Give ZeroMQ a moment to write what was queued (LINGER is 0 once we close).
        let deadline = Clocks.monotonicMicros() + 200_000
        while !stalled.isEmpty && Clocks.monotonicMicros() < deadline {
            try? flushOutbound()
            usleep(1000)
        }
        usleep(20_000)
        for (_, request) in pending { request.complete(.failure(BusError(.closed, "the bus client closed"))) }
        pending.removeAll()
    }

    private func drain(_ socket: ZMQSocket, _ handle: ([[UInt8]]) -> Void) throws(BusError) {
        for _ in 0..<Self.drainMax {
            guard let parts = try socket.receive() else { return }
            handle(parts)
        }
    }

    /// Decodes a frame delivered by our core. The core verified it; we only parse it (a frame
    /// our own core sends us that does not parse is a bug, logged and dropped).
    func decode(_ bytes: [UInt8]) -> Frame? {
        do {
            let limits = signer.limits
            return try ParsedFrame.parse(bytes, limits: limits).decodeBody(limits: limits)
        } catch {
            log.warning("undecodable frame from the core: \(error)")
            return nil
        }
    }

    func enqueueControl(_ record: Frame.Record) {
        let core = Principal(node: client.options.principal.node, component: Principal.coreComponent, instance: 0)
        if let bytes = try? signer.sign([record], to: .instance(core)) { write(bytes, topic: nil) }
    }

    /// Writes a signed frame: topic frames to PUB, the rest to the DEALER (queued if it is full).
    func write(_ bytes: [UInt8], topic: String?) {
        client.counters.framesSent.increment()
        if let topic {
            _ = try? pub.send([Array(topic.utf8), bytes])
            return
        }
        if stalled.isEmpty, (try? dealer.send([bytes])) == .sent { return }
        guard stalled.count < Self.stalledMax else {
            client.counters.socketFull.increment()
            return
        }
        stalled.append(bytes)
    }
}
