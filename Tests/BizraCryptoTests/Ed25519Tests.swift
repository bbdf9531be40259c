import BizraCrypto
import Testing

@Suite struct Ed25519Tests {
    static let seed: [UInt8] = Array(0...31)

    @Test func signatureOfAMessageVerifiesUnderItsKey() throws {
        let pair = try Ed25519.KeyPair(seed: Self.seed)
        for length in [0, 1, 31, 256, 4096] {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let signature = pair.sign(message)
            #expect(signature.count == Ed25519.signatureBytes)
            #expect(Ed25519.verify(signature: signature, message: message, publicKey: pair.publicKey))
        }
    }

    @Test func wrongKeyAndAlteredMessageAndAlteredSignatureFail() throws {
        let pair = try Ed25519.KeyPair(seed: Self.seed)
        let other = try Ed25519.KeyPair(seed: [UInt8](repeating: 9, count: 32))
        let message = Array("raft.append term=7".utf8)
        let signature = pair.sign(message)
        #expect(!Ed25519.verify(signature: signature, message: message, publicKey: other.publicKey))
        var altered = message
        altered[0] ^= 0x01
        #expect(!Ed25519.verify(signature: signature, message: altered, publicKey: pair.publicKey))
        #expect(!Ed25519.verify(signature: signature, message: message + [0], publicKey: pair.publicKey))
        var badSignature = signature
        badSignature[63] ^= 0x80
        #expect(!Ed25519.verify(signature: badSignature, message: message, publicKey: pair.publicKey))
    }

    @Test func wrongLengthsAreFalseNotTraps() throws {
        let pair = try Ed25519.KeyPair(seed: Self.seed)
        let message: [UInt8] = [1, 2, 3]
        let signature = pair.sign(message)
        #expect(!Ed25519.verify(signature: Array(signature.dropLast()), message: message, publicKey: pair.publicKey))
        #expect(!Ed25519.verify(signature: [], message: message, publicKey: pair.publicKey))
        #expect(!Ed25519.verify(signature: signature, message: message, publicKey: Array(pair.publicKey.prefix(31))))
    }

    @Test func seedDerivedKeysAreDeterministic() throws {
        let a = try Ed25519.KeyPair(seed: Self.seed)
        let b = try Ed25519.KeyPair(seed: Self.seed)
        #expect(a == b)
        #expect(a.secretKey.count == Ed25519.secretKeyBytes)
        #expect(Array(a.secretKey.prefix(32)) == Self.seed)
        #expect(Array(a.secretKey.suffix(32)) == a.publicKey)
        // Ed25519 signatures are deterministic too: the same key signs a message the same way.
        #expect(a.sign([1, 2, 3]) == b.sign([1, 2, 3]))
        #expect(try Ed25519.KeyPair(secretKey: a.secretKey) == a)
        #expect(try Ed25519.KeyPair(seed: [UInt8](repeating: 1, count: 32)).publicKey != a.publicKey)
    }

    @Test func seedOfRFC8032TestVector1GivesItsPublicKeyAndSignature() throws {
        // RFC 8032 §7.1, TEST 1: the empty message.
        let seed = try Hex.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        let pair = try Ed25519.KeyPair(seed: seed)
        #expect(Hex.encode(pair.publicKey) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        #expect(
            Hex.encode(pair.sign([]))
                == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    }

    @Test func badSeedAndSecretKeyLengthsThrow() {
        #expect(throws: CryptoError.self) { try Ed25519.KeyPair(seed: [UInt8](repeating: 0, count: 31)) }
        #expect(throws: CryptoError.self) { try Ed25519.KeyPair(secretKey: [UInt8](repeating: 0, count: 32)) }
        do {
            _ = try Ed25519.KeyPair(seed: [])
        } catch {
            #expect(error.code == .badKeyLength)
        }
    }

    @Test func generatedKeyPairsDifferAndSign() {
        let a = Ed25519.KeyPair.generate()
        let b = Ed25519.KeyPair.generate()
        #expect(a.publicKey != b.publicKey)
        #expect(Ed25519.verify(signature: a.sign([42]), message: [42], publicKey: a.publicKey))
    }
}
