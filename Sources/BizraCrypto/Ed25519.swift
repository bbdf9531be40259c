import CSodium

/// Ed25519 signatures through libsodium (`crypto_sign_detached`, `crypto_sign_verify_detached`).
///
/// This module is the one wrapper of libsodium in BIZRA Mesh: the bus signs and verifies frames
/// with it, and pure protocol cores may hash with it (hashing is computation, not IO).
public enum Ed25519 {
    public static let publicKeyBytes = 32
    public static let secretKeyBytes = 64
    public static let seedBytes = 32
    public static let signatureBytes = 64

    /// A signing key pair. The secret key is libsodium's 64-byte form (seed followed by public key).
    public struct KeyPair: Sendable, Equatable {
        public let publicKey: [UInt8]
        public let secretKey: [UInt8]

        /// A fresh key pair from the operating system's CSPRNG.
        public static func generate() -> KeyPair {
            Sodium.ensureInitialized()
            var pk = [UInt8](repeating: 0, count: publicKeyBytes)
            var sk = [UInt8](repeating: 0, count: secretKeyBytes)
            let rc = crypto_sign_keypair(&pk, &sk)
            precondition(rc == 0, "crypto_sign_keypair failed with \(rc)")
            return KeyPair(publicKey: pk, secretKey: sk)
        }

        /// The key pair derived from a 32-byte seed (deterministic; used by tests and key files).
        public init(seed: [UInt8]) throws(CryptoError) {
            guard seed.count == seedBytes else {
                throw CryptoError(.badKeyLength, "an Ed25519 seed has \(seedBytes) bytes, got \(seed.count)")
            }
            Sodium.ensureInitialized()
            var pk = [UInt8](repeating: 0, count: publicKeyBytes)
            var sk = [UInt8](repeating: 0, count: secretKeyBytes)
            let rc = crypto_sign_seed_keypair(&pk, &sk, seed)
            precondition(rc == 0, "crypto_sign_seed_keypair failed with \(rc)")
            self.init(publicKey: pk, secretKey: sk)
        }

        /// A key pair from its stored secret key; the public key is its last 32 bytes.
        public init(secretKey: [UInt8]) throws(CryptoError) {
            guard secretKey.count == secretKeyBytes else {
                throw CryptoError(
                    .badKeyLength, "an Ed25519 secret key has \(secretKeyBytes) bytes, got \(secretKey.count)")
            }
            self.init(publicKey: Array(secretKey[seedBytes...]), secretKey: secretKey)
        }

        private init(publicKey: [UInt8], secretKey: [UInt8]) {
            self.publicKey = publicKey
            self.secretKey = secretKey
        }

        /// The 64-byte detached signature of `message`.
        public func sign(_ message: UnsafeRawBufferPointer) -> [UInt8] {
            var signature = [UInt8](repeating: 0, count: signatureBytes)
            let rc = secretKey.withUnsafeBufferPointer { sk in
                withNonNullBase(message) { msg in
                    crypto_sign_detached(&signature, nil, msg, UInt64(message.count), sk.baseAddress!)
                }
            }
            precondition(rc == 0, "crypto_sign_detached failed with \(rc)")
            return signature
        }

        public func sign(_ message: [UInt8]) -> [UInt8] {
            message.withUnsafeBytes { sign($0) }
        }
    }

    /// True when `signature` is `publicKey`'s valid signature of `message`. Wrong lengths are false.
    public static func verify(
        signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer, publicKey: [UInt8]
    ) -> Bool {
        guard signature.count == signatureBytes, publicKey.count == publicKeyBytes else { return false }
        Sodium.ensureInitialized()
        return publicKey.withUnsafeBufferPointer { pk in
            withNonNullBase(message) { msg in
                crypto_sign_verify_detached(
                    signature.baseAddress!.assumingMemoryBound(to: UInt8.self), msg, UInt64(message.count),
                    pk.baseAddress!) == 0
            }
        }
    }

    public static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        signature.withUnsafeBytes { sig in
            message.withUnsafeBytes { msg in verify(signature: sig, message: msg, publicKey: publicKey) }
        }
    }
}

/// Calls `body` with a non-null pointer to `buffer`'s bytes: libsodium wants one even for an
/// empty message, and an empty Swift buffer may have no base address.
private func withNonNullBase<R>(_ buffer: UnsafeRawBufferPointer, _ body: (UnsafePointer<UInt8>) -> R) -> R {
    if let base = buffer.baseAddress { return body(base.assumingMemoryBound(to: UInt8.self)) }
    var empty: UInt8 = 0
    return withUnsafePointer(to: &empty) { body($0) }
}
