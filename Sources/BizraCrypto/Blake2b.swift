import CSodium

/// BLAKE2b (libsodium `crypto_generichash`), for hash chains, Merkle trees and content digests.
/// Pure computation: protocol cores may use it.
public enum Blake2b {
    public static let defaultBytes = 32

    /// The unkeyed digest of `parts` concatenated, `outputBytes` long (16...64).
    public static func hash(_ parts: [UInt8]..., outputBytes: Int = defaultBytes) -> [UInt8] {
        precondition((16...64).contains(outputBytes), "BLAKE2b output must be 16...64 bytes, got \(outputBytes)")
        Sodium.ensureInitialized()
        let state = UnsafeMutableRawPointer.allocate(
            byteCount: crypto_generichash_statebytes(), alignment: 64)
        defer { state.deallocate() }
        let st = OpaquePointer(state)  // the C type is over-aligned and not imported
        crypto_generichash_init(st, nil, 0, outputBytes)
        for part in parts {
            _ = part.withUnsafeBufferPointer { crypto_generichash_update(st, $0.baseAddress, UInt64($0.count)) }
        }
        var out = [UInt8](repeating: 0, count: outputBytes)
        crypto_generichash_final(st, &out, outputBytes)
        return out
    }
}

/// Lower-case hexadecimal, for key files, keyrings and status output.
public enum Hex {
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) throws(CryptoError) -> [UInt8] {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { throw CryptoError(.badEncoding, "hex text has an odd length") }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let hi = nibble(chars[index]), let lo = nibble(chars[index + 1]) else {
                throw CryptoError(.badEncoding, "hex text has a non-hex character at offset \(index)")
            }
            out.append(hi << 4 | lo)
            index += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
