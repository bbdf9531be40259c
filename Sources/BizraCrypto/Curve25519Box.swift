import CSodium

/// Secret key material kept out of Swift's copy-on-write arrays: one heap buffer, never copied,
/// wiped with `sodium_memzero` when the last reference goes.
public final class SecretBytes: @unchecked Sendable {
    public let count: Int
    private let buffer: UnsafeMutableRawBufferPointer

    /// `count` zero bytes.
    public init(count: Int) {
        precondition(count > 0, "a secret has at least one byte, asked for \(count)")
        self.count = count
        buffer = .allocate(byteCount: count, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }

    /// A copy of `bytes` (the caller wipes its own copy, see `Curve25519Box.wipe`).
    public convenience init<C: Collection>(copying bytes: C) where C.Element == UInt8 {
        self.init(count: bytes.count)
        _ = buffer.initializeMemory(as: UInt8.self, from: bytes)
    }

    deinit {
        sodium_memzero(buffer.baseAddress, count)
        buffer.deallocate()
    }

    public func withUnsafeBytes<R>(_ body: (UnsafePointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafePointer(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)))
    }

    func withUnsafeMutableBytes<R>(_ body: (UnsafeMutablePointer<UInt8>) throws -> R) rethrows -> R {
        try body(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }
}

/// Curve25519 public-key boxes and secret boxes through libsodium, as CurveZMQ (RFC 26) uses
/// them: `crypto_box_easy` (X25519, XSalsa20-Poly1305; the box is the 16-byte MAC followed by
/// the ciphertext, byte for byte NaCl's `crypto_box` without its zero padding),
/// `crypto_box_beforenm` for a connection's message key, and `crypto_secretbox_easy`.
public enum Curve25519Box {
    public static let keyBytes = 32
    public static let nonceBytes = 24
    /// What a box adds to its plaintext.
    public static let macBytes = 16

    /// A Curve25519 key pair; the secret half never leaves its `SecretBytes`.
    public struct KeyPair: Sendable {
        public let publicKey: [UInt8]
        public let secretKey: SecretBytes

        /// The key pair derived from 32 seed bytes (`crypto_box_seed_keypair`); the seed should
        /// come from a CSPRNG, and the caller wipes it.
        public init(seed: [UInt8]) {
            precondition(seed.count == keyBytes, "a Curve25519 seed has \(keyBytes) bytes, got \(seed.count)")
            Sodium.ensureInitialized()
            var pk = [UInt8](repeating: 0, count: keyBytes)
            let sk = SecretBytes(count: keyBytes)
            let rc = sk.withUnsafeMutableBytes { crypto_box_seed_keypair(&pk, $0, seed) }
            precondition(rc == 0, "crypto_box_seed_keypair failed with \(rc)")
            self.init(publicKey: pk, secretKey: sk)
        }

        /// The Curve25519 form of an Ed25519 signing key pair (`crypto_sign_ed25519_pk_to_curve25519`
        /// and `crypto_sign_ed25519_sk_to_curve25519`), so a node's one identity key also boxes.
        public init(ed25519 pair: Ed25519.KeyPair) throws(CryptoError) {
            guard let pk = Curve25519Box.publicKey(ed25519: pair.publicKey) else {
                throw CryptoError(.badEncoding, "the Ed25519 public key is not a valid curve point")
            }
            let sk = SecretBytes(count: keyBytes)
            let rc = sk.withUnsafeMutableBytes { crypto_sign_ed25519_sk_to_curve25519($0, pair.secretKey) }
            guard rc == 0 else { throw CryptoError(.badEncoding, "the Ed25519 secret key does not convert") }
            self.init(publicKey: pk, secretKey: sk)
        }

        /// The key pair of a secret key (`crypto_scalarmult_base`), or nil for a degenerate one.
        public init?(secret: SecretBytes) {
            guard secret.count == keyBytes else { return nil }
            Sodium.ensureInitialized()
            var pk = [UInt8](repeating: 0, count: keyBytes)
            guard secret.withUnsafeBytes({ crypto_scalarmult_base(&pk, $0) }) == 0 else { return nil }
            self.init(publicKey: pk, secretKey: secret)
        }

        public init(publicKey: [UInt8], secretKey: SecretBytes) {
            precondition(publicKey.count == keyBytes && secretKey.count == keyBytes, "Curve25519 keys have 32 bytes")
            self.publicKey = publicKey
            self.secretKey = secretKey
        }
    }

    /// The Curve25519 form of an Ed25519 public key, or nil when it is not a valid point.
    public static func publicKey(ed25519 key: [UInt8]) -> [UInt8]? {
        guard key.count == Ed25519.publicKeyBytes else { return nil }
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: keyBytes)
        return crypto_sign_ed25519_pk_to_curve25519(&out, key) == 0 ? out : nil
    }

    /// Box [plaintext](sender → recipient) under a 24-byte nonce: MAC then ciphertext.
    public static func seal(_ plaintext: [UInt8], nonce: [UInt8], to recipient: [UInt8], from sender: SecretBytes)
        -> [UInt8]
    {
        precondition(nonce.count == nonceBytes && recipient.count == keyBytes, "box nonce or key of the wrong size")
        var out = [UInt8](repeating: 0, count: plaintext.count + macBytes)
        let rc = sender.withUnsafeBytes { sk in
            crypto_box_easy(&out, plaintext, UInt64(plaintext.count), nonce, recipient, sk)
        }
        precondition(rc == 0, "crypto_box_easy failed with \(rc) (a degenerate public key?)")
        return out
    }

    /// The plaintext of Box [·](sender → recipient), or nil when it does not open.
    public static func open<C: Collection>(_ box: C, nonce: [UInt8], from sender: [UInt8], to recipient: SecretBytes)
        -> [UInt8]? where C.Element == UInt8
    {
        let box = Array(box)
        guard box.count >= macBytes, nonce.count == nonceBytes, sender.count == keyBytes else { return nil }
        var out = [UInt8](repeating: 0, count: box.count - macBytes)
        let rc = recipient.withUnsafeBytes { sk in
            crypto_box_open_easy(&out, box, UInt64(box.count), nonce, sender, sk)
        }
        return rc == 0 ? out : nil
    }

    /// Secret box [plaintext](key) (`crypto_secretbox_easy`, XSalsa20-Poly1305).
    public static func secretSeal(_ plaintext: [UInt8], nonce: [UInt8], key: SecretBytes) -> [UInt8] {
        precondition(nonce.count == nonceBytes && key.count == keyBytes, "secretbox nonce or key of the wrong size")
        var out = [UInt8](repeating: 0, count: plaintext.count + macBytes)
        let rc = key.withUnsafeBytes { crypto_secretbox_easy(&out, plaintext, UInt64(plaintext.count), nonce, $0) }
        precondition(rc == 0, "crypto_secretbox_easy failed with \(rc)")
        return out
    }

    /// The plaintext of a secret box, or nil when it does not open under `key`.
    public static func secretOpen<C: Collection>(_ box: C, nonce: [UInt8], key: SecretBytes) -> [UInt8]?
    where C.Element == UInt8 {
        let box = Array(box)
        guard box.count >= macBytes, nonce.count == nonceBytes, key.count == keyBytes else { return nil }
        var out = [UInt8](repeating: 0, count: box.count - macBytes)
        let rc = key.withUnsafeBytes { crypto_secretbox_open_easy(&out, box, UInt64(box.count), nonce, $0) }
        return rc == 0 ? out : nil
    }

    /// Overwrites `bytes` with zeros in a way the optimiser keeps (`sodium_memzero`).
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, $0.count) }
    }

    /// The key both ends of a connection derive from one's public and the other's secret
    /// transient key (`crypto_box_beforenm`): it seals and opens every box between them, with
    /// in-place detached calls on the hot path.
    public final class SharedKey: Sendable {
        private let key: SecretBytes

        /// Nil when `peer` is a degenerate public key (a low-order point).
        public init?(peer: [UInt8], own: SecretBytes) {
            guard peer.count == keyBytes else { return nil }
            Sodium.ensureInitialized()
            let key = SecretBytes(count: keyBytes)
            let rc = key.withUnsafeMutableBytes { k in own.withUnsafeBytes { crypto_box_beforenm(k, peer, $0) } }
            guard rc == 0 else { return nil }
            self.key = key
        }

        /// Encrypts `buffer[textStart...]` in place and writes its MAC to `buffer[macStart..<macStart+16]`.
        public func seal(_ buffer: inout [UInt8], macStart: Int, textStart: Int, nonce: [UInt8]) {
            precondition(macStart + macBytes <= textStart && textStart <= buffer.count, "box layout out of range")
            let rc = buffer.withUnsafeMutableBufferPointer { b in
                key.withUnsafeBytes { k in
                    crypto_box_detached_afternm(
                        b.baseAddress! + textStart, b.baseAddress! + macStart, b.baseAddress! + textStart,
                        UInt64(b.count - textStart), nonce, k)
                }
            }
            precondition(rc == 0, "crypto_box_detached_afternm failed with \(rc)")
        }

        /// Decrypts `buffer[textStart...]` in place after checking `mac` (16 bytes); false (and
        /// the text unchanged) when the box does not open.
        public func open(_ buffer: inout [UInt8], textStart: Int, mac: ArraySlice<UInt8>, nonce: [UInt8]) -> Bool {
            guard mac.count == macBytes, textStart >= 0, textStart <= buffer.count else { return false }
            return buffer.withUnsafeMutableBufferPointer { b in
                mac.withUnsafeBufferPointer { m in
                    key.withUnsafeBytes { k in
                        crypto_box_open_detached_afternm(
                            b.baseAddress! + textStart, b.baseAddress! + textStart, m.baseAddress!,
                            UInt64(b.count - textStart), nonce, k) == 0
                    }
                }
            }
        }
    }
}

/// A `RandomNumberGenerator` over libsodium's CSPRNG (`randombytes_buf`): what production code
/// passes where protocol cores take a generator for key material and nonces.
public struct SodiumRandom: RandomNumberGenerator {
    public init() { Sodium.ensureInitialized() }

    public mutating func next() -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { randombytes_buf($0.baseAddress!, 8) }
        return value
    }
}
