import CSodium

/// libsodium's one-time initialisation. `sodium_init` is thread-safe and idempotent, so every
/// entry point simply calls it. After the first call it still takes a mutex (about 12 ns in
/// libsodium 1.0.18), which is why the hot BLAKE2b path (`Digest256.swift`) calls it once per
/// process instead.
enum Sodium {
    static func ensureInitialized() {
        let rc = sodium_init()
        precondition(rc >= 0, "sodium_init failed with \(rc): libsodium cannot be used")
    }
}

/// Random bytes from libsodium's CSPRNG, for key material and nonces (never for protocol
/// decisions: protocol cores take a seeded generator).
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: count)
        randombytes_buf(&out, count)
        return out
    }

    public static func uint64() -> UInt64 {
        bytes(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// The one error type of BizraCrypto.
public struct CryptoError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case badKeyLength = "bad_key_length"
        case badEncoding = "bad_encoding"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
