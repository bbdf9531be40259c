import BizraCrypto

/// CurveZMQ (ZeroMQ RFC 26, https://rfc.zeromq.org/spec/26/) for encrypted links
/// (docs/PROTOCOL.md §9.10): the CurveCP handshake HELLO → WELCOME → INITIATE → READY, then
/// MESSAGE commands in both directions, each command carried as one length-prefixed record of
/// the link's own TCP framing (links are plain TCP, not ZMTP; RFC 26 allows any transport).
///
/// This file holds the command layouts; `CurveZMQClient` and `CurveZMQServer` are the sans-IO
/// state machines (bytes in, bytes out, randomness and time as parameters), and
/// `CurveZMQ.Sealer` / `CurveZMQ.Opener` the record layer once the handshake is done.
///
/// Where RFC 26 contradicts itself this implementation follows the grammar and libzmq: HELLO's
/// padding is 72 zero octets (the prose says 70; only 72 makes the 200 octets), and MESSAGE
/// nonces are prefixed "CurveZMQMESSAGEC" from the client and "CurveZMQMESSAGES" from the
/// server (the grammar's "CurveZMQMESSAGE-" predates the split). Deviations, all allowed by the
/// RFC's MAYs: the server always authenticates the client (its permanent key C must be the
/// keyring key of the node its metadata names). The cookie key is made per connection and
/// discarded after INITIATE, as the RFC asks and libzmq does.
public enum CurveZMQ {
    /// Long-nonce and short-nonce prefixes: the 24-byte nonce of each box is its prefix
    /// followed by the nonce carried in (or implied by) the command.
    public enum NoncePrefix {
        public static let hello = Array("CurveZMQHELLO---".utf8)
        public static let welcome = Array("WELCOME-".utf8)
        public static let cookie = Array("COOKIE--".utf8)
        public static let initiate = Array("CurveZMQINITIATE".utf8)
        public static let vouch = Array("VOUCH---".utf8)
        public static let ready = Array("CurveZMQREADY---".utf8)
        public static let clientMessage = Array("CurveZMQMESSAGEC".utf8)
        public static let serverMessage = Array("CurveZMQMESSAGES".utf8)
    }

    public static let helloBytes = 200
    public static let welcomeBytes = 168
    public static let initiateBytesMin = 257
    public static let readyBytesMin = 30
    public static let messageBytesMin = 33
    public static let errorBytesMin = 7
    static let helloPaddingBytes = 72
    static let cookieBytes = 96
    static let vouchBytes = 96
    static let longNonceBytes = 16
    /// The largest handshake command accepted (INITIATE and READY carry small metadata).
    public static let handshakeCommandBytesMax = 4096
    /// What a MESSAGE adds around its link frame: name (8), short nonce (8), MAC (16), flags (1).
    public static let messageOverheadBytes = 33

    /// The largest command on an established connection: a MESSAGE holding the largest link frame.
    public static func commandBytesMax(_ limits: Link.Limits) -> Int { limits.linkFrameBytesMax + messageOverheadBytes }

    /// Metadata property names this link sends in INITIATE (the dialer) and READY (the listener).
    public enum Property {
        /// The node id, UTF-8.
        public static let node = "Node"
        /// The link instance of the node, decimal ASCII (0…65535).
        public static let instance = "Instance"
    }

    /// One decoded command (the fields as on the wire; boxes still closed).
    public enum Command: Sendable, Equatable {
        case hello(clientTransient: [UInt8], nonce: UInt64, signatureBox: [UInt8])
        case welcome(nonce: [UInt8], box: [UInt8])
        case initiate(cookie: [UInt8], nonce: UInt64, box: [UInt8])
        case ready(nonce: UInt64, box: [UInt8])
        case message(nonce: UInt64, box: ArraySlice<UInt8>)
        case error(reason: String)
    }

    static let helloName = commandName("HELLO")
    static let welcomeName = commandName("WELCOME")
    static let initiateName = commandName("INITIATE")
    static let readyName = commandName("READY")
    static let messageName = commandName("MESSAGE")
    static let errorName = commandName("ERROR")

    /// A command name as on the wire: its length octet, then the name.
    static func commandName(_ name: String) -> [UInt8] { [UInt8(name.utf8.count)] + Array(name.utf8) }

    /// The 24-byte nonce of a short-nonce box.
    static func nonce(_ prefix: [UInt8], short: UInt64) -> [UInt8] {
        var n = prefix
        for shift in stride(from: 56, through: 0, by: -8) {
            n.append(UInt8(truncatingIfNeeded: short >> UInt64(shift)))
        }
        return n
    }

    /// True when `stream` (the first bytes of a connection, length prefix included) starts
    /// with a CurveZMQ HELLO: lets a plain listener say why it refuses an encrypted dialer.
    public static func startsWithHello(_ stream: ArraySlice<UInt8>) -> Bool {
        stream.count >= Link.lengthPrefixBytes + helloName.count
            && stream.dropFirst(Link.lengthPrefixBytes).prefix(helloName.count).elementsEqual(helloName)
    }
}

// MARK: encoding

extension CurveZMQ.Command {
    /// The command's bytes (without the link's length prefix).
    public func encoded() -> [UInt8] {
        var w = LinkWriter()
        switch self {
        case .hello(let transient, let nonce, let box):
            w.bytes(CurveZMQ.helloName)
            w.bytes([1, 0])
            w.bytes([UInt8](repeating: 0, count: CurveZMQ.helloPaddingBytes))
            w.bytes(transient)
            w.u64(nonce)
            w.bytes(box)
        case .welcome(let nonce, let box):
            w.bytes(CurveZMQ.welcomeName)
            w.bytes(nonce)
            w.bytes(box)
        case .initiate(let cookie, let nonce, let box):
            w.bytes(CurveZMQ.initiateName)
            w.bytes(cookie)
            w.u64(nonce)
            w.bytes(box)
        case .ready(let nonce, let box):
            w.bytes(CurveZMQ.readyName)
            w.u64(nonce)
            w.bytes(box)
        case .message(let nonce, let box):
            w.bytes(CurveZMQ.messageName)
            w.u64(nonce)
            w.bytes(box)
        case .error(let reason):
            let text = Array(reason.utf8.prefix(255))
            w.bytes(CurveZMQ.errorName)
            w.u8(UInt8(text.count))
            w.bytes(text)
        }
        return w.buffer
    }

    /// The command as a link record: `length:u32` then the command.
    public func record() -> [UInt8] {
        let body = encoded()
        var w = LinkWriter(capacity: Link.lengthPrefixBytes + body.count)
        w.u32(UInt32(body.count))
        w.bytes(body)
        return w.buffer
    }
}

// MARK: decoding

extension CurveZMQ.Command {
    /// Decodes one command, validating every fixed field and size; throws `.malformed` or
    /// `.tooLarge` for anything else. Never traps.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(LinkError) -> CurveZMQ.Command {
        let bytes = Array(bytes)
        func has(_ name: [UInt8]) -> Bool { bytes.starts(with: name) }
        var r = LinkReader(bytes)
        if has(CurveZMQ.messageName) {
            try expect(bytes.count >= CurveZMQ.messageBytesMin, "MESSAGE of \(bytes.count) octets (at least 33)")
            _ = try r.take(CurveZMQ.messageName.count)
            return .message(nonce: try r.u64(), box: r.rest())
        }
        if has(CurveZMQ.helloName) {
            try expect(bytes.count == CurveZMQ.helloBytes, "HELLO of \(bytes.count) octets (exactly 200)")
            _ = try r.take(CurveZMQ.helloName.count)
            let version = Array(try r.take(2))
            guard version == [1, 0] else {
                throw LinkError(.version, "CurveZMQ version \(version) (this side speaks 1.0)")
            }
            try expect(try r.take(CurveZMQ.helloPaddingBytes).allSatisfy { $0 == 0 }, "HELLO padding is not zero")
            let transient = Array(try r.take(32))
            return .hello(clientTransient: transient, nonce: try r.u64(), signatureBox: Array(r.rest()))
        }
        if has(CurveZMQ.welcomeName) {
            try expect(bytes.count == CurveZMQ.welcomeBytes, "WELCOME of \(bytes.count) octets (exactly 168)")
            _ = try r.take(CurveZMQ.welcomeName.count)
            return .welcome(nonce: Array(try r.take(CurveZMQ.longNonceBytes)), box: Array(r.rest()))
        }
        if has(CurveZMQ.initiateName) {
            try expect(bytes.count >= CurveZMQ.initiateBytesMin, "INITIATE of \(bytes.count) octets (at least 257)")
            _ = try r.take(CurveZMQ.initiateName.count)
            let cookie = Array(try r.take(CurveZMQ.cookieBytes))
            return .initiate(cookie: cookie, nonce: try r.u64(), box: Array(r.rest()))
        }
        if has(CurveZMQ.readyName) {
            try expect(bytes.count >= CurveZMQ.readyBytesMin, "READY of \(bytes.count) octets (at least 30)")
            _ = try r.take(CurveZMQ.readyName.count)
            return .ready(nonce: try r.u64(), box: Array(r.rest()))
        }
        if has(CurveZMQ.errorName) {
            try expect(bytes.count >= CurveZMQ.errorBytesMin, "ERROR of \(bytes.count) octets (at least 7)")
            _ = try r.take(CurveZMQ.errorName.count)
            let text = try r.take(Int(try r.u8()))
            try expect(r.remaining == 0, "\(r.remaining) trailing octets after an ERROR reason")
            try expect(text.allSatisfy { (0x20...0x7E).contains($0) }, "ERROR reason is not printable ASCII")
            return .error(reason: String(decoding: text, as: UTF8.self))
        }
        throw LinkError(.malformed, "not a CurveZMQ command (first octets \(bytes.prefix(9)))")
    }

    private static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws(LinkError) {
        guard condition else { throw LinkError(.malformed, message()) }
    }
}

// MARK: metadata

extension CurveZMQ {
    /// Connection metadata (INITIATE and READY): properties in order, names matched without
    /// regard to case. `name-length:u8 name value-length:u32 value` each.
    public struct Metadata: Sendable, Equatable {
        public private(set) var properties: [(name: String, value: [UInt8])]

        public init(_ properties: [(name: String, value: [UInt8])] = []) {
            for p in properties { precondition(Self.validName(Array(p.name.utf8)), "bad property name \(p.name)") }
            self.properties = properties
        }

        /// The first property named `name` (any case).
        public subscript(name: String) -> [UInt8]? {
            properties.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        public func string(_ name: String) -> String? {
            self[name].flatMap { String(validating: $0, as: UTF8.self) }
        }

        public static func == (a: Metadata, b: Metadata) -> Bool {
            a.properties.count == b.properties.count
                && zip(a.properties, b.properties).allSatisfy { $0.name == $1.name && $0.value == $1.value }
        }

        static func validName(_ name: [UInt8]) -> Bool {
            (1...255).contains(name.count)
                && name.allSatisfy { c in
                    (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c)
                        || [0x2D, 0x5F, 0x2E, 0x2B].contains(c)
                }
        }

        public func encoded() -> [UInt8] {
            var w = LinkWriter()
            for p in properties {
                w.u8(UInt8(p.name.utf8.count))
                w.bytes(p.name.utf8)
                w.u32(UInt32(p.value.count))
                w.bytes(p.value)
            }
            return w.buffer
        }

        /// Decodes metadata that must fill `bytes` exactly; a repeated name is malformed.
        public static func decode(_ bytes: ArraySlice<UInt8>) throws(LinkError) -> Metadata {
            var r = LinkReader(Array(bytes))
            var properties: [(name: String, value: [UInt8])] = []
            while r.remaining > 0 {
                let name = Array(try r.take(Int(try r.u8())))
                guard validName(name) else { throw LinkError(.malformed, "a metadata property name is invalid") }
                let text = String(decoding: name, as: UTF8.self)
                guard !properties.contains(where: { $0.name.lowercased() == text.lowercased() }) else {
                    throw LinkError(.malformed, "metadata property \(text) appears twice")
                }
                let size = Int(try r.u32())
                properties.append((text, Array(try r.take(size))))
            }
            return Metadata(properties)
        }
    }

    /// The metadata a link endpoint sends: its node and link instance.
    public static func identity(node: String, instance: UInt16) -> Metadata {
        Metadata([(Property.node, Array(node.utf8)), (Property.instance, Array(String(instance).utf8))])
    }

    /// The node and instance a peer's metadata claims, or nil when either is missing or invalid.
    public static func claimedIdentity(_ metadata: Metadata) -> Link.Hello? {
        guard let node = metadata.string(Property.node), !node.isEmpty, node.utf8.count <= 255,
            let text = metadata.string(Property.instance), (1...5).contains(text.count),
            text.allSatisfy({ $0.isASCII && $0.isNumber }), let instance = UInt16(text)
        else { return nil }
        return Link.Hello(node: node, instance: instance)
    }
}

// MARK: randomness

extension CurveZMQ {
    /// `count` bytes from `random` (libsodium's CSPRNG in production, a seeded generator in tests).
    static func randomBytes(_ count: Int, using random: inout some RandomNumberGenerator) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count + 8)
        while out.count < count {
            let v = random.next()
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) }
        }
        out.removeLast(out.count - count)
        return out
    }

    /// A fresh transient key pair from `random`.
    static func transientKeyPair(using random: inout some RandomNumberGenerator) -> Curve25519Box.KeyPair {
        var seed = randomBytes(Curve25519Box.keyBytes, using: &random)
        defer { Curve25519Box.wipe(&seed) }
        return Curve25519Box.KeyPair(seed: seed)
    }
}
