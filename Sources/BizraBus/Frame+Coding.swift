import BizraCodec
import BizraCrypto

extension Frame {
    /// The signed wire bytes of this frame. Throws when a field is too long for its length prefix
    /// or the frame would exceed `limits`.
    public func encodeSigned(with key: Ed25519.KeyPair, limits: FrameLimits) throws(FrameBuildError) -> [UInt8] {
        try validateForEncoding(limits: limits)
        var body = ByteWriter(capacity: records.reduce(0) { $0 + $1.encodedBytes })
        for record in records {
            body.u8(record.kind.rawValue)
            body.str8(record.type)
            body.u64(record.correlation)
            body.u32(UInt32(record.payload.count))
            body.bytes(record.payload)
        }
        var flags: UInt8 = records.count > 1 ? Frame.flagBatch : 0
        var wireBody = body.buffer
        var rawLength: UInt32?
        if compressed, let packed = wireBody.withUnsafeBytes({ LZ4Block.compress($0) }) {
            flags |= Frame.flagLZ4
            rawLength = UInt32(wireBody.count)
            wireBody = packed
        }
        var out = ByteWriter(capacity: 128 + wireBody.count)
        out.u8(Frame.magic.0)
        out.u8(Frame.magic.1)
        out.u8(Frame.version)
        out.u8(flags)
        out.u64(epoch)
        out.u64(firstSequence)
        out.u64(UInt64(bitPattern: timestampMicros))
        out.u16(UInt16(records.count))
        out.str8(sender.node)
        out.str8(sender.component)
        out.u32(sender.instance)
        Frame.encode(destination, into: &out)
        out.u32(UInt32(wireBody.count))
        if let rawLength { out.u32(rawLength) }
        out.bytes(wireBody)
        let signature = out.buffer.withUnsafeBytes { key.sign($0) }
        out.bytes(signature)
        guard out.buffer.count <= limits.maxFrameBytes else {
            throw FrameBuildError(
                description: "frame of \(out.buffer.count) bytes exceeds maxFrameBytes \(limits.maxFrameBytes)")
        }
        return out.buffer
    }

    private func validateForEncoding(limits: FrameLimits) throws(FrameBuildError) {
        guard !records.isEmpty, records.count <= min(limits.maxBatchEnvelopes, Int(UInt16.max)) else {
            throw FrameBuildError(
                description: "a frame carries 1...\(limits.maxBatchEnvelopes) envelopes, got \(records.count)")
        }
        var strings = [sender.node, sender.component] + records.map(\.type)
        switch destination {
        case .instance(let p): strings += [p.node, p.component]
        case .service(let node, let name): strings += [node, name]
        case .topic(let topic, _): strings.append(topic)
        }
        if let long = strings.first(where: { $0.utf8.count > 255 }) {
            throw FrameBuildError(description: "field '\(long.prefix(40))…' is longer than 255 bytes")
        }
    }

    static func encode(_ destination: Destination, into out: inout ByteWriter) {
        switch destination {
        case .instance(let p):
            out.u8(1)
            out.str8(p.node)
            out.str8(p.component)
            out.u32(p.instance)
        case .service(let node, let name):
            out.u8(2)
            out.str8(node)
            out.str8(name)
        case .topic(let topic, let scope):
            out.u8(3)
            out.u8(scope.rawValue)
            out.str8(topic)
        }
    }
}

/// A frame whose header has been parsed but whose signature is not yet checked and whose body is
/// not yet decoded: the verifier checks the signature before it spends work on the body.
public struct ParsedFrame: Sendable {
    public let bytes: [UInt8]
    public let flags: UInt8
    public let sender: Principal
    public let epoch: UInt64
    public let firstSequence: UInt64
    public let timestampMicros: Int64
    public let count: Int
    public let destination: Destination
    let bodyRange: Range<Int>
    let rawBodyLength: Int?

    public var lastSequence: UInt64 { firstSequence &+ UInt64(count - 1) }

    /// Parses the header of untrusted bytes. Throws `.oversized` or `.malformed`; never traps.
    public static func parse(_ bytes: [UInt8], limits: FrameLimits) throws(FrameError) -> ParsedFrame {
        guard bytes.count <= limits.maxFrameBytes else {
            throw FrameError(.oversized, "\(bytes.count) bytes exceeds maxFrameBytes \(limits.maxFrameBytes)")
        }
        guard bytes.count >= Frame.fixedHeaderBytes + Frame.signatureBytes else {
            throw FrameError(.malformed, "\(bytes.count) bytes is shorter than the smallest frame")
        }
        var r = ByteReader(bytes, end: bytes.count - Frame.signatureBytes)
        guard try r.u8() == Frame.magic.0, try r.u8() == Frame.magic.1 else {
            throw FrameError(.malformed, "bad magic: not a BIZRA frame")
        }
        let version = try r.u8()
        guard version == Frame.version else { throw FrameError(.malformed, "unsupported frame version \(version)") }
        let flags = try r.u8()
        guard flags & ~(Frame.flagBatch | Frame.flagLZ4) == 0 else {
            throw FrameError(.malformed, "unknown flag bits 0x\(String(flags, radix: 16))")
        }
        let epoch = try r.u64()
        let firstSequence = try r.u64()
        let timestamp = Int64(bitPattern: try r.u64())
        let count = Int(try r.u16())
        guard count >= 1, count <= limits.maxBatchEnvelopes else {
            throw FrameError(.malformed, "envelope count \(count) outside 1...\(limits.maxBatchEnvelopes)")
        }
        guard (count > 1) == (flags & Frame.flagBatch != 0) else {
            throw FrameError(.malformed, "batch flag disagrees with envelope count \(count)")
        }
        let sender = Principal(node: try r.str8(), component: try r.str8(), instance: try r.u32())
        let destination = try parseDestination(&r)
        let bodyLength = Int(try r.u32())
        let rawLength: Int? = flags & Frame.flagLZ4 != 0 ? Int(try r.u32()) : nil
        let bodyStart = r.offset
        _ = try r.take(bodyLength)
        guard r.remaining == 0 else {
            throw FrameError(.malformed, "\(r.remaining) trailing bytes before the signature")
        }
        if let rawLength, rawLength > limits.maxFrameBytes || rawLength <= bodyLength {
            throw FrameError(.malformed, "compressed body claims \(rawLength) raw bytes from \(bodyLength)")
        }
        return ParsedFrame(
            bytes: bytes, flags: flags, sender: sender, epoch: epoch, firstSequence: firstSequence,
            timestampMicros: timestamp, count: count, destination: destination,
            bodyRange: bodyStart..<bodyStart + bodyLength, rawBodyLength: rawLength)
    }

    private static func parseDestination(_ r: inout ByteReader) throws(FrameError) -> Destination {
        switch try r.u8() {
        case 1: return .instance(Principal(node: try r.str8(), component: try r.str8(), instance: try r.u32()))
        case 2: return .service(node: try r.str8(), name: try r.str8())
        case 3:
            let rawScope = try r.u8()
            guard let scope = TopicScope(rawValue: rawScope) else {
                throw FrameError(.malformed, "unknown topic scope \(rawScope)")
            }
            return .topic(try r.str8(), scope: scope)
        case let kind: throw FrameError(.malformed, "unknown destination kind \(kind)")
        }
    }

    /// True when the signature is `publicKey`'s over every byte before it.
    public func hasValidSignature(publicKey: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { all in
            let split = all.count - Frame.signatureBytes
            return Ed25519.verify(
                signature: UnsafeRawBufferPointer(rebasing: all[split...]),
                message: UnsafeRawBufferPointer(rebasing: all[..<split]), publicKey: publicKey)
        }
    }

    /// Decodes the body into a `Frame`. Call only after the signature checked out.
    public func decodeBody(limits: FrameLimits) throws(FrameError) -> Frame {
        var records: [Frame.Record] = []
        records.reserveCapacity(count)
        try walkBody { records.append($0()) }
        return Frame(
            sender: sender, epoch: epoch, firstSequence: firstSequence, timestampMicros: timestampMicros,
            destination: destination, records: records, compressed: rawBodyLength != nil)
    }

    /// Checks the body's structure (every record's kind, type, length) without copying any
    /// payload: what a core needs before it forwards a frame it does not itself consume.
    public func validateBody() throws(FrameError) {
        try walkBody { _ in }
    }

    /// Walks the body's records, handing `visit` a closure that materialises the current one.
    private func walkBody(_ visit: (() -> Frame.Record) -> Void) throws(FrameError) {
        var inflated: [UInt8] = []
        var r: ByteReader
        if let rawBodyLength {
            let raw = bytes.withUnsafeBytes { all in
                LZ4Block.decompress(UnsafeRawBufferPointer(rebasing: all[bodyRange]), originalBytes: rawBodyLength)
            }
            guard let raw else {
                throw FrameError(.malformed, "LZ4 body does not decompress to \(rawBodyLength) bytes")
            }
            inflated = raw
            r = ByteReader(inflated)
        } else {
            r = ByteReader(bytes, from: bodyRange.lowerBound, end: bodyRange.upperBound)
        }
        for index in 0..<count {
            let rawKind = try r.u8()
            guard let kind = EnvelopeKind(rawValue: rawKind) else {
                throw FrameError(.malformed, "envelope \(index) has unknown kind \(rawKind)")
            }
            let type = try r.str8()
            let correlation = try r.u64()
            let payload = try r.take(Int(try r.u32()))
            visit { Frame.Record(kind: kind, type: type, correlation: correlation, payload: Array(payload)) }
        }
        guard r.remaining == 0 else {
            throw FrameError(.malformed, "\(r.remaining) trailing bytes after the last envelope")
        }
    }
}
