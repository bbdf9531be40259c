import BizraConfig
import BizraCrypto
import Foundation
import Logging
import Synchronization

/// One envelope as delivered to a component by its core. The core verified the frame it came in
/// (signature, replay, ACL), so `sender` is an authenticated identity: protocol-level sender
/// fields (a Raft `from`, a SWIM member id) must be checked against it.
public struct Delivery: Sendable {
    public let envelope: Envelope
    public var sender: Principal { envelope.sender }
    public var type: String { envelope.type }
    public var kind: EnvelopeKind { envelope.kind }
    public var payload: [UInt8] { envelope.payload }
}

/// The component SDK's connection to its node's core: publish and subscribe, directed messages,
/// request/reply with retries, services with request deduplication, registration and heartbeats.
///
/// A dedicated IO thread owns the ZeroMQ sockets. Outgoing envelopes wait in one bounded queue;
/// the IO thread drains it and signs what it finds: a lone envelope goes at once in a frame of its
/// own, and a backlog for one destination goes as a batch under one signature.
public final class BusClient: Sendable {
    public struct Options: Sendable {
        public var principal: Principal
        public var key: Ed25519.KeyPair
        public var endpoints: CoreEndpoints
        public var settings: BusSettings
        /// Register with the core (components: yes; one-shot clients: no).
        public var registers: Bool
        public var services: [String]
        public var isLink: Bool
        public var metricsPort: Int

        public init(
            principal: Principal, key: Ed25519.KeyPair, endpoints: CoreEndpoints, settings: BusSettings,
            registers: Bool, services: [String] = [], isLink: Bool = false, metricsPort: Int = 0
        ) {
            self.principal = principal
            self.key = key
            self.endpoints = endpoints
            self.settings = settings
            self.registers = registers
            self.services = services
            self.isLink = isLink
            self.metricsPort = metricsPort
        }
    }

    /// A request handler: returns the reply payload, or throws a `BusFailure` (sent as an error reply).
    public typealias Handler = @Sendable (Delivery) async throws -> [UInt8]

    let options: Options
    let log: Logger
    let context = ZMQContext()
    let wakeup = WakeupFD()
    let outbound: Mutex<OutboundQueue>
    let state = Mutex(SharedState())
    let stopping = Atomic<Bool>(false)
    let draining = Atomic<Bool>(false)
    let nextCorrelation = Atomic<UInt64>(1)
    let inflight = Atomic<Int>(0)
    let handled = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let healthy = Atomic<Bool>(true)
    let counters = ClientCounters()
    let dedupe = Mutex(DedupeCache())
    let relayState = Mutex(RelayState())
    private let messageStream: AsyncStream<Delivery>
    let messageContinuation: AsyncStream<Delivery>.Continuation

    public init(options: Options, logger: Logger) {
        self.options = options
        var log = logger
        log[metadataKey: "component"] = "\(options.principal.component)"
        log[metadataKey: "instance"] = "\(options.principal.instance)"
        self.log = log
        outbound = Mutex(OutboundQueue(limit: options.settings.queueLimit))
        (messageStream, messageContinuation) = AsyncStream.makeStream(
            of: Delivery.self, bufferingPolicy: .bufferingOldest(options.settings.queueLimit))
    }

    /// Directed one-way messages to this instance (not requests, replies or control traffic).
    public var messages: AsyncStream<Delivery> { messageStream }

    /// Connects to the core and starts the IO thread. Registration (if configured) follows.
    public func start() throws(BusError) {
        // Sockets are created on the thread that uses them (ZeroMQ sockets are not thread-safe).
        let failure = Mutex<BusError?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let t = Thread { [self] in
            let loop: ClientLoop
            do {
                loop = try ClientLoop(client: self)
            } catch {
                failure.withLock { $0 = error as? BusError ?? BusError(.zmq, "\(error)") }
                state.withLock { $0.ioThreadExited = true }
                ready.signal()
                return
            }
            ready.signal()
            loop.run()
            loop.close()
        }
        t.name = "bizra-bus-io"
        t.start()
        ready.wait()
        let startError: BusError? = failure.withLock { f in f.map { BusError($0.code, $0.message) } }
        if let startError { throw startError }
    }

    /// Deregisters (so the core stops dispatching here), flushes what is queued, and stops.
    public func close() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wakeup.signal()
        // The IO thread sends the deregistration and the queue before it exits.
        let deadline = Clocks.monotonicMicros() + 2_000_000
        while state.withLock({ !$0.ioThreadExited }) && Clocks.monotonicMicros() < deadline { usleep(1000) }
        messageContinuation.finish()
        state.withLock { s in
            for sub in s.subscriptions { sub.continuation.finish() }
            s.subscriptions.removeAll()
        }
    }

    /// Graceful drain before exit: asks the core to stop dispatching here, then waits (up to
    /// `timeoutMillis`) for requests already being handled to finish and their replies to leave.
    public func drain(timeoutMillis: Int = 5000) async {
        guard options.registers else { return }
        draining.store(true, ordering: .releasing)
        wakeup.signal()
        let deadline = Clocks.monotonicMicros() + Int64(timeoutMillis) * 1000
        while inflight.load(ordering: .relaxed) > 0 && Clocks.monotonicMicros() < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        try? await Task.sleep(for: .milliseconds(50))  // let the last replies be written
    }

    /// True once the core has acknowledged registration (or immediately for clients that do not register).
    public var isRegistered: Bool { state.withLock { $0.registered } }

    /// True when a registered component has heard nothing from its core for the heartbeat timeout.
    public var coreLost: Bool { state.withLock { $0.coreLost } }

    /// Marks this instance healthy or not in its heartbeats; the core skips unhealthy instances.
    public func setHealthy(_ value: Bool) { healthy.store(value, ordering: .relaxed) }

    // MARK: sending

    public func publish(topic: String, scope: TopicScope = .local, type: String, payload: [UInt8]) throws(BusError) {
        try enqueue(.topic(topic, scope: scope), Frame.Record(kind: .message, type: type, payload: payload))
    }

    public func send(to destination: Destination, type: String, payload: [UInt8]) throws(BusError) {
        try enqueue(destination, Frame.Record(kind: .message, type: type, payload: payload))
    }

    func enqueue(_ destination: Destination, _ record: Frame.Record, pending: PendingRequest? = nil) throws(BusError) {
        guard record.encodedBytes <= options.settings.maxFrameBytes - Self.frameOverheadBytesMax else {
            throw BusError(
                .frameBuild,
                "envelope of \(record.encodedBytes) bytes exceeds maxFrameBytes \(options.settings.maxFrameBytes)")
        }
        guard !stopping.load(ordering: .relaxed) else { throw BusError(.closed, "the bus client is closed") }
        let item = OutboundQueue.Item(destination: destination, record: record, pending: pending)
        let (result, wasEmpty) = outbound.withLock { q in (q.push(item), q.count == 1) }
        switch result {
        case .accepted: break
        case .closed: throw BusError(.closed, "the bus client is closed")
        case .full:
            counters.queueFull.increment()
            throw BusError(
                .queueFull, "outbound queue holds \(options.settings.queueLimit) envelopes; the core is not keeping up")
        }
        if wasEmpty { wakeup.signal() }
    }

    /// The most topic subscriptions one client holds (each is a ZeroMQ prefix filter).
    public static let subscriptionsMax = 256

    /// Header and signature bytes a frame may add around its records (strings are ≤ 255 bytes).
    static let frameOverheadBytesMax = 2048

    // MARK: request/reply

    /// Sends a request and waits for its reply. A request that times out is sent again with the
    /// same request id (services deduplicate by it), up to `retries` times; a retryable error
    /// reply (no live instance yet) is retried after a short pause.
    public func request(
        _ destination: Destination, type: String, payload: [UInt8], timeoutMillis: Int? = nil, retries: Int? = nil
    ) async throws(BusError) -> Delivery {
        let correlation = nextCorrelation.add(1, ordering: .relaxed).oldValue
        let record = Frame.Record(kind: .request, type: type, correlation: correlation, payload: payload)
        let timeout = Int64(timeoutMillis ?? options.settings.requestTimeoutMillis) * 1000
        let result: Result<Delivery, BusError> = await withCheckedContinuation { continuation in
            let pending = PendingRequest(
                destination: destination, record: record, timeoutMicros: timeout,
                retriesLeft: retries ?? options.settings.requestRetries,
                complete: { continuation.resume(returning: $0) })
            do throws(BusError) {
                try enqueue(destination, record, pending: pending)
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        return try result.get()
    }

    /// Serves requests addressed to `service` (and to this instance) with `handler`. Call before `start()`.
    public func serve(_ service: String, handler: @escaping Handler) {
        state.withLock { $0.handlers[service] = handler }
    }

    /// The envelopes published on topics starting with `prefix`. Buffering is bounded by
    /// `queueLimit`; envelopes beyond it are dropped and counted.
    /// More subscriptions than `subscriptionsMax` are refused: the stream returned finishes at once.
    public func subscribe(_ prefix: String) -> AsyncStream<Delivery> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: Delivery.self, bufferingPolicy: .bufferingOldest(options.settings.queueLimit))
        let added = state.withLock { s in
            guard s.subscriptions.count < Self.subscriptionsMax else { return false }
            s.subscriptions.append(.init(prefix: prefix, continuation: continuation))
            return true
        }
        guard added else {
            log.error("subscription to \(prefix) refused: \(Self.subscriptionsMax) subscriptions already")
            continuation.finish()
            return stream
        }
        outbound.withLock { $0.pendingSubscriptions.append(prefix) }
        wakeup.signal()
        return stream
    }
}

extension BusClient {
    /// A started client (not a registered component) of `node`'s core, as the identity
    /// `client/<name>` whose key is created in `directory` if missing. Its instance id is random,
    /// so that concurrent clients of one name do not collide.
    public static func startClient(
        name: String, node: String, directory: DataDirectory, settings: BusSettings, logger: Logger
    ) throws(BusError) -> BusClient {
        let key = try KeyStore(directory: directory).loadOrCreate(keyName: "\(Principal.clientNode)/\(name)")
        let principal = Principal(
            node: Principal.clientNode, component: name, instance: UInt32(truncatingIfNeeded: SecureRandom.uint64()))
        let bus = BusClient(
            options: .init(
                principal: principal, key: key, endpoints: directory.endpoints(node: node), settings: settings,
                registers: false),
            logger: logger)
        try bus.start()
        return bus
    }
}
