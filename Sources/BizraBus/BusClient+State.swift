import Metrics

/// Envelopes waiting for the IO thread, bounded by `limit` (BusSettings.queueLimit).
struct OutboundQueue {
    struct Item {
        var destination: Destination
        var record: Frame.Record
        var pending: PendingRequest?
    }

    private(set) var items: [Item] = []
    var pendingSubscriptions: [String] = []
    /// Set by the IO thread as it exits; later pushes fail instead of waiting forever.
    var closed = false
    let limit: Int

    init(limit: Int) { self.limit = limit }

    var count: Int { items.count }

    enum PushResult { case accepted, full, closed }

    mutating func push(_ item: Item) -> PushResult {
        if closed { return .closed }
        guard items.count < limit else { return .full }
        items.append(item)
        return .accepted
    }

    mutating func takeAll() -> [Item] {
        defer { items.removeAll(keepingCapacity: true) }
        return items
    }
}

/// A request awaiting its reply; owned by the IO thread.
struct PendingRequest: Sendable {
    var destination: Destination
    var record: Frame.Record
    var timeoutMicros: Int64
    var retriesLeft: Int
    var complete: @Sendable (Result<Delivery, BusError>) -> Void
    var deadlineMicros: Int64 = 0
}

/// State shared between the IO thread and callers.
struct SharedState {
    struct Subscription {
        var prefix: String
        var continuation: AsyncStream<Delivery>.Continuation
    }

    var handlers: [String: BusClient.Handler] = [:]
    var subscriptions: [Subscription] = []
    var registered = false
    var coreLost = false
    var ioThreadExited = false
}

/// The SDK's own metrics.
struct ClientCounters: Sendable {
    let queueFull = Counter(label: "bizra_sdk_outbound_dropped_total", dimensions: [("reason", "queue_full")])
    let socketFull = Counter(label: "bizra_sdk_outbound_dropped_total", dimensions: [("reason", "socket_full")])
    let deliveryDropped = Counter(label: "bizra_sdk_inbound_dropped_total", dimensions: [("reason", "consumer_full")])
    let framesSent = Counter(label: "bizra_sdk_frames_sent_total")
    let envelopesSent = Counter(label: "bizra_sdk_envelopes_sent_total")
    let retries = Counter(label: "bizra_sdk_request_retries_total")
    let duplicates = Counter(label: "bizra_sdk_duplicate_requests_total")
    let timeouts = Counter(label: "bizra_sdk_request_timeouts_total")
}

/// Replies already sent for recent requests, keyed by (requester, epoch, request id), so that a
/// retried request is answered again instead of executed twice. Bounded FIFO.
struct DedupeCache {
    struct Key: Hashable {
        var sender: Principal
        var epoch: UInt64
        var correlation: UInt64
    }

    enum Entry {
        case inProgress
        case done([Frame.Record])
    }

    static let entriesMax = 4096
    private var entries: [Key: Entry] = [:]
    private var order: [Key] = []
    private var head = 0

    func lookup(_ key: Key) -> Entry? { entries[key] }

    mutating func begin(_ key: Key) {
        if entries.count >= Self.entriesMax { evictOne() }
        entries[key] = .inProgress
        order.append(key)
    }

    mutating func finish(_ key: Key, reply: [Frame.Record]) {
        if entries[key] != nil { entries[key] = .done(reply) }
    }

    private mutating func evictOne() {
        while head < order.count {
            let key = order[head]
            head += 1
            if entries.removeValue(forKey: key) != nil { break }
        }
        if head > Self.entriesMax {
            order.removeFirst(head)
            head = 0
        }
    }
}
