/// Bandwidth accounting of one peer: cumulative counters, and rates over the last second.
///
/// "Raw" bytes are the bus frames the link was asked to carry; "wire" bytes are what crossed
/// TCP (link framing, codec headers, compressed blocks, and control frames: hello, ping, pong,
/// ack, dictionaries). The compression ratio is raw bytes / the wire bytes of their batches.
public struct LinkPeerStats: Sendable, Equatable, Codable {
    public var rawBytesOut = 0
    public var wireBytesOut = 0
    /// The part of `wireBytesOut` that carried batches (the rest: hellos, pings, dictionaries).
    public var batchWireBytesOut = 0
    public var rawBytesIn = 0
    public var wireBytesIn = 0
    public var messagesOut = 0
    public var messagesIn = 0
    public var batchesOut = 0
    /// Batches sent under each codec, indexed by `Link.Codec.rawValue`.
    public var batchesOutByCodec = [0, 0, 0, 0]
    public var batchesIn = 0
    /// Frames dropped because no connection to the peer was up (at-most-once: never resent).
    public var droppedUnreachable = 0
    /// Frames refused because the peer's send queue was full.
    public var droppedOverflow = 0
    /// Frames in a batch whose write failed (the connection broke mid-write).
    public var droppedWriteFailed = 0
    /// Frames written to a connection that failed before the peer acknowledged their batch (an
    /// upper bound: an acknowledgement lost with the connection counts delivered frames too).
    public var droppedInFlight = 0
    /// Frames from this peer that could not be handed to the local core (its queue was full).
    public var droppedInbound = 0
    /// Link frames refused from this peer (malformed, corrupt, too large).
    public var rejectedIn = 0

    public init() {}

    public var dropped: Int {
        droppedUnreachable + droppedOverflow + droppedWriteFailed + droppedInFlight + droppedInbound
    }

    /// raw bytes / the wire bytes of the batches that carried them (1 before anything was sent).
    public var compressionRatioOut: Double {
        batchWireBytesOut == 0 ? 1 : Double(rawBytesOut) / Double(batchWireBytesOut)
    }

    /// The per-second difference between two snapshots taken `elapsedMicros` apart.
    public func rate(since earlier: LinkPeerStats, elapsedMicros: Int64) -> LinkPeerRate {
        let seconds = max(Double(elapsedMicros) / 1e6, 1e-3)
        func per(_ a: Int, _ b: Int) -> Double { Double(a - b) / seconds }
        let raw = rawBytesOut - earlier.rawBytesOut
        let wire = batchWireBytesOut - earlier.batchWireBytesOut
        return LinkPeerRate(
            rawBytesOutPerSecond: per(rawBytesOut, earlier.rawBytesOut),
            wireBytesOutPerSecond: per(wireBytesOut, earlier.wireBytesOut),
            rawBytesInPerSecond: per(rawBytesIn, earlier.rawBytesIn),
            wireBytesInPerSecond: per(wireBytesIn, earlier.wireBytesIn),
            messagesOutPerSecond: per(messagesOut, earlier.messagesOut),
            messagesInPerSecond: per(messagesIn, earlier.messagesIn),
            dropsPerSecond: per(dropped, earlier.dropped),
            compressionRatio: wire == 0 ? 1 : Double(raw) / Double(wire))
    }
}

/// Rates of one peer over one sampling interval (1 s).
public struct LinkPeerRate: Sendable, Equatable, Codable {
    public var rawBytesOutPerSecond = 0.0
    public var wireBytesOutPerSecond = 0.0
    public var rawBytesInPerSecond = 0.0
    public var wireBytesInPerSecond = 0.0
    public var messagesOutPerSecond = 0.0
    public var messagesInPerSecond = 0.0
    public var dropsPerSecond = 0.0
    public var compressionRatio = 1.0

    public init() {}

    public init(
        rawBytesOutPerSecond: Double, wireBytesOutPerSecond: Double, rawBytesInPerSecond: Double,
        wireBytesInPerSecond: Double, messagesOutPerSecond: Double, messagesInPerSecond: Double,
        dropsPerSecond: Double, compressionRatio: Double
    ) {
        self.rawBytesOutPerSecond = rawBytesOutPerSecond
        self.wireBytesOutPerSecond = wireBytesOutPerSecond
        self.rawBytesInPerSecond = rawBytesInPerSecond
        self.wireBytesInPerSecond = wireBytesInPerSecond
        self.messagesOutPerSecond = messagesOutPerSecond
        self.messagesInPerSecond = messagesInPerSecond
        self.dropsPerSecond = dropsPerSecond
        self.compressionRatio = compressionRatio
    }
}
