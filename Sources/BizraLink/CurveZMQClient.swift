import BizraCrypto

/// The client (dialing) side of a CurveZMQ handshake (RFC 26), sans IO: `hello(random:)` gives
/// the first command to write, `receive(_:random:)` takes the bytes read from the connection and
/// says what to do next (`CurveZMQ.Step`). Short nonces: HELLO 1, INITIATE 2, MESSAGEs from 3.
///
/// The client knows the server's permanent key S beforehand (the keyring) and so authenticates
/// the server by WELCOME opening at all; it vouches for its own permanent key C in INITIATE.
public struct CurveZMQClient: Sendable {
    private enum Phase: Sendable {
        case start
        case awaitingWelcome(transient: Curve25519Box.KeyPair)
        case awaitingReady(key: Curve25519Box.SharedKey)
        case done
    }

    private let permanent: Curve25519Box.KeyPair
    private let serverKey: [UInt8]
    private let metadata: CurveZMQ.Metadata
    private let limits: Link.Limits
    private var phase = Phase.start
    private var reader = CurveZMQ.CommandReader(bytesMax: CurveZMQ.handshakeCommandBytesMax)
    private var nextNonce: UInt64 = 1

    /// - Parameters:
    ///   - permanent: this client's permanent key pair C (the node's link key, converted).
    ///   - serverKey: the server's permanent public key S.
    ///   - metadata: sent in INITIATE (this link: `CurveZMQ.identity(node:instance:)`).
    public init(permanent: Curve25519Box.KeyPair, serverKey: [UInt8], metadata: CurveZMQ.Metadata, limits: Link.Limits)
    {
        precondition(serverKey.count == Curve25519Box.keyBytes, "a server key has 32 bytes")
        self.permanent = permanent
        self.serverKey = serverKey
        self.metadata = metadata
        self.limits = limits
    }

    /// HELLO as a link record: C', the short nonce, and Box [64 zeros](C' → S). Call once, first.
    public mutating func hello(random: inout some RandomNumberGenerator) -> [UInt8] {
        guard case .start = phase else { preconditionFailure("hello() called twice") }
        let transient = CurveZMQ.transientKeyPair(using: &random)
        let nonce = takeNonce()
        let box = Curve25519Box.seal(
            [UInt8](repeating: 0, count: 64), nonce: CurveZMQ.nonce(CurveZMQ.NoncePrefix.hello, short: nonce),
            to: serverKey, from: transient.secretKey)
        phase = .awaitingWelcome(transient: transient)
        return CurveZMQ.Command.hello(clientTransient: transient.publicKey, nonce: nonce, signatureBox: box).record()
    }

    /// Feeds bytes read from the connection. Throws when the server's commands are malformed,
    /// do not open, or refuse this client (ERROR): close the connection.
    public mutating func receive(_ bytes: [UInt8], random: inout some RandomNumberGenerator) throws(LinkError)
        -> CurveZMQ.Step
    {
        bytes.withUnsafeBytes { reader.append($0) }
        var send: [UInt8] = []
        while case .awaitingWelcome = phase, let command = try reader.next() {
            send += try welcome(CurveZMQ.Command.decode(command), random: &random)
        }
        guard case .awaitingReady(let key) = phase, let command = try reader.next() else {
            return send.isEmpty ? .wait : .send(send)
        }
        let session = try ready(CurveZMQ.Command.decode(command), key: key)
        return .established(send: send, session: session)
    }

    private mutating func takeNonce() -> UInt64 {
        defer { nextNonce += 1 }
        return nextNonce
    }

    /// WELCOME → INITIATE.
    private mutating func welcome(_ command: CurveZMQ.Command, random: inout some RandomNumberGenerator)
        throws(LinkError) -> [UInt8]
    {
        guard case .awaitingWelcome(let transient) = phase else { throw LinkError(.malformed, "unexpected WELCOME") }
        let (longNonce, box): ([UInt8], [UInt8])
        switch command {
        case .welcome(let n, let b): (longNonce, box) = (n, b)
        case .error(let reason): throw LinkError(.crypto, "the server refused the HELLO: \(reason)")
        default: throw LinkError(.malformed, "expected WELCOME")
        }
        guard
            var opened = Curve25519Box.open(
                box, nonce: CurveZMQ.NoncePrefix.welcome + longNonce, from: serverKey, to: transient.secretKey)
        else { throw LinkError(.crypto, "WELCOME does not open: the server does not hold the expected key") }
        defer { Curve25519Box.wipe(&opened) }
        let serverTransient = Array(opened[..<32])
        let cookie = Array(opened[32...])
        guard let key = Curve25519Box.SharedKey(peer: serverTransient, own: transient.secretKey) else {
            throw LinkError(.crypto, "WELCOME carries an unusable transient key")
        }
        let vouchNonce = CurveZMQ.randomBytes(CurveZMQ.longNonceBytes, using: &random)
        let vouchBox = Curve25519Box.seal(
            transient.publicKey + serverKey, nonce: CurveZMQ.NoncePrefix.vouch + vouchNonce, to: serverTransient,
            from: permanent.secretKey)
        let nonce = takeNonce()
        let initiateBox = Curve25519Box.seal(
            permanent.publicKey + vouchNonce + vouchBox + metadata.encoded(),
            nonce: CurveZMQ.nonce(CurveZMQ.NoncePrefix.initiate, short: nonce), to: serverTransient,
            from: transient.secretKey)
        phase = .awaitingReady(key: key)
        return CurveZMQ.Command.initiate(cookie: cookie, nonce: nonce, box: initiateBox).record()
    }

    /// READY → established.
    private mutating func ready(_ command: CurveZMQ.Command, key: Curve25519Box.SharedKey) throws(LinkError)
        -> CurveZMQ.Session
    {
        let (nonce, box): (UInt64, [UInt8])
        switch command {
        case .ready(let n, let b): (nonce, box) = (n, b)
        case .error(let reason): throw LinkError(.crypto, "the server refused this client: \(reason)")
        default: throw LinkError(.malformed, "expected READY")
        }
        var text = box.dropFirst(Curve25519Box.macBytes).map { $0 }
        guard
            key.open(
                &text, textStart: 0, mac: box.prefix(Curve25519Box.macBytes),
                nonce: CurveZMQ.nonce(CurveZMQ.NoncePrefix.ready, short: nonce))
        else { throw LinkError(.crypto, "READY does not open") }
        let peerMetadata = try CurveZMQ.Metadata.decode(text[...])
        phase = .done
        reader.bytesMax = CurveZMQ.commandBytesMax(limits)
        return CurveZMQ.Session(
            sealer: CurveZMQ.Sealer(key: key, prefix: CurveZMQ.NoncePrefix.clientMessage, nextNonce: nextNonce),
            opener: CurveZMQ.Opener(
                key: key, prefix: CurveZMQ.NoncePrefix.serverMessage, lastNonce: nonce, reader: reader),
            peerKey: serverKey, peerMetadata: peerMetadata)
    }
}
