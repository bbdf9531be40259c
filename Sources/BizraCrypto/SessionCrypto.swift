import CSodium

/// Session encryption for links (docs/PROTOCOL.md §9.10): ephemeral X25519 key exchange
/// (`crypto_kx`, libsodium) authenticated by the peers' Ed25519 keys, then XChaCha20-Poly1305
/// per record with a counter nonce, one key per direction.
public enum SessionCrypto {
    public static let publicKeyBytes = 32
    public static let keyBytes = 32
    public static let tagBytes = 16

    /// An ephemeral X25519 key pair (from the OS CSPRNG; one per connection).
    public struct EphemeralKeyPair: Sendable {
        public let publicKey: [UInt8]
        let secretKey: [UInt8]

        public static func generate() -> EphemeralKeyPair {
            Sodium.ensureInitialized()
            var pk = [UInt8](repeating: 0, count: Int(crypto_kx_PUBLICKEYBYTES))
            var sk = [UInt8](repeating: 0, count: Int(crypto_kx_SECRETKEYBYTES))
            precondition(crypto_kx_keypair(&pk, &sk) == 0, "crypto_kx_keypair failed")
            return EphemeralKeyPair(publicKey: pk, secretKey: sk)
        }
    }

    /// The keys of one session: `receive` opens what the peer sealed, `send` seals for it.
    public struct Keys: Sendable {
        public let receive: [UInt8]
        public let send: [UInt8]
    }

    /// The dialing side's keys, or nil when the peer's public key is unusable.
    public static func dialerKeys(own: EphemeralKeyPair, listener: [UInt8]) -> Keys? {
        derive(own: own, peer: listener, client: true)
    }

    /// The listening side's keys, or nil when the peer's public key is unusable.
    public static func listenerKeys(own: EphemeralKeyPair, dialer: [UInt8]) -> Keys? {
        derive(own: own, peer: dialer, client: false)
    }

    private static func derive(own: EphemeralKeyPair, peer: [UInt8], client: Bool) -> Keys? {
        guard peer.count == publicKeyBytes else { return nil }
        Sodium.ensureInitialized()
        var rx = [UInt8](repeating: 0, count: keyBytes)
        var tx = [UInt8](repeating: 0, count: keyBytes)
        let rc =
            client
            ? crypto_kx_client_session_keys(&rx, &tx, own.publicKey, own.secretKey, peer)
            : crypto_kx_server_session_keys(&rx, &tx, own.publicKey, own.secretKey, peer)
        return rc == 0 ? Keys(receive: rx, send: tx) : nil
    }

    /// One direction of a session: seals or opens records in order. The nonce is the record's
    /// number (little-endian, zero-padded to 24 bytes), so a record that is dropped, repeated
    /// or reordered fails to open.
    public struct Direction: Sendable {
        private let key: [UInt8]
        public private(set) var records: UInt64 = 0

        public init(key: [UInt8]) {
            precondition(key.count == keyBytes, "a session key has \(keyBytes) bytes")
            self.key = key
        }

        private func nonce() -> [UInt8] {
            var nonce = [UInt8](repeating: 0, count: Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES))
            for i in 0..<8 { nonce[i] = UInt8(truncatingIfNeeded: records >> UInt64(8 * i)) }
            return nonce
        }

        public mutating func seal(_ plaintext: ArraySlice<UInt8>) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: plaintext.count + tagBytes)
            var length: UInt64 = 0
            let rc = plaintext.withUnsafeBufferPointer { pt in
                crypto_aead_xchacha20poly1305_ietf_encrypt(
                    &out, &length, pt.baseAddress, UInt64(pt.count), nil, 0, nil, nonce(), key)
            }
            precondition(rc == 0 && Int(length) == out.count, "XChaCha20-Poly1305 encryption failed")
            records += 1
            return out
        }

        /// The plaintext, or nil when the record is not the next one sealed with this key.
        public mutating func open(_ ciphertext: ArraySlice<UInt8>) -> [UInt8]? {
            guard ciphertext.count >= tagBytes else { return nil }
            var out = [UInt8](repeating: 0, count: ciphertext.count - tagBytes)
            var length: UInt64 = 0
            let rc = ciphertext.withUnsafeBufferPointer { ct in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    &out, &length, nil, ct.baseAddress!, UInt64(ct.count), nil, 0, nonce(), key)
            }
            guard rc == 0, Int(length) == out.count else { return nil }
            records += 1
            return out
        }
    }
}
