import BizraCrypto

/// An originator's signing state: its identity, key, boot epoch and the two sequence streams
/// (directed and topic frames). Everything that sends frames (core, SDK, CLI, benchmarks) makes
/// them through this one type.
public struct FrameSigner: Sendable {
    public let principal: Principal
    public let key: Ed25519.KeyPair
    public let epoch: UInt64
    public let limits: FrameLimits
    private var nextDirected: UInt64 = 1
    private var nextTopic: UInt64 = 1

    public init(
        principal: Principal, key: Ed25519.KeyPair, limits: FrameLimits, epoch: UInt64 = UInt64(Clocks.wallMicros())
    ) {
        self.principal = principal
        self.key = key
        self.epoch = epoch
        self.limits = limits
    }

    /// Signs `records` for `destination`, consuming sequence numbers of the matching stream.
    public mutating func sign(
        _ records: [Frame.Record], to destination: Destination, nowMicros: Int64 = Clocks.wallMicros(),
        compress: Bool = false
    ) throws(FrameBuildError) -> [UInt8] {
        var isTopic = false
        if case .topic = destination { isTopic = true }
        let first = isTopic ? nextTopic : nextDirected
        let frame = Frame(
            sender: principal, epoch: epoch, firstSequence: first, timestampMicros: nowMicros,
            destination: destination, records: records, compressed: compress)
        let bytes = try frame.encodeSigned(with: key, limits: limits)
        if isTopic { nextTopic += UInt64(records.count) } else { nextDirected += UInt64(records.count) }
        return bytes
    }
}
