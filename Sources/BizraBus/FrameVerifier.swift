import BizraConfig

/// Everything a core checks before it lets a frame into its node, in order of cost: size and
/// syntax, a known key, the timestamp bound, the Ed25519 signature, the replay window, the
/// topic ACL. Pure: the caller passes the time, so tests and the simulator control it.
public struct FrameVerifier: Sendable {
    public var keyring: Keyring
    public let acl: TopicACL
    public let limits: FrameLimits
    public let maxSkewMicros: Int64
    var replay: ReplayTable
    /// Frames stamped earlier than this are refused as `tooOld` (a core sets its start time).
    public var notBeforeMicros: Int64 = .min

    /// The most sender streams whose replay windows a core keeps.
    public static let maxSenders = 65_536

    public init(keyring: Keyring, acl: TopicACL, settings: BusSettings) {
        self.keyring = keyring
        self.acl = acl
        self.limits = FrameLimits(maxFrameBytes: settings.maxFrameBytes, maxBatchEnvelopes: settings.maxBatchEnvelopes)
        self.maxSkewMicros = Int64(settings.maxClockSkewMillis) * 1000
        // The window is a bitmap of whole 64-bit words; the config allows any size in 64...65536.
        let windowSize = (max(settings.replayWindow, 64) + 63) / 64 * 64
        self.replay = ReplayTable(
            windowSize: windowSize, maxSenders: Self.maxSenders, forgetAfterMicros: 2 * maxSkewMicros)
    }

    /// A frame that passed every check, with how many sequence numbers its stream skipped.
    public struct Verified: Sendable {
        public let parsed: ParsedFrame
        /// The decoded frame. Decoding a validated body cannot fail; it is done on demand because
        /// a core forwards most frames without reading their records.
        public var frame: Frame {
            do { return try parsed.decodeBody(limits: limits) } catch {
                preconditionFailure("a validated frame body failed to decode: \(error)")
            }
        }
        let limits: FrameLimits
        /// Sequence numbers skipped before this frame in its stream (lost upstream, or reordered).
        public let sequenceGap: UInt64
    }

    /// Verifies `bytes` received at `nowMicros`. Never traps on any input.
    public mutating func verify(_ bytes: [UInt8], nowMicros: Int64) throws(FrameError) -> Verified {
        let parsed = try ParsedFrame.parse(bytes, limits: limits)
        guard let key = keyring.publicKey(for: parsed.sender.keyName) else {
            throw FrameError(.unknownKey, "no public key for \(parsed.sender.keyName)")
        }
        let skew = nowMicros.subtractingReportingOverflow(parsed.timestampMicros)
        guard !skew.overflow, skew.partialValue.magnitude <= maxSkewMicros.magnitude else {
            throw FrameError(.tooOld, "timestamp is \(skew.partialValue / 1000) ms from this core's clock")
        }
        guard parsed.timestampMicros >= notBeforeMicros else {
            throw FrameError(.tooOld, "frame was signed before this core started")
        }
        guard parsed.hasValidSignature(publicKey: key) else {
            throw FrameError(.badSignature, "signature does not verify for \(parsed.sender.keyName)")
        }
        if case .topic(let topic, _) = parsed.destination,
            !acl.allowsPublish(node: parsed.sender.node, component: parsed.sender.component, topic: topic)
        {
            throw FrameError(.aclDenied, "\(parsed.sender.keyName) may not publish to \(topic)")
        }
        try parsed.validateBody()
        switch replay.offer(parsed, nowMicros: nowMicros) {
        case nil: throw FrameError(.overloaded, "replay table holds \(FrameVerifier.maxSenders) live senders")
        case .replay(let why): throw FrameError(.replay, why)
        case .tooOld(let why): throw FrameError(.tooOld, why)
        case .accept(let gap): return Verified(parsed: parsed, limits: limits, sequenceGap: gap)
        }
    }
}
