import BizraCrypto
import BizraLink
import Testing

/// Encrypted links: the handshake's transcripts bind both ephemeral keys, and sealed records
/// open only in order, unaltered, under the right key.
@Suite struct LinkCipherTests {
    static func session() -> (dialer: SessionCrypto.Keys, listener: SessionCrypto.Keys) {
        let dialer = SessionCrypto.EphemeralKeyPair.generate()
        let listener = SessionCrypto.EphemeralKeyPair.generate()
        let d = SessionCrypto.dialerKeys(own: dialer, listener: listener.publicKey)!
        let l = SessionCrypto.listenerKeys(own: listener, dialer: dialer.publicKey)!
        return (d, l)
    }

    @Test func sealedLinkFramesOpenInOrderOnTheOtherSide() throws {
        let (dialer, listener) = Self.session()
        #expect(dialer.send == listener.receive && dialer.receive == listener.send && dialer.send != dialer.receive)
        var sealer = LinkSealer(key: dialer.send)
        let opener = LinkOpener(key: listener.receive)
        var rng = SeededRNG(seed: 9)
        let frames = (0..<20).map { LinkFixture.jsonLike($0, rng: &rng) }
        let plain = [
            LinkEncoder.ping(token: 5), LinkEncoder().batch(frames, codec: .lz4).bytes, LinkEncoder.ack(batches: 1),
        ]
        let stream = plain.flatMap { sealer.seal($0) }
        #expect(!stream.contains(subsequence: Array(frames[0].prefix(40))), "plaintext visible on the wire")
        var opened: [[UInt8]] = []
        for byte in stream {
            opener.append([byte])
            while let frame = try opener.next() { opened.append(frame) }
        }
        #expect(opened == plain)
    }

    @Test func alteredReplayedOrForeignRecordsDoNotOpen() {
        let (dialer, listener) = Self.session()
        var sealer = LinkSealer(key: dialer.send)
        let first = sealer.seal(LinkEncoder.ping(token: 1))
        let second = sealer.seal(LinkEncoder.ping(token: 2))
        func opens(_ records: [[UInt8]], key: [UInt8]) -> Bool {
            let opener = LinkOpener(key: key)
            opener.append(records.flatMap { $0 })
            do {
                var count = 0
                while try opener.next() != nil { count += 1 }
                return count == records.count
            } catch { return false }
        }
        var altered = first
        altered[10] ^= 1
        #expect(opens([first, second], key: listener.receive))
        #expect(!opens([altered], key: listener.receive))
        #expect(!opens([second], key: listener.receive))  // reordered (or the first lost)
        #expect(!opens([first, first], key: listener.receive))  // replayed
        #expect(!opens([first], key: listener.send))  // the other direction's key
    }

    @Test func aWelcomeSignatureBindsTheDialersEphemeralKey() {
        let key = try! Ed25519.KeyPair(seed: Array(repeating: 7, count: 32))
        let dialer = SessionCrypto.EphemeralKeyPair.generate().publicKey
        let listener = SessionCrypto.EphemeralKeyPair.generate().publicKey
        let other = SessionCrypto.EphemeralKeyPair.generate().publicKey
        let proof = key.sign(Link.welcomeTranscript(listener: listener, dialer: dialer))
        #expect(
            Ed25519.verify(
                signature: proof, message: Link.welcomeTranscript(listener: listener, dialer: dialer),
                publicKey: key.publicKey))
        #expect(
            !Ed25519.verify(
                signature: proof, message: Link.welcomeTranscript(listener: listener, dialer: other),
                publicKey: key.publicKey))
        let hello = LinkEncoder.secureHello(.init(node: "n1", instance: 0), ephemeral: dialer, signature: proof)
        let decoder = LinkDecoder()
        decoder.append(hello)
        #expect(
            (try? decoder.next())?.message
                == .secureHello(.init(node: "n1", instance: 0), ephemeral: dialer, signature: proof))
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { Array(self[$0..<$0 + subsequence.count]) == subsequence }
    }
}
