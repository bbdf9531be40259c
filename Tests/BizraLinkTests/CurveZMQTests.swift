import BizraCrypto
import CSodium
import Testing

@testable import BizraLink

/// Two link endpoints' permanent keys (Ed25519 link keys converted, as in production), a
/// keyring that knows the dialer, and helpers that run the handshake in memory.
struct CurvePair {
    let serverKeys: Curve25519Box.KeyPair
    let clientKeys: Curve25519Box.KeyPair
    var rng: SeededRNG
    var client: CurveZMQClient
    var server: CurveZMQServer
    /// The keyring as the server sees it: node → permanent Curve25519 key.
    var keyring: [String: [UInt8]]

    init(seed: UInt64 = 1, serverKeyForClient: [UInt8]? = nil, limits: Link.Limits = .defaults) {
        serverKeys = Self.linkKey(1)
        clientKeys = Self.linkKey(2)
        rng = SeededRNG(seed: seed)
        client = CurveZMQClient(
            permanent: clientKeys, serverKey: serverKeyForClient ?? serverKeys.publicKey,
            metadata: CurveZMQ.identity(node: "n1", instance: 3), limits: limits)
        server = CurveZMQServer(
            permanent: serverKeys, metadata: CurveZMQ.identity(node: "n2", instance: 0), limits: limits)
        keyring = ["n1": clientKeys.publicKey]
    }

    static func linkKey(_ byte: UInt8) -> Curve25519Box.KeyPair {
        let ed = try! Ed25519.KeyPair(seed: [UInt8](repeating: byte, count: 32))
        return try! Curve25519Box.KeyPair(ed25519: ed)
    }

    func authorize(_ metadata: CurveZMQ.Metadata) -> [UInt8]? {
        CurveZMQ.claimedIdentity(metadata).flatMap { keyring[$0.node] }
    }

    mutating func toServer(_ bytes: [UInt8]) throws(LinkError) -> CurveZMQ.Step {
        let keyring = keyring
        return try server.receive(bytes, random: &rng) { metadata in
            CurveZMQ.claimedIdentity(metadata).flatMap { keyring[$0.node] }
        }
    }

    mutating func toClient(_ bytes: [UInt8]) throws(LinkError) -> CurveZMQ.Step {
        try client.receive(bytes, random: &rng)
    }

    mutating func hello() -> [UInt8] { client.hello(random: &rng) }

    /// HELLO → WELCOME → INITIATE: the INITIATE record, not yet given to the server.
    mutating func initiate() throws -> [UInt8] {
        let welcome = try #require(Self.sent(try toServer(hello())))
        return try #require(Self.sent(try toClient(welcome)))
    }

    /// The whole handshake: (client session, server session).
    mutating func establish() throws -> (client: CurveZMQ.Session, server: CurveZMQ.Session) {
        guard case .established(let ready, let serverSession) = try toServer(try initiate()) else {
            throw LinkError(.malformed, "the server did not establish")
        }
        guard case .established(let nothing, let clientSession) = try toClient(ready) else {
            throw LinkError(.malformed, "the client did not establish")
        }
        #expect(nothing.isEmpty)
        return (clientSession, serverSession)
    }

    static func sent(_ step: CurveZMQ.Step) -> [UInt8]? {
        if case .send(let bytes) = step { return bytes }
        return nil
    }
}

/// Decodes the plain link frames an opener yields from `records`.
func openAll(_ opener: CurveZMQ.Opener, _ records: [UInt8]) throws -> [Link.Message] {
    opener.append(records)
    let decoder = LinkDecoder()
    while let plain = try opener.next() { decoder.append(plain) }
    var out: [Link.Message] = []
    while let (message, _) = try decoder.next() { out.append(message) }
    return out
}

func expectRefusal(_ code: LinkError.Code, _ body: () throws -> Void) {
    #expect {
        try body()
    } throws: { error in
        (error as? LinkError)?.code == code
    }
}

@Suite struct CurveZMQHandshakeTests {
    @Test func aFullHandshakeCarriesLinkFramesBothWays() throws {
        var pair = CurvePair()
        var (client, server) = try pair.establish()
        #expect(client.peerKey == pair.serverKeys.publicKey)
        #expect(server.peerKey == pair.clientKeys.publicKey)
        #expect(CurveZMQ.claimedIdentity(server.peerMetadata) == Link.Hello(node: "n1", instance: 3))
        #expect(CurveZMQ.claimedIdentity(client.peerMetadata) == Link.Hello(node: "n2", instance: 0))

        let frames: [[UInt8]] = [[1, 2, 3], Array(repeating: 7, count: 5000)]
        let batch = LinkEncoder().batch(frames, codec: .none).bytes
        let up = client.sealer.seal(LinkEncoder.ping(token: 42)) + client.sealer.seal(batch)
        #expect(!up.windowsContain(batch.dropFirst(5)), "the batch travels in the clear")
        #expect(try openAll(server.opener, up) == [.ping(token: 42), .batch(frames: frames, codec: .none)])

        let down = server.sealer.seal(LinkEncoder.pong(token: 42)) + server.sealer.seal(LinkEncoder.ack(batches: 1))
        #expect(try openAll(client.opener, down) == [.pong(token: 42), .ack(batches: 1)])
        // Each record is one MESSAGE: length, [7]"MESSAGE", short nonce (client: HELLO 1, INITIATE 2, then 3).
        #expect(Array(up[4..<12]) == CurveZMQ.commandName("MESSAGE"))
        #expect(Array(up[12..<20]) == [0, 0, 0, 0, 0, 0, 0, 3])
        #expect(Array(down[12..<20]) == [0, 0, 0, 0, 0, 0, 0, 2], "the server's READY took nonce 1")
    }

    @Test func helloIsTwoHundredOctetsAndItsSignatureBoxOpensWithPlainLibsodium() throws {
        var pair = CurvePair()
        let record = pair.hello()
        #expect(record.count == 4 + 200)
        #expect(Array(record[0..<4]) == [0, 0, 0, 200])
        #expect(Array(record[4..<10]) == [5] + Array("HELLO".utf8))
        #expect(Array(record[10..<12]) == [1, 0])
        #expect(record[12..<84].allSatisfy { $0 == 0 }, "72 octets of anti-amplification padding")
        let transient = Array(record[84..<116])
        let shortNonce = Array(record[116..<124])
        #expect(shortNonce == [0, 0, 0, 0, 0, 0, 0, 1])
        let box = Array(record[124..<204])
        #expect(box.count == 80)

        func open(prefix: String) -> [UInt8]? {
            var plain = [UInt8](repeating: 0xFF, count: 64)
            let nonce = Array(prefix.utf8) + shortNonce
            let rc = pair.serverKeys.secretKey.withUnsafeBytes { s in
                crypto_box_open_easy(&plain, box, UInt64(box.count), nonce, transient, s)
            }
            return rc == 0 ? plain : nil
        }
        #expect(open(prefix: "CurveZMQHELLO---") == [UInt8](repeating: 0, count: 64))
        #expect(open(prefix: "CurveZMQHELLO--+") == nil, "the nonce prefix is part of the layout")
    }

    @Test func welcomeIsOneHundredSixtyEightOctetsAndOpensWithPlainLibsodium() throws {
        var pair = CurvePair()
        var replay = pair.rng  // the client draws its transient seed first
        let seed = CurveZMQ.randomBytes(32, using: &replay)
        let welcome = try #require(CurvePair.sent(try pair.toServer(pair.hello())))
        #expect(welcome.count == 4 + 168)
        #expect(Array(welcome[0..<4]) == [0, 0, 0, 168])
        #expect(Array(welcome[4..<12]) == [7] + Array("WELCOME".utf8))
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = [UInt8](repeating: 0, count: 32)
        #expect(crypto_box_seed_keypair(&pk, &sk, seed) == 0)
        let nonce = Array("WELCOME-".utf8) + Array(welcome[12..<28])
        let box = Array(welcome[28...])
        var plain = [UInt8](repeating: 0, count: 128)
        #expect(crypto_box_open_easy(&plain, box, UInt64(box.count), nonce, pair.serverKeys.publicKey, sk) == 0)
        // S' then the cookie: "COOKIE--"-nonced secret box of 80 octets behind a 16-octet nonce.
        #expect(plain[..<32].contains { $0 != 0 })
        #expect(plain.count - 32 == 96)
    }

    @Test func initiateAndReadyHaveTheirMinimumLayouts() throws {
        var pair = CurvePair()
        let initiate = try pair.initiate()
        let length = Int(initiate[0]) << 24 | Int(initiate[1]) << 16 | Int(initiate[2]) << 8 | Int(initiate[3])
        #expect(length == initiate.count - 4 && length >= 257)
        #expect(Array(initiate[4..<13]) == [8] + Array("INITIATE".utf8))
        #expect(Array(initiate[109..<117]) == [0, 0, 0, 0, 0, 0, 0, 2], "short nonce after the 96-octet cookie")
        guard case .established(let ready, _) = try pair.toServer(initiate) else {
            Issue.record("no READY")
            return
        }
        #expect(Array(ready[4..<10]) == [5] + Array("READY".utf8))
        #expect(Array(ready[10..<18]) == [0, 0, 0, 0, 0, 0, 0, 1])
        #expect(ready.count - 4 >= 30)
    }

    @Test func aClientWithTheWrongServerKeyIsRefusedAtHello() throws {
        var pair = CurvePair(serverKeyForClient: CurvePair.linkKey(9).publicKey)
        let hello = pair.hello()
        expectRefusal(.crypto) { _ = try pair.toServer(hello) }
    }

    @Test func aClientRefusesAWelcomeFromAServerWithAnotherKey() throws {
        // Same seed, same transient key C': the impostor (key 9) answers a client that expects
        // key 9, and its WELCOME is shown to the client that expects key 1.
        var honest = CurvePair(seed: 4)
        var fooled = CurvePair(seed: 4, serverKeyForClient: CurvePair.linkKey(9).publicKey)
        fooled.server = CurveZMQServer(
            permanent: CurvePair.linkKey(9), metadata: CurveZMQ.identity(node: "n2", instance: 0), limits: .defaults)
        let fooledHello = fooled.hello()
        let forged = try #require(CurvePair.sent(try fooled.toServer(fooledHello)))
        #expect(Array(honest.hello()[84..<116]) == Array(fooledHello[84..<116]), "same C'")
        expectRefusal(.crypto) { _ = try honest.toClient(forged) }
    }

    @Test func aClientKeyNotInTheKeyringGetsErrorAndTheClientStops() throws {
        var pair = CurvePair()
        pair.keyring = [:]
        guard case .refuse(let error, let reason) = try pair.toServer(try pair.initiate()) else {
            Issue.record("not refused")
            return
        }
        #expect(reason.code == .crypto)
        #expect(Array(error[4..<10]) == [5] + Array("ERROR".utf8))
        #expect(try CurveZMQ.Command.decode(error[4...]) == .error(reason: "client key not authorized"))
        expectRefusal(.crypto) { _ = try pair.toClient(error) }
    }

    @Test func aClientKeyThatIsNotTheClaimedNodesKeyIsRefused() throws {
        var pair = CurvePair()
        pair.keyring = ["n1": CurvePair.linkKey(7).publicKey, "n9": pair.clientKeys.publicKey]
        guard case .refuse = try pair.toServer(try pair.initiate()) else {
            Issue.record("a client holding n9's key was accepted as n1")
            return
        }
    }

    @Test func metadataWithoutAnIdentityIsRefused() throws {
        var pair = CurvePair()
        pair.client = CurveZMQClient(
            permanent: pair.clientKeys, serverKey: pair.serverKeys.publicKey,
            metadata: CurveZMQ.Metadata([("Node", Array("n1".utf8))]), limits: .defaults)
        guard case .refuse = try pair.toServer(try pair.initiate()) else {
            Issue.record("INITIATE without Instance was accepted")
            return
        }
    }

    @Test(arguments: [20, 120, 150, 250]) func aTamperedInitiateIsRefused(offset: Int) throws {
        var pair = CurvePair()
        var initiate = try pair.initiate()
        initiate[offset] ^= 0x01
        expectRefusal(.crypto) { _ = try pair.toServer(initiate) }
    }

    @Test func aTamperedWelcomeIsRefused() throws {
        var pair = CurvePair()
        var welcome = try #require(CurvePair.sent(try pair.toServer(pair.hello())))
        welcome[100] ^= 0x80
        expectRefusal(.crypto) { _ = try pair.toClient(welcome) }
    }

    /// A recorded connection replayed on a new one (same server keys, its HELLO then its
    /// INITIATE): the new connection's cookie key does not open the recorded cookie.
    @Test func aReplayedConnectionIsRefusedAtInitiate() throws {
        var recorded = CurvePair(seed: 1)
        let hello = recorded.hello()
        let welcome = try #require(CurvePair.sent(try recorded.toServer(hello)))
        let initiate = try #require(CurvePair.sent(try recorded.toClient(welcome)))
        guard case .established = try recorded.toServer(initiate) else {
            Issue.record("the original connection did not establish")
            return
        }
        var replay = CurvePair(seed: 2)
        _ = try #require(CurvePair.sent(try replay.toServer(hello)))
        expectRefusal(.crypto) { _ = try replay.toServer(initiate) }
    }

    /// The cookie key serves one INITIATE: after a tampered one is refused, the genuine one no
    /// longer establishes on that connection (the key is gone).
    @Test func aCookieKeyServesOneInitiate() throws {
        var pair = CurvePair()
        let initiate = try pair.initiate()
        var tampered = initiate
        tampered[tampered.count - 1] ^= 1
        expectRefusal(.crypto) { _ = try pair.toServer(tampered) }
        let step = try pair.toServer(initiate)
        if case .established = step { Issue.record("a second INITIATE established after the first was refused") }
    }

    @Test func aPlainHelloToAnEncryptedListenerIsRefusedClearly() throws {
        var pair = CurvePair()
        #expect {
            _ = try pair.toServer(LinkEncoder.hello(Link.Hello(node: "n1", instance: 0)))
        } throws: { error in
            (error as? LinkError)?.message.contains("plain link HELLO") == true
        }
        #expect(CurveZMQ.startsWithHello(pair.hello()[...]))
        #expect(!CurveZMQ.startsWithHello(LinkEncoder.hello(Link.Hello(node: "n1", instance: 0))[...]))
    }

    @Test func handshakeBytesArrivingOneAtATimeGiveTheSameResult() throws {
        var pair = CurvePair()
        let hello = pair.hello()
        for byte in hello.dropLast() {
            guard case .wait = try pair.toServer([byte]) else {
                Issue.record("answered a partial HELLO")
                return
            }
        }
        #expect(CurvePair.sent(try pair.toServer([hello.last!])) != nil)
    }
}

@Suite struct CurveZMQRecordTests {
    @Test func aReplayedMessageIsRefused() throws {
        var pair = CurvePair()
        var (client, server) = try pair.establish()
        let record = client.sealer.seal(LinkEncoder.ping(token: 1))
        #expect(try openAll(server.opener, record) == [.ping(token: 1)])
        expectRefusal(.crypto) { _ = try openAll(server.opener, record) }
    }

    @Test func reorderedMessagesAreRefused() throws {
        var pair = CurvePair()
        var (client, server) = try pair.establish()
        let first = client.sealer.seal(LinkEncoder.ping(token: 1))
        let second = client.sealer.seal(LinkEncoder.ping(token: 2))
        #expect(try openAll(server.opener, second) == [.ping(token: 2)])
        expectRefusal(.crypto) { _ = try openAll(server.opener, first) }
    }

    @Test func aMessageWithARewrittenNonceDoesNotOpen() throws {
        var pair = CurvePair()
        var (client, server) = try pair.establish()
        var record = client.sealer.seal(LinkEncoder.ping(token: 1))
        record[19] = 9  // a higher nonce passes the order check, but the box was sealed under 3
        expectRefusal(.crypto) { _ = try openAll(server.opener, record) }
    }

    @Test(arguments: [21, 40, 45]) func aTamperedMessageIsRefused(offset: Int) throws {
        var pair = CurvePair()
        var (client, server) = try pair.establish()
        var record = client.sealer.seal(LinkEncoder.pong(token: 5))
        record[offset] ^= 0x10
        expectRefusal(.crypto) { _ = try openAll(server.opener, record) }
    }

    @Test func aServerMessageReplayedTowardsTheServerIsRefused() throws {
        var pair = CurvePair()
        var (_, server) = try pair.establish()
        let record = server.sealer.seal(LinkEncoder.ping(token: 1))
        expectRefusal(.crypto) { _ = try openAll(server.opener, record) }
    }

    @Test func truncatedCommandsAreRefused() throws {
        var pair = CurvePair()
        let hello = pair.hello()
        var short = Array(hello[4..<203])
        short = [0, 0, 0, UInt8(short.count)] + short
        expectRefusal(.malformed) { _ = try pair.toServer(short) }

        var established = CurvePair()
        var (client, server) = try established.establish()
        let record = client.sealer.seal(LinkEncoder.ping(token: 1))
        let cut = Array(record[4..<36])  // 32 octets: one short of the smallest MESSAGE
        expectRefusal(.malformed) { _ = try openAll(server.opener, [0, 0, 0, 32] + cut) }
        // A record cut by the stream is not an error: the rest is awaited.
        #expect(try openAll(client.opener, Array(server.sealer.seal(LinkEncoder.ping(token: 1)).prefix(30))).isEmpty)
    }

    @Test func oversizedCommandsAreRefusedBeforeTheirBytesArrive() throws {
        var pair = CurvePair()
        _ = pair.hello()
        expectRefusal(.tooLarge) { _ = try pair.toServer([0, 0, 0x10, 0x01]) }

        let limits = Link.Limits(linkFrameBytesMax: 1000)
        var small = CurvePair(limits: limits)
        let (_, server) = try small.establish()
        let length = UInt32(1000 + CurveZMQ.messageOverheadBytes + 1)
        let header = (0..<4).map { UInt8(truncatingIfNeeded: length >> UInt32(24 - 8 * $0)) }
        expectRefusal(.tooLarge) { _ = try openAll(server.opener, header) }
    }

    /// A MESSAGE record sealed by hand with `sealer`'s key and prefix: any payload.
    static func message(_ sealer: CurveZMQ.Sealer, payload: [UInt8], nonce: UInt64) -> [UInt8] {
        var box = [UInt8](repeating: 0, count: Curve25519Box.macBytes) + payload
        sealer.key.seal(
            &box, macStart: 0, textStart: Curve25519Box.macBytes, nonce: CurveZMQ.nonce(sealer.prefix, short: nonce))
        return CurveZMQ.Command.message(nonce: nonce, box: box[...]).record()
    }

    @Test func aMessageWithMoreOrReservedFlagsOrNoFrameIsRefused() throws {
        let ping = Array(LinkEncoder.ping(token: 1)[4...])
        for (payload, code) in [([1] + ping, LinkError.Code.malformed), ([0x80] + ping, .malformed), ([0], .malformed)]
        {
            var pair = CurvePair()
            let (client, server) = try pair.establish()
            let record = Self.message(client.sealer, payload: payload, nonce: 3)
            expectRefusal(code) { _ = try openAll(server.opener, record) }
        }
        var pair = CurvePair()
        let (client, server) = try pair.establish()
        let good = Self.message(client.sealer, payload: [0] + ping, nonce: 3)
        #expect(try openAll(server.opener, good) == [.ping(token: 1)], "the hand-made MESSAGE is otherwise valid")
    }

    @Test(arguments: 0..<200) func arbitraryBytesNeverCrashEitherSide(seed: Int) throws {
        var rng = SeededRNG(seed: UInt64(seed))
        let count = Int.random(in: 0...600, using: &rng)
        var bytes = LinkFixture.random(count, rng: &rng)
        if bytes.count >= 4 && seed % 2 == 0 {
            bytes.replaceSubrange(0..<4, with: [0, 0, UInt8(count >> 8), UInt8(truncatingIfNeeded: count - 4)])
        }
        var pair = CurvePair(seed: UInt64(seed))
        _ = try? pair.toServer(bytes)
        _ = pair.hello()
        _ = try? pair.toClient(bytes)
        var other = CurvePair(seed: UInt64(seed))
        if let (client, _) = try? other.establish() { _ = try? openAll(client.opener, bytes) }
        _ = try? CurveZMQ.Command.decode(bytes[...])
        _ = try? CurveZMQ.Metadata.decode(bytes[...])
    }
}

@Suite struct CurveZMQCommandTests {
    @Test func commandsRoundTrip() throws {
        let commands: [CurveZMQ.Command] = [
            .hello(
                clientTransient: Array(repeating: 1, count: 32), nonce: 7, signatureBox: Array(repeating: 2, count: 80)),
            .welcome(nonce: Array(repeating: 3, count: 16), box: Array(repeating: 4, count: 144)),
            .initiate(cookie: Array(repeating: 5, count: 96), nonce: 9, box: Array(repeating: 6, count: 150)),
            .ready(nonce: 1, box: Array(repeating: 7, count: 20)),
            .message(nonce: 3, box: Array(repeating: 8, count: 17)[...]),
            .error(reason: "client key not authorized"),
        ]
        for command in commands { #expect(try CurveZMQ.Command.decode(command.encoded()[...]) == command) }
    }

    @Test func metadataRoundTripsAndRefusesDuplicatesAndBadNames() throws {
        let metadata = CurveZMQ.identity(node: "node-7", instance: 65535)
        #expect(try CurveZMQ.Metadata.decode(metadata.encoded()[...]) == metadata)
        #expect(metadata["node"] == Array("node-7".utf8), "names match without regard to case")
        let twice = metadata.encoded() + CurveZMQ.Metadata([("NODE", [1])]).encoded()
        expectRefusal(.malformed) { _ = try CurveZMQ.Metadata.decode(twice[...]) }
        expectRefusal(.malformed) { _ = try CurveZMQ.Metadata.decode([1, 0x20, 0, 0, 0, 0][...]) }
        expectRefusal(.malformed) { _ = try CurveZMQ.Metadata.decode([4, 0x4E, 0x6F, 0x64, 0x65, 0, 0, 0, 9, 1][...]) }
        #expect(
            CurveZMQ.claimedIdentity(CurveZMQ.Metadata([("Node", [0x6E]), ("Instance", Array("70000".utf8))])) == nil)
    }

    @Test func helloWithAnotherVersionOrNonzeroPaddingIsRefused() throws {
        var pair = CurvePair()
        let hello = Array(pair.hello()[4...])
        var version = hello
        version[7] = 1
        expectRefusal(.version) { _ = try CurveZMQ.Command.decode(version[...]) }
        var padding = hello
        padding[50] = 1
        expectRefusal(.malformed) { _ = try CurveZMQ.Command.decode(padding[...]) }
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` appears anywhere in the array (to show that plaintext does not travel).
    func windowsContain(_ needle: ArraySlice<UInt8>) -> Bool {
        guard needle.count <= count, !needle.isEmpty else { return needle.isEmpty }
        return (0...(count - needle.count)).contains { self[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
