import BizraCrypto
import CSodium
import Testing

@Suite struct Curve25519BoxTests {
    @Test func anEd25519KeyConvertsToAMatchingCurve25519Pair() throws {
        let ed = try Ed25519.KeyPair(seed: [UInt8](repeating: 3, count: 32))
        let curve = try Curve25519Box.KeyPair(ed25519: ed)
        #expect(Curve25519Box.publicKey(ed25519: ed.publicKey) == curve.publicKey)
        var derived = [UInt8](repeating: 0, count: 32)
        #expect(curve.secretKey.withUnsafeBytes { crypto_scalarmult_base(&derived, $0) } == 0)
        #expect(derived == curve.publicKey, "the converted secret key is the public key's")
    }

    @Test func boxesOpenOnlyWithTheRightKeysAndNonce() {
        let a = Curve25519Box.KeyPair(seed: [UInt8](repeating: 1, count: 32))
        let b = Curve25519Box.KeyPair(seed: [UInt8](repeating: 2, count: 32))
        let nonce = [UInt8](repeating: 7, count: 24)
        let box = Curve25519Box.seal([1, 2, 3], nonce: nonce, to: b.publicKey, from: a.secretKey)
        #expect(box.count == 3 + 16)
        #expect(Curve25519Box.open(box, nonce: nonce, from: a.publicKey, to: b.secretKey) == [1, 2, 3])
        #expect(
            Curve25519Box.open(box, nonce: [UInt8](repeating: 8, count: 24), from: a.publicKey, to: b.secretKey) == nil)
        #expect(Curve25519Box.open(box, nonce: nonce, from: b.publicKey, to: b.secretKey) == nil)
        let shared = Curve25519Box.SharedKey(peer: b.publicKey, own: a.secretKey)!
        var text = Array(box[16...])
        #expect(shared.open(&text, textStart: 0, mac: box[..<16], nonce: nonce) && text == [1, 2, 3])
    }
}
