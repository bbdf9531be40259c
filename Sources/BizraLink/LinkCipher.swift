import BizraCrypto

/// The record layer of an encrypted link (docs/PROTOCOL.md §9.10): after the handshake, every
/// link frame travels as `length:u32 ciphertext`, the ciphertext being XChaCha20-Poly1305 of
/// the frame's type and body under the direction's session key, with the record number as
/// nonce. A record that was altered, dropped, repeated or reordered does not open, and the
/// connection is closed.
public struct LinkSealer: Sendable {
    private var direction: SessionCrypto.Direction

    public init(key: [UInt8]) { direction = SessionCrypto.Direction(key: key) }

    /// The record for one encoded link frame (as `LinkEncoder` writes it, length prefix included).
    public mutating func seal(_ linkFrame: [UInt8]) -> [UInt8] {
        let ciphertext = direction.seal(linkFrame[Link.lengthPrefixBytes...])
        var w = LinkWriter(capacity: Link.lengthPrefixBytes + ciphertext.count)
        w.u32(UInt32(ciphertext.count))
        w.bytes(ciphertext)
        return w.buffer
    }
}

/// Reassembles and opens records from an encrypted link's byte stream, yielding the plain link
/// frames (length prefix included) for a `LinkDecoder`.
public final class LinkOpener: @unchecked Sendable {
    private var direction: SessionCrypto.Direction
    private let recordBytesMax: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(key: [UInt8], limits: Link.Limits = .defaults) {
        direction = SessionCrypto.Direction(key: key)
        recordBytesMax = limits.linkFrameBytesMax + SessionCrypto.tagBytes
    }

    public func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 65_536 && start * 2 > buffer.count {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// The next plain link frame, or nil when more bytes are needed.
    public func next() throws(LinkError) -> [UInt8]? {
        guard buffer.count - start >= Link.lengthPrefixBytes else { return nil }
        var header = LinkReader(buffer, from: start)
        let length = Int(try header.u32())
        guard length > SessionCrypto.tagBytes, length <= recordBytesMax else {
            throw LinkError(.tooLarge, "encrypted record of \(length) bytes")
        }
        guard buffer.count - start >= Link.lengthPrefixBytes + length else { return nil }
        let body = buffer[(start + Link.lengthPrefixBytes)..<(start + Link.lengthPrefixBytes + length)]
        guard let plain = direction.open(body) else {
            throw LinkError(.crypto, "record \(direction.records) does not open (altered, lost or replayed)")
        }
        start += Link.lengthPrefixBytes + length
        var w = LinkWriter(capacity: Link.lengthPrefixBytes + plain.count)
        w.u32(UInt32(plain.count))
        w.bytes(plain)
        return w.buffer
    }
}
