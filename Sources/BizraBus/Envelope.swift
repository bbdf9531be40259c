/// What an envelope is for: a one-way message, a request that expects a reply, or a reply.
public enum EnvelopeKind: UInt8, Sendable, Hashable {
    case message = 0
    case request = 1
    case reply = 2
    /// A reply saying the request failed; the payload is a `BusFailure` (code and reason).
    case errorReply = 3
}

/// One message on the bus, as a sender wrote it and a receiver reads it.
///
/// On the wire envelopes travel inside a signed `Frame`, which holds what a batch shares (sender,
/// epoch, timestamp, destination); an envelope's sequence number is the frame's first sequence
/// number plus its position in the batch. See docs/PROTOCOL.md.
public struct Envelope: Sendable, Equatable {
    public var sender: Principal
    /// The sender's boot epoch: a restarted sender starts a new epoch and a new sequence.
    public var epoch: UInt64
    public var sequence: UInt64
    /// Microseconds since the Unix epoch when the frame was made.
    public var timestampMicros: Int64
    public var destination: Destination
    public var kind: EnvelopeKind
    /// The message type, e.g. `bus.register`, `worker.work`, `raft.append`.
    public var type: String
    /// The request id of a request, and of the reply to it; 0 otherwise.
    public var correlation: UInt64
    public var payload: [UInt8]

    public init(
        sender: Principal, epoch: UInt64, sequence: UInt64, timestampMicros: Int64, destination: Destination,
        kind: EnvelopeKind, type: String, correlation: UInt64, payload: [UInt8]
    ) {
        self.sender = sender
        self.epoch = epoch
        self.sequence = sequence
        self.timestampMicros = timestampMicros
        self.destination = destination
        self.kind = kind
        self.type = type
        self.correlation = correlation
        self.payload = payload
    }
}

/// The body of an `.errorReply`: a stable code and a human-readable reason.
public struct BusFailure: Sendable, Equatable, Error, CustomStringConvertible {
    public enum Code: UInt16, Sendable {
        case noRoute = 1
        case noService = 2
        case noInstance = 3
        case rejected = 4
        case overloaded = 5
        case handlerFailed = 6
        case timedOut = 7
    }

    public var code: Code
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }

    /// Whether a caller may usefully retry (the request did not reach a handler, or may not have).
    public var isRetryable: Bool {
        switch code {
        case .noService, .noInstance, .overloaded, .timedOut: true
        case .noRoute, .rejected, .handlerFailed: false
        }
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.u16(code.rawValue)
        writer.bytes(Array(reason.utf8.prefix(1024)))
        return writer.buffer
    }

    public static func decode(_ bytes: [UInt8]) -> BusFailure {
        guard bytes.count >= 2 else { return BusFailure(.rejected, "malformed error reply") }
        let raw = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let reason = String(decoding: bytes[2...], as: UTF8.self)
        return BusFailure(Code(rawValue: raw) ?? .rejected, reason)
    }
}
