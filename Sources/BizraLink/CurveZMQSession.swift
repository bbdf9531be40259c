import BizraCrypto

extension CurveZMQ {
    /// Reassembles length-prefixed commands from a connection's bytes. Bounded: a command
    /// longer than `bytesMax` is refused before its bytes are awaited.
    struct CommandReader: Sendable {
        private var buffer: [UInt8] = []
        private var start = 0
        var bytesMax: Int

        init(bytesMax: Int) { self.bytesMax = bytesMax }

        var bufferedBytes: Int { buffer.count - start }

        mutating func append(_ bytes: UnsafeRawBufferPointer) {
            if start > 65_536 && start * 2 > buffer.count {
                buffer.removeSubrange(0..<start)
                start = 0
            }
            buffer.append(contentsOf: bytes)
        }

        /// The next command (without its length prefix), or nil when more bytes are needed.
        mutating func next() throws(LinkError) -> ArraySlice<UInt8>? {
            guard bufferedBytes >= Link.lengthPrefixBytes else { return nil }
            var header = LinkReader(buffer, from: start)
            let length = Int(try header.u32())
            guard length >= 1, length <= bytesMax else {
                throw LinkError(.tooLarge, "CurveZMQ command of \(length) octets (limit 1...\(bytesMax))")
            }
            guard bufferedBytes >= Link.lengthPrefixBytes + length else { return nil }
            let body = buffer[(start + Link.lengthPrefixBytes)..<(start + Link.lengthPrefixBytes + length)]
            start += Link.lengthPrefixBytes + length
            return body
        }

        /// Whether the first command's first octet is `octet` (for telling a plain link hello apart).
        func firstOctetIs(_ octet: UInt8) -> Bool {
            bufferedBytes > Link.lengthPrefixBytes && buffer[start + Link.lengthPrefixBytes] == octet
        }
    }

    /// Seals link frames into MESSAGE commands in one direction of an established connection.
    /// Short nonces continue from the handshake's and strictly increase.
    public struct Sealer: Sendable {
        let key: Curve25519Box.SharedKey
        let prefix: [UInt8]
        private(set) var nextNonce: UInt64

        init(key: Curve25519Box.SharedKey, prefix: [UInt8], nextNonce: UInt64) {
            self.key = key
            self.prefix = prefix
            self.nextNonce = nextNonce
        }

        /// The MESSAGE record (length prefix included) carrying one encoded link frame (as
        /// `LinkEncoder` writes it, length prefix included): payload = flags (0) ‖ type ‖ body.
        public mutating func seal(_ linkFrame: [UInt8]) -> [UInt8] {
            precondition(linkFrame.count > Link.lengthPrefixBytes, "an encoded link frame has a type octet")
            precondition(nextNonce < UInt64.max, "2^64-1 commands on one connection")
            let frameBytes = linkFrame.count - Link.lengthPrefixBytes
            let header = Link.lengthPrefixBytes + 8 + 8  // length, name, short nonce
            let textStart = header + Curve25519Box.macBytes
            var out = [UInt8](repeating: 0, count: textStart + 1 + frameBytes)
            var w = LinkWriter(capacity: header)
            w.u32(UInt32(out.count - Link.lengthPrefixBytes))
            w.bytes(CurveZMQ.messageName)
            w.u64(nextNonce)
            out.replaceSubrange(0..<header, with: w.buffer)
            out[textStart] = 0  // flags: no MORE, reserved bits zero
            out.replaceSubrange((textStart + 1)..., with: linkFrame[Link.lengthPrefixBytes...])
            key.seal(&out, macStart: header, textStart: textStart, nonce: CurveZMQ.nonce(prefix, short: nextNonce))
            nextNonce += 1
            return out
        }
    }

    /// Opens the MESSAGE commands of one direction of an established connection, yielding
    /// plain link frames (length prefix included) for a `LinkDecoder`. A command that is not a
    /// MESSAGE, a nonce not above the last, a box that does not open or reserved flags throw:
    /// the connection is then unusable.
    public final class Opener: @unchecked Sendable {
        let key: Curve25519Box.SharedKey
        let prefix: [UInt8]
        private(set) var lastNonce: UInt64
        private var reader: CommandReader

        init(key: Curve25519Box.SharedKey, prefix: [UInt8], lastNonce: UInt64, reader: CommandReader) {
            self.key = key
            self.prefix = prefix
            self.lastNonce = lastNonce
            self.reader = reader
        }

        public var bufferedBytes: Int { reader.bufferedBytes }

        public func append(_ bytes: UnsafeRawBufferPointer) { reader.append(bytes) }

        public func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

        /// The next plain link frame, or nil when more bytes are needed.
        public func next() throws(LinkError) -> [UInt8]? {
            guard let command = try reader.next() else { return nil }
            let (nonce, box) = try Self.message(command)
            guard nonce > lastNonce else {
                throw LinkError(.crypto, "MESSAGE short nonce \(nonce) not above \(lastNonce) (replayed or reordered)")
            }
            // In place: the ciphertext lands after 3 spare octets, so that once opened its flags
            // octet is the last of the 4 that become the link frame's length prefix.
            let spare = Link.lengthPrefixBytes - 1
            var buffer = [UInt8](repeating: 0, count: spare)
            buffer.reserveCapacity(spare + box.count - Curve25519Box.macBytes)
            buffer.append(contentsOf: box.dropFirst(Curve25519Box.macBytes))
            let mac = box.prefix(Curve25519Box.macBytes)
            guard key.open(&buffer, textStart: spare, mac: mac, nonce: CurveZMQ.nonce(prefix, short: nonce)) else {
                throw LinkError(.crypto, "MESSAGE \(nonce) does not open (altered or forged)")
            }
            lastNonce = nonce
            guard buffer[spare] == 0 else {
                throw LinkError(.malformed, "MESSAGE flags \(buffer[spare]) (this link sends one frame, flags 0)")
            }
            let frameBytes = buffer.count - Link.lengthPrefixBytes
            guard frameBytes >= 1 else { throw LinkError(.malformed, "MESSAGE without a link frame") }
            for i in 0..<4 { buffer[i] = UInt8(truncatingIfNeeded: UInt32(frameBytes) >> UInt32(24 - 8 * i)) }
            return buffer
        }

        /// A MESSAGE's short nonce and box, read in place (the hot path); any other command throws.
        private static func message(_ command: ArraySlice<UInt8>) throws(LinkError) -> (UInt64, ArraySlice<UInt8>) {
            let name = CurveZMQ.messageName
            guard command.count >= CurveZMQ.messageBytesMin, command.prefix(name.count).elementsEqual(name) else {
                switch try CurveZMQ.Command.decode(command) {
                case .error(let reason):
                    throw LinkError(.crypto, "the peer sent ERROR \"\(reason)\" after the handshake")
                case .message: throw LinkError(.malformed, "a MESSAGE of \(command.count) octets")
                default: throw LinkError(.malformed, "a CurveZMQ handshake command after the handshake")
                }
            }
            let start = command.startIndex + name.count
            let nonce = command[start..<(start + 8)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return (nonce, command[(start + 8)...])
        }
    }

    /// An established connection: seal with `sealer` (one writer), open with `opener` (one reader).
    public struct Session: Sendable {
        public var sealer: Sealer
        public let opener: Opener
        /// The peer's permanent public key (Curve25519) and its metadata.
        public let peerKey: [UInt8]
        public let peerMetadata: Metadata
    }

    /// What the owner of a handshake MUST do after feeding it bytes.
    public enum Step: Sendable {
        /// Read more bytes.
        case wait
        /// Write these bytes, then read more.
        case send([UInt8])
        /// Write `send` (possibly empty) before anything sealed by the session; the handshake is
        /// complete. Bytes read past the handshake are already in `session.opener`: drain it.
        case established(send: [UInt8], session: Session)
        /// Write `send` (an ERROR command), then close the connection: the client is refused.
        case refuse(send: [UInt8], reason: LinkError)
    }
}
