/// A link instance's status, served by `bizra-compression` at `GET /status` on its metrics port
/// and shown by `bizra status` (and `status --json`, under `links`).
public struct LinkStatus: Codable, Sendable, Equatable {
    /// Bandwidth and health of the link to one peer node. Totals are since the instance started;
    /// `…PerSecond` and `compressionRatio` cover the last one-second sample.
    public struct Peer: Codable, Sendable, Equatable {
        public var node: String
        /// This instance's connections to the peer (opened on demand, closed when idle).
        public var connections: Int
        /// The node's connections to the peer, over all its link instances (slots held, at
        /// most the pool size); nil from older links.
        public var nodeSlotsHeld: Int?
        public var queueDepth: Int
        /// Smoothed round-trip time of pings; nil before the first pong and while this instance
        /// has no connection to the peer (idle connections close: no current measurement).
        public var rttMillis: Double?
        public var rawBytesOut: Int
        public var wireBytesOut: Int
        public var rawBytesIn: Int
        public var wireBytesIn: Int
        /// Bus frames carried (a frame may batch several envelopes under one signature).
        public var messagesOut: Int
        public var messagesIn: Int
        public var droppedUnreachable: Int
        public var droppedOverflow: Int
        public var droppedWriteFailed: Int
        public var droppedInFlight: Int
        public var droppedInbound: Int
        public var rejectedIn: Int
        /// Batches sent per codec (`none`, `lz4`, `zstd`, `zstd-dict`); nil from older links.
        public var batchesOutByCodec: [String: Int]?
        public var rawBytesOutPerSecond: Double
        public var wireBytesOutPerSecond: Double
        public var rawBytesInPerSecond: Double
        public var wireBytesInPerSecond: Double
        public var messagesOutPerSecond: Double
        public var messagesInPerSecond: Double
        public var compressionRatio: Double

        public init(node: String) {
            self.node = node
            connections = 0
            queueDepth = 0
            rawBytesOut = 0
            wireBytesOut = 0
            rawBytesIn = 0
            wireBytesIn = 0
            messagesOut = 0
            messagesIn = 0
            droppedUnreachable = 0
            droppedOverflow = 0
            droppedWriteFailed = 0
            droppedInFlight = 0
            droppedInbound = 0
            rejectedIn = 0
            rawBytesOutPerSecond = 0
            wireBytesOutPerSecond = 0
            rawBytesInPerSecond = 0
            wireBytesInPerSecond = 0
            messagesOutPerSecond = 0
            messagesInPerSecond = 0
            compressionRatio = 1
        }

        public var dropped: Int {
            droppedUnreachable + droppedOverflow + droppedWriteFailed + droppedInFlight + droppedInbound
        }
    }

    public var node: String
    public var instance: Int
    public var port: Int
    public var codec: String
    /// The id of the zstd dictionary this instance trained and announces (0: none yet).
    public var dictionaryID: UInt32
    /// Frames from the core for a node that is not a peer (or a client route not learned).
    public var unroutable: Int
    public var peers: [Peer]

    public init(
        node: String, instance: Int, port: Int, codec: String, dictionaryID: UInt32, unroutable: Int, peers: [Peer]
    ) {
        self.node = node
        self.instance = instance
        self.port = port
        self.codec = codec
        self.dictionaryID = dictionaryID
        self.unroutable = unroutable
        self.peers = peers
    }
}
