import BizraCodec
import BizraCrypto

/// The unit the bus signs, verifies and carries: one or more envelopes from one sender to one
/// destination under one Ed25519 signature.
///
/// A frame with a backlog behind it carries a batch (one signature instead of up to
/// `maxBatchEnvelopes`), which is what lets a core verify at bus rates: a verification costs about
/// 86 µs of CPU, a 256-byte ZeroMQ message about 1 µs. Byte layout: docs/PROTOCOL.md §3.
public struct Frame: Sendable, Equatable {
    public static let magic: (UInt8, UInt8) = (0x42, 0x5A)  // "BZ"
    public static let version: UInt8 = 1
    public static let flagBatch: UInt8 = 0x01
    public static let flagLZ4: UInt8 = 0x02
    /// Bytes of the fixed header before the variable-length sender field.
    public static let fixedHeaderBytes = 30
    public static let signatureBytes = Ed25519.signatureBytes

    /// One envelope's own fields; everything else it shares with its frame.
    public struct Record: Sendable, Equatable {
        public var kind: EnvelopeKind
        public var type: String
        public var correlation: UInt64
        public var payload: [UInt8]

        public init(kind: EnvelopeKind, type: String, correlation: UInt64 = 0, payload: [UInt8]) {
            self.kind = kind
            self.type = type
            self.correlation = correlation
            self.payload = payload
        }

        /// Encoded size inside a body.
        var encodedBytes: Int { 1 + 1 + type.utf8.count + 8 + 4 + payload.count }
    }

    public var sender: Principal
    public var epoch: UInt64
    public var firstSequence: UInt64
    public var timestampMicros: Int64
    public var destination: Destination
    public var records: [Record]
    /// Whether the body was (or is to be) LZ4-compressed on the wire.
    public var compressed: Bool

    public init(
        sender: Principal, epoch: UInt64, firstSequence: UInt64, timestampMicros: Int64,
        destination: Destination, records: [Record], compressed: Bool = false
    ) {
        self.sender = sender
        self.epoch = epoch
        self.firstSequence = firstSequence
        self.timestampMicros = timestampMicros
        self.destination = destination
        self.records = records
        self.compressed = compressed
    }

    /// The envelopes this frame carries, in order.
    public var envelopes: [Envelope] {
        records.enumerated().map { index, record in
            Envelope(
                sender: sender, epoch: epoch, sequence: firstSequence &+ UInt64(index),
                timestampMicros: timestampMicros, destination: destination, kind: record.kind,
                type: record.type, correlation: record.correlation, payload: record.payload)
        }
    }

    /// The last sequence number the frame uses.
    public var lastSequence: UInt64 { firstSequence &+ UInt64(max(records.count, 1) - 1) }
}

/// Limits a decoder enforces on untrusted frames.
public struct FrameLimits: Sendable, Equatable {
    public var maxFrameBytes: Int
    public var maxBatchEnvelopes: Int

    public init(maxFrameBytes: Int = 1 << 20, maxBatchEnvelopes: Int = 64) {
        self.maxFrameBytes = maxFrameBytes
        self.maxBatchEnvelopes = maxBatchEnvelopes
    }
}

/// Why a frame could not be built from a sender's own input (a programmer or caller error, not
/// a reject: nothing was sent).
public struct FrameBuildError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
