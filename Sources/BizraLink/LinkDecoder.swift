import BizraCodec

/// Reads link frames from a byte stream (docs/PROTOCOL.md §7). Never traps on any input: bytes
/// that break a limit or do not parse throw a `LinkError`, after which the stream is unusable
/// (the caller closes the connection).
///
/// A connection's reader owns one decoder: it holds the zstd dictionaries the peer sent.
public final class LinkDecoder: @unchecked Sendable {
    public let limits: Link.Limits
    private let zstd: ZstdDecompressor
    private var buffer: [UInt8] = []
    private var start = 0
    /// Bytes compacted away once this many have been consumed.
    private static let compactBytesMin = 64 << 10

    public init(limits: Link.Limits = .defaults) {
        self.limits = limits
        zstd = ZstdDecompressor(dictionariesMax: limits.dictionariesMax)
    }

    /// Bytes received but not yet decoded (bounded by one link frame plus one read).
    public var bufferedBytes: Int { buffer.count - start }

    public func append(_ bytes: UnsafeRawBufferPointer) {
        if start > Self.compactBytesMin && start * 2 > buffer.count {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// The next complete link frame and its size on the wire, or nil when more bytes are needed.
    public func next() throws(LinkError) -> (message: Link.Message, wireBytes: Int)? {
        guard bufferedBytes >= Link.lengthPrefixBytes else { return nil }
        var header = LinkReader(buffer, from: start)
        let length = Int(try header.u32())
        guard length >= 1, length <= limits.linkFrameBytesMax else {
            throw LinkError(.tooLarge, "link frame of \(length) bytes (limit 1...\(limits.linkFrameBytesMax))")
        }
        guard bufferedBytes >= Link.lengthPrefixBytes + length else { return nil }
        let bodyStart = start + Link.lengthPrefixBytes
        let message = try decode(LinkReader(buffer, from: bodyStart, end: bodyStart + length))
        start = bodyStart + length
        return (message, Link.lengthPrefixBytes + length)
    }

    private func decode(_ reader: LinkReader) throws(LinkError) -> Link.Message {
        var r = reader
        let rawType = try r.u8()
        guard let type = Link.FrameType(rawValue: rawType) else {
            throw LinkError(.malformed, "unknown link frame type \(rawType)")
        }
        let message: Link.Message
        switch type {
        case .hello: message = .hello(try Self.hello(&r))
        case .ping: message = .ping(token: try r.u64())
        case .pong: message = .pong(token: try r.u64())
        case .ack: message = .ack(batches: try r.u64())
        case .dictionary: message = try decodeDictionary(&r)
        case .batch:
            let (frames, codec) = try decodeBatch(&r)
            message = .batch(frames: frames, codec: codec)
        }
        guard r.remaining == 0 else { throw LinkError(.malformed, "\(r.remaining) trailing bytes in a link frame") }
        return message
    }

    private static func hello(_ r: inout LinkReader) throws(LinkError) -> Link.Hello {
        let version = try r.u8()
        guard version == Link.version else {
            throw LinkError(.version, "peer speaks link version \(version), this side \(Link.version)")
        }
        let nodeBytes = try r.take(Int(try r.u8()))
        guard let node = String(validating: nodeBytes, as: UTF8.self) else {
            throw LinkError(.malformed, "hello node id is not UTF-8")
        }
        return Link.Hello(node: node, instance: try r.u16())
    }

    private func decodeDictionary(_ r: inout LinkReader) throws(LinkError) -> Link.Message {
        let id = try r.u32()
        let bytes = Array(r.rest())
        guard id != 0, !bytes.isEmpty, bytes.count <= limits.dictionaryBytesMax else {
            throw LinkError(.tooLarge, "dictionary \(id) of \(bytes.count) bytes (limit \(limits.dictionaryBytesMax))")
        }
        guard zstd.add(dictionary: bytes, id: id) else { throw LinkError(.corrupt, "dictionary \(id) does not load") }
        return .dictionary(id: id, bytes: bytes)
    }

    private func decodeBatch(_ r: inout LinkReader) throws(LinkError) -> ([[UInt8]], Link.Codec) {
        let rawCodec = try r.u8()
        guard let codec = Link.Codec(rawValue: rawCodec) else {
            throw LinkError(.malformed, "unknown codec \(rawCodec)")
        }
        guard codec != .none else { return (try Self.frames(inBlock: Array(r.rest()), limits: limits), codec) }
        let blockBytes = Int(try r.u32())
        guard blockBytes >= 2, blockBytes <= limits.batchRawBytesMax else {
            throw LinkError(.tooLarge, "batch block of \(blockBytes) bytes (limit \(limits.batchRawBytesMax))")
        }
        let dictionaryID = codec == .zstdDictionary ? try r.u32() : 0
        if codec == .zstdDictionary && !zstd.hasDictionary(dictionaryID) {
            throw LinkError(.unknownDictionary, "batch uses dictionary \(dictionaryID), never received")
        }
        let compressed = r.rest()
        let block: [UInt8]? = compressed.withUnsafeBytes { raw in
            switch codec {
            case .none: nil
            case .lz4: LZ4Block.decompress(raw, originalBytes: blockBytes)
            case .zstd, .zstdDictionary:
                zstd.decompress(raw, originalBytes: blockBytes, dictionaryID: dictionaryID)
            }
        }
        guard let block else { throw LinkError(.corrupt, "\(codec) block does not decode to \(blockBytes) bytes") }
        return (try Self.frames(inBlock: block, limits: limits), codec)
    }

    /// The bus frames of an uncompressed batch block; the block must be used exactly.
    static func frames(inBlock block: [UInt8], limits: Link.Limits) throws(LinkError) -> [[UInt8]] {
        guard block.count <= limits.batchRawBytesMax else {
            throw LinkError(.tooLarge, "batch block of \(block.count) bytes (limit \(limits.batchRawBytesMax))")
        }
        var r = LinkReader(block)
        let count = Int(try r.u16())
        guard count >= 1, count <= limits.batchFramesMax else {
            throw LinkError(.tooLarge, "batch of \(count) frames (limit 1...\(limits.batchFramesMax))")
        }
        var frames: [[UInt8]] = []
        frames.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(try r.u32())
            guard length >= 1, length <= limits.busFrameBytesMax else {
                throw LinkError(.tooLarge, "bus frame of \(length) bytes (limit 1...\(limits.busFrameBytesMax))")
            }
            frames.append(Array(try r.take(length)))
        }
        guard r.remaining == 0 else { throw LinkError(.malformed, "\(r.remaining) trailing bytes in a batch block") }
        return frames
    }
}
