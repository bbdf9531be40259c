import BizraCrypto

/// The server (listening) side of a CurveZMQ handshake (RFC 26), sans IO. The transient secret
/// s' travels in the cookie, sealed with a cookie key K made for this connection at HELLO and
/// wiped once INITIATE is handled (as libzmq does): a cookie opens only on the connection that
/// asked for it, so a recorded connection replayed on a new one fails at INITIATE. Before
/// INITIATE the state is the phase, C', HELLO's nonce and K.
///
/// The server authenticates every client: INITIATE's vouch must bind C' and S to the client's
/// permanent key C, and `authorize` must name C as the key of the identity the metadata claims.
/// A client that fails gets ERROR, then the connection closes; anything malformed or not opening
/// closes it without an answer. Short nonces: READY 1, MESSAGEs from 2.
public struct CurveZMQServer: Sendable {
    private enum Phase: Sendable {
        case awaitingHello
        case awaitingInitiate(clientTransient: [UInt8], helloNonce: UInt64, cookieKey: SecretBytes)
        case done
    }

    private let permanent: Curve25519Box.KeyPair
    private let metadata: CurveZMQ.Metadata
    private let limits: Link.Limits
    private var phase = Phase.awaitingHello
    private var reader = CurveZMQ.CommandReader(bytesMax: CurveZMQ.handshakeCommandBytesMax)

    /// - Parameters:
    ///   - permanent: the server's permanent key pair S (the node's link key, converted).
    ///   - metadata: sent in READY (this link: `CurveZMQ.identity(node:instance:)`).
    public init(permanent: Curve25519Box.KeyPair, metadata: CurveZMQ.Metadata, limits: Link.Limits) {
        self.permanent = permanent
        self.metadata = metadata
        self.limits = limits
    }

    /// Feeds bytes read from the connection.
    /// - Parameters:
    ///   - authorize: the permanent public key C a client claiming this metadata must hold, or
    ///     nil when the claim names no known client.
    /// - Throws: for bytes that are malformed or do not open: close without an answer.
    public mutating func receive(
        _ bytes: [UInt8], random: inout some RandomNumberGenerator,
        authorize: (CurveZMQ.Metadata) -> [UInt8]?
    ) throws(LinkError) -> CurveZMQ.Step {
        bytes.withUnsafeBytes { reader.append($0) }
        if case .awaitingHello = phase, reader.firstOctetIs(Link.FrameType.hello.rawValue) {
            throw LinkError(.crypto, "a plain link HELLO: the dialer does not encrypt, this link does")
        }
        var send: [UInt8] = []
        while case .awaitingHello = phase, let command = try reader.next() {
            send += try hello(CurveZMQ.Command.decode(command), random: &random)
        }
        guard case .awaitingInitiate(let clientTransient, let helloNonce, let cookieKey) = phase,
            let command = try reader.next()
        else { return send.isEmpty ? .wait : .send(send) }
        // The cookie key serves one INITIATE: whatever happens next, it is gone.
        phase = .done
        return try initiate(
            CurveZMQ.Command.decode(command), clientTransient: clientTransient, helloNonce: helloNonce,
            cookieKey: cookieKey, authorize: authorize, alreadySending: send)
    }

    /// HELLO → WELCOME: a fresh transient key pair, forgotten at once except inside the cookie.
    private mutating func hello(
        _ command: CurveZMQ.Command, random: inout some RandomNumberGenerator
    ) throws(LinkError) -> [UInt8] {
        guard case .hello(let clientTransient, let nonce, let signatureBox) = command else {
            throw LinkError(.malformed, "the first command is not HELLO")
        }
        guard
            let signature = Curve25519Box.open(
                signatureBox, nonce: CurveZMQ.nonce(CurveZMQ.NoncePrefix.hello, short: nonce), from: clientTransient,
                to: permanent.secretKey), signature.allSatisfy({ $0 == 0 })
        else { throw LinkError(.crypto, "HELLO signature box does not open: the dialer expects another server key") }
        var seed = CurveZMQ.randomBytes(Curve25519Box.keyBytes, using: &random)
        let cookieKey = SecretBytes(copying: seed)
        Curve25519Box.wipe(&seed)
        let transient = CurveZMQ.transientKeyPair(using: &random)
        let cookieNonce = CurveZMQ.randomBytes(CurveZMQ.longNonceBytes, using: &random)
        var secret = transient.secretKey.withUnsafeBytes { Array(UnsafeBufferPointer(start: $0, count: 32)) }
        var cookieText = clientTransient + secret
        let cookie =
            cookieNonce
            + Curve25519Box.secretSeal(
                cookieText, nonce: CurveZMQ.NoncePrefix.cookie + cookieNonce, key: cookieKey)
        Curve25519Box.wipe(&secret)
        Curve25519Box.wipe(&cookieText)
        var welcomeText = transient.publicKey + cookie
        let welcomeNonce = CurveZMQ.randomBytes(CurveZMQ.longNonceBytes, using: &random)
        let box = Curve25519Box.seal(
            welcomeText, nonce: CurveZMQ.NoncePrefix.welcome + welcomeNonce, to: clientTransient,
            from: permanent.secretKey)
        Curve25519Box.wipe(&welcomeText)
        phase = .awaitingInitiate(clientTransient: clientTransient, helloNonce: nonce, cookieKey: cookieKey)
        return CurveZMQ.Command.welcome(nonce: welcomeNonce, box: box).record()
    }

    /// INITIATE → READY (or ERROR).
    private mutating func initiate(
        _ command: CurveZMQ.Command, clientTransient: [UInt8], helloNonce: UInt64, cookieKey: SecretBytes,
        authorize: (CurveZMQ.Metadata) -> [UInt8]?, alreadySending: [UInt8]
    ) throws(LinkError) -> CurveZMQ.Step {
        guard case .initiate(let cookie, let nonce, let box) = command else {
            throw LinkError(.malformed, "expected INITIATE")
        }
        guard nonce > helloNonce else { throw LinkError(.crypto, "INITIATE short nonce \(nonce) not above HELLO's") }
        let serverTransient = try openCookie(cookie, clientTransient: clientTransient, cookieKey: cookieKey)
        guard
            let text = Curve25519Box.open(
                box, nonce: CurveZMQ.nonce(CurveZMQ.NoncePrefix.initiate, short: nonce), from: clientTransient,
                to: serverTransient.secretKey)
        else { throw LinkError(.crypto, "INITIATE box does not open") }
        let clientKey = Array(text[..<32])
        let vouchNonce = Array(text[32..<48])
        guard
            let vouch = Curve25519Box.open(
                text[48..<128], nonce: CurveZMQ.NoncePrefix.vouch + vouchNonce, from: clientKey,
                to: serverTransient.secretKey), vouch == clientTransient + permanent.publicKey
        else { throw LinkError(.crypto, "INITIATE vouch does not open or does not bind C' and S") }
        let claimed = try CurveZMQ.Metadata.decode(text[128...])
        guard let expected = authorize(claimed), expected == clientKey else {
            let who = claimed.string(CurveZMQ.Property.node) ?? "?"
            return .refuse(
                send: alreadySending + CurveZMQ.Command.error(reason: "client key not authorized").record(),
                reason: LinkError(.crypto, "client claiming node \(who) does not hold that node's link key"))
        }
        guard let key = Curve25519Box.SharedKey(peer: clientTransient, own: serverTransient.secretKey) else {
            throw LinkError(.crypto, "unusable client transient key")
        }
        let readyNonce: UInt64 = 1
        var readyBox = [UInt8](repeating: 0, count: Curve25519Box.macBytes) + metadata.encoded()
        key.seal(
            &readyBox, macStart: 0, textStart: Curve25519Box.macBytes,
            nonce: CurveZMQ.nonce(CurveZMQ.NoncePrefix.ready, short: readyNonce))
        phase = .done
        reader.bytesMax = CurveZMQ.commandBytesMax(limits)
        let session = CurveZMQ.Session(
            sealer: CurveZMQ.Sealer(key: key, prefix: CurveZMQ.NoncePrefix.serverMessage, nextNonce: readyNonce + 1),
            opener: CurveZMQ.Opener(
                key: key, prefix: CurveZMQ.NoncePrefix.clientMessage, lastNonce: nonce, reader: reader),
            peerKey: clientKey, peerMetadata: claimed)
        return .established(
            send: alreadySending + CurveZMQ.Command.ready(nonce: readyNonce, box: readyBox).record(), session: session)
    }

    /// The server's transient key pair from a cookie sealed with this connection's cookie key;
    /// its C' must be HELLO's.
    private func openCookie(_ cookie: [UInt8], clientTransient: [UInt8], cookieKey: SecretBytes)
        throws(LinkError) -> Curve25519Box.KeyPair
    {
        let nonce = CurveZMQ.NoncePrefix.cookie + cookie[..<CurveZMQ.longNonceBytes]
        let sealed = cookie[CurveZMQ.longNonceBytes...]
        guard var text = Curve25519Box.secretOpen(sealed, nonce: nonce, key: cookieKey) else {
            throw LinkError(.crypto, "the cookie does not open (not this connection's, or forged)")
        }
        defer { Curve25519Box.wipe(&text) }
        guard text[..<32].elementsEqual(clientTransient) else {
            throw LinkError(.crypto, "the cookie belongs to another connection")
        }
        let secret = SecretBytes(copying: text[32...])
        guard let pair = Curve25519Box.KeyPair(secret: secret) else {
            throw LinkError(.crypto, "the cookie holds an unusable key")
        }
        return pair
    }
}
