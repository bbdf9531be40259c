/// Why a frame was refused. Every reject is counted under its reason (metric
/// `bizra_bus_rejected_frames_total{reason=…}`) and logged at a bounded rate.
public enum RejectReason: String, Sendable, CaseIterable, Hashable {
    case badSignature = "bad_signature"
    case unknownKey = "unknown_key"
    case replay = "replay"
    case tooOld = "too_old"
    case oversized = "oversized"
    case malformed = "malformed"
    case aclDenied = "acl_denied"
    /// The replay table is full of live senders: a new sender is refused rather than weakening
    /// replay protection by forgetting a live one.
    case overloaded = "overloaded"
}

/// A frame that could not be decoded or was refused, with its reason and detail.
public struct FrameError: Error, Sendable, CustomStringConvertible {
    public let reason: RejectReason
    public let detail: String

    public init(_ reason: RejectReason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}
