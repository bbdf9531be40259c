/// The link codec: how `bizra-compression` carries bus frames between hosts.
///
/// A link is a TCP byte stream of *link frames* (docs/PROTOCOL.md §7): a hello, then batches of
/// bus frames (each batch under one codec flag), pings and pongs for round-trip time, and zstd
/// dictionaries. Bus frames travel unchanged inside batches: a link never re-signs or alters
/// what it carries, so the receiving core verifies exactly what the originator signed.
///
/// Everything here is pure computation (framing, batching, compression, statistics): no
/// sockets, no clocks, no randomness. The executable in `Plugins/Compression` owns the IO.
public enum Link {
    /// The link protocol version carried in the hello.
    public static let version: UInt8 = 1

    /// Bytes of the length prefix before every link frame.
    public static let lengthPrefixBytes = 4

    /// Limits a decoder enforces on untrusted bytes, and an encoder respects.
    public struct Limits: Sendable, Equatable {
        /// The largest link frame (type and body, after the length prefix).
        public var linkFrameBytesMax: Int
        /// The most bus frames in one batch.
        public var batchFramesMax: Int
        /// The largest uncompressed batch block (bounds decompression output).
        public var batchRawBytesMax: Int
        /// The largest bus frame a batch may carry.
        public var busFrameBytesMax: Int
        /// The largest zstd dictionary a peer may send.
        public var dictionaryBytesMax: Int
        /// The most dictionaries a decoder keeps (the oldest is forgotten first).
        public var dictionariesMax: Int

        public init(
            linkFrameBytesMax: Int = 4 << 20 + 64, batchFramesMax: Int = 1024, batchRawBytesMax: Int = 4 << 20,
            busFrameBytesMax: Int = 1 << 20, dictionaryBytesMax: Int = 128 << 10, dictionariesMax: Int = 4
        ) {
            self.linkFrameBytesMax = linkFrameBytesMax
            self.batchFramesMax = batchFramesMax
            self.batchRawBytesMax = batchRawBytesMax
            self.busFrameBytesMax = busFrameBytesMax
            self.dictionaryBytesMax = dictionaryBytesMax
            self.dictionariesMax = dictionariesMax
        }

        public static let defaults = Limits()
    }

    /// The kinds of link frame (the byte after the length prefix).
    public enum FrameType: UInt8, Sendable {
        case hello = 1
        case batch = 2
        case ping = 3
        case pong = 4
        case dictionary = 5
        case ack = 6
    }

    /// The codec flag of a batch: one byte in front of its block.
    public enum Codec: UInt8, Sendable, CaseIterable, CustomStringConvertible {
        /// The block is stored raw (also the never-expand fallback of every other codec).
        case none = 0
        /// LZ4 block (liblz4), preceded by the raw length.
        case lz4 = 1
        /// zstd frame without dictionary, preceded by the raw length.
        case zstd = 2
        /// zstd frame with a dictionary the peer sent earlier on this connection, preceded by
        /// the raw length and the dictionary id.
        case zstdDictionary = 3

        public var description: String {
            switch self {
            case .none: "none"
            case .lz4: "lz4"
            case .zstd: "zstd"
            case .zstdDictionary: "zstd-dict"
            }
        }
    }

    /// Who is at the other end of a connection, sent first by the dialing side.
    public struct Hello: Sendable, Equatable {
        public var node: String
        public var instance: UInt16

        public init(node: String, instance: UInt16) {
            self.node = node
            self.instance = instance
        }
    }

    /// One decoded link frame.
    public enum Message: Sendable, Equatable {
        case hello(Hello)
        /// Bus frames, in order, with the codec they travelled under.
        case batch(frames: [[UInt8]], codec: Codec)
        case ping(token: UInt64)
        case pong(token: UInt64)
        case dictionary(id: UInt32, bytes: [UInt8])
        /// How many batches the receiver has taken from this connection so far (cumulative).
        case ack(batches: UInt64)
    }
}

/// Why link bytes were refused. The connection that carried them is closed: a stream that lost
/// its framing cannot be resynchronised.
public struct LinkError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A length, count or field outside its limit.
        case tooLarge = "too_large"
        /// Bytes that do not parse as a link frame.
        case malformed
        /// A compressed block that does not decode to its stated length.
        case corrupt
        /// A batch names a dictionary this connection never received.
        case unknownDictionary = "unknown_dictionary"
        /// A hello with another protocol version.
        case version
        /// An encrypted link's command that does not open, a nonce out of order, or a peer whose
        /// key or mode does not match (CurveZMQ, docs/PROTOCOL.md §9.10).
        case crypto
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
