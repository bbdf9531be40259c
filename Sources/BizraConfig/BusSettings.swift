/// Limits and timings of the signed bus, shared by the core and every component.
///
/// Every field has a named range (`ranges`) so that a typo cannot turn a bound into
/// "unbounded" or a timeout into a busy loop.
public struct BusSettings: Sendable, Equatable {
    /// The largest frame accepted, in bytes; larger frames are rejected as oversized.
    public var maxFrameBytes: Int
    /// The most envelopes one signed batch frame may carry.
    public var maxBatchEnvelopes: Int
    /// How many sequence numbers behind the highest seen a sender's frame may still arrive.
    public var replayWindow: Int
    /// How far a frame's timestamp may be from the receiver's clock before it is too old.
    public var maxClockSkewMillis: Int
    /// How often components send heartbeats to their core.
    public var heartbeatIntervalMillis: Int
    /// How long without a heartbeat before the core deregisters an instance.
    public var heartbeatTimeoutMillis: Int
    /// How long a request waits for its reply before it is retried.
    public var requestTimeoutMillis: Int
    /// How many times a timed-out request is retried (with the same request id).
    public var requestRetries: Int
    /// The most envelopes held in any one queue; overflow is refused and counted.
    public var queueLimit: Int

    public init(
        maxFrameBytes: Int, maxBatchEnvelopes: Int, replayWindow: Int, maxClockSkewMillis: Int,
        heartbeatIntervalMillis: Int, heartbeatTimeoutMillis: Int, requestTimeoutMillis: Int, requestRetries: Int,
        queueLimit: Int
    ) {
        self.maxFrameBytes = maxFrameBytes
        self.maxBatchEnvelopes = maxBatchEnvelopes
        self.replayWindow = replayWindow
        self.maxClockSkewMillis = maxClockSkewMillis
        self.heartbeatIntervalMillis = heartbeatIntervalMillis
        self.heartbeatTimeoutMillis = heartbeatTimeoutMillis
        self.requestTimeoutMillis = requestTimeoutMillis
        self.requestRetries = requestRetries
        self.queueLimit = queueLimit
    }

    /// The values used for every key the file leaves out.
    public static let defaults = BusSettings(
        maxFrameBytes: 1_048_576, maxBatchEnvelopes: 64, replayWindow: 1024, maxClockSkewMillis: 30_000,
        heartbeatIntervalMillis: 500, heartbeatTimeoutMillis: 3000, requestTimeoutMillis: 1000, requestRetries: 5,
        queueLimit: 65_536)

    /// A heartbeat timeout must cover at least this many intervals, so one lost beat is not a death.
    public static let heartbeatsPerTimeoutMin = 3

    /// Every field's YAML key, allowed range and key path, in file order.
    static let fields: [(key: String, range: ClosedRange<Int>, path: WritableKeyPath<BusSettings, Int> & Sendable)] = [
        ("maxFrameBytes", 1024...16_777_216, \.maxFrameBytes),
        ("maxBatchEnvelopes", 1...1024, \.maxBatchEnvelopes),
        ("replayWindow", 64...65_536, \.replayWindow),
        ("maxClockSkewMillis", 1000...600_000, \.maxClockSkewMillis),
        ("heartbeatIntervalMillis", 50...10_000, \.heartbeatIntervalMillis),
        ("heartbeatTimeoutMillis", 150...600_000, \.heartbeatTimeoutMillis),
        ("requestTimeoutMillis", 10...60_000, \.requestTimeoutMillis),
        ("requestRetries", 0...20, \.requestRetries),
        ("queueLimit", 16...1_048_576, \.queueLimit),
    ]
}

/// Settings of `bizra-worker`, the simulated service used as a workload.
public struct WorkerSettings: Sendable, Equatable {
    /// How long each request takes to serve.
    public var serviceTimeMillis: Int
    /// The fraction of requests answered with an error, in [0, 1].
    public var errorRate: Double

    public init(serviceTimeMillis: Int, errorRate: Double) {
        self.serviceTimeMillis = serviceTimeMillis
        self.errorRate = errorRate
    }

    /// The values used for every key the file leaves out.
    public static let defaults = WorkerSettings(serviceTimeMillis: 2, errorRate: 0.0)

    /// The allowed service times.
    public static let serviceTimeMillisRange = 0...60_000
}
