import BizraCodec

/// Writes link frames (docs/PROTOCOL.md §7). A connection's writer owns one encoder: it holds
/// the zstd context and the dictionary this side has announced.
public final class LinkEncoder: @unchecked Sendable {
    public let limits: Link.Limits
    public let zstd = ZstdCompressor()

    public init(limits: Link.Limits = .defaults) { self.limits = limits }

    /// A batch as written: its link frame, the codec it went under (the requested one, or `.none`
    /// when compressing would not have made it smaller), and its size before compression.
    public struct EncodedBatch: Sendable {
        public var bytes: [UInt8]
        public var codec: Link.Codec
        /// The bus frames' own bytes (what the link was asked to carry).
        public var rawBytes: Int
        /// The size of the uncompressed block (frames plus their length fields).
        public var blockBytes: Int
        public var frames: Int
    }

    public static func hello(_ hello: Link.Hello) -> [UInt8] {
        let node = Array(hello.node.utf8.prefix(255))
        var w = LinkWriter(capacity: 16 + node.count)
        w.u32(0)
        w.u8(Link.FrameType.hello.rawValue)
        w.u8(Link.version)
        w.u8(UInt8(node.count))
        w.bytes(node)
        w.u16(hello.instance)
        w.patchLength(at: 0)
        return w.buffer
    }

    public static func ping(token: UInt64) -> [UInt8] { control(.ping, token) }
    public static func pong(token: UInt64) -> [UInt8] { control(.pong, token) }
    public static func ack(batches: UInt64) -> [UInt8] { control(.ack, batches) }

    private static func control(_ type: Link.FrameType, _ token: UInt64) -> [UInt8] {
        var w = LinkWriter(capacity: 13)
        w.u32(9)
        w.u8(type.rawValue)
        w.u64(token)
        return w.buffer
    }

    public static func dictionary(id: UInt32, bytes: [UInt8]) -> [UInt8] {
        var w = LinkWriter(capacity: 9 + bytes.count)
        w.u32(0)
        w.u8(Link.FrameType.dictionary.rawValue)
        w.u32(id)
        w.bytes(bytes)
        w.patchLength(at: 0)
        return w.buffer
    }

    /// The uncompressed block of a batch: a u16 count, then each frame as a u32 length and bytes.
    public static func block<C: Collection>(_ frames: C) -> [UInt8] where C.Element == [UInt8] {
        var w = LinkWriter(capacity: 2 + frames.reduce(0) { $0 + 4 + $1.count })
        w.u16(UInt16(frames.count))
        for frame in frames {
            w.u32(UInt32(frame.count))
            w.bytes(frame)
        }
        return w.buffer
    }

    /// Encodes `frames` as one batch under `codec`, falling back to `.none` whenever the
    /// compressed form plus its extra header would not be smaller than the raw block: a batch's
    /// body is never more than one byte (the codec flag) larger than its raw block.
    public func batch<C: Collection>(_ frames: C, codec: Link.Codec) -> EncodedBatch where C.Element == [UInt8] {
        precondition(
            !frames.isEmpty && frames.count <= limits.batchFramesMax,
            "a batch holds 1...\(limits.batchFramesMax) frames, not \(frames.count)")
        let block = Self.block(frames)
        precondition(
            block.count <= limits.batchRawBytesMax, "a batch block of \(block.count) bytes exceeds the limit")
        let rawBytes = block.count - 2 - 4 * frames.count
        let (used, compressed) = compress(block, codec: codec)
        var w = LinkWriter(capacity: 16 + (compressed?.count ?? block.count))
        w.u32(0)
        w.u8(Link.FrameType.batch.rawValue)
        w.u8(used.rawValue)
        if let compressed {
            w.u32(UInt32(block.count))
            if used == .zstdDictionary { w.u32(zstd.dictionaryID) }
            w.bytes(compressed)
        } else {
            w.bytes(block)
        }
        w.patchLength(at: 0)
        return EncodedBatch(
            bytes: w.buffer, codec: used, rawBytes: rawBytes, blockBytes: block.count, frames: frames.count)
    }

    /// The codec actually used and its output (nil for `.none`).
    private func compress(_ block: [UInt8], codec: Link.Codec) -> (Link.Codec, [UInt8]?) {
        let header = codec == .zstdDictionary ? 8 : 4
        let out: [UInt8]? = block.withUnsafeBytes { raw in
            switch codec {
            case .none: nil
            case .lz4: LZ4Block.compress(raw)
            case .zstd: zstd.compress(raw, withDictionary: false)
            case .zstdDictionary: zstd.compress(raw, withDictionary: true)
            }
        }
        guard let out, out.count + header < block.count else { return (.none, nil) }
        return (codec, out)
    }
}
