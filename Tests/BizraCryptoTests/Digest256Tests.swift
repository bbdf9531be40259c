import BizraCrypto
import Foundation
import Testing

@Suite struct Digest256Tests {
    /// BLAKE2b-256("abc"), from the BLAKE2 reference implementation (b2sum -l 256).
    static let abcHex = "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"

    @Test func abcMatchesTheReferenceDigest() {
        let digest = Blake2b.digest256 { $0.update(Array("abc".utf8)) }
        #expect(digest.hex == Self.abcHex)
        let bytewise = Blake2b.digest256 { hasher in
            for byte in "abc".utf8 { hasher.update(byte) }
        }
        #expect(bytewise == digest)
        #expect(Blake2b.digest256 { _ in }.hex == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
    }

    /// The streaming hasher must agree with the one-shot `Blake2b.hash` however the input is cut.
    @Test func streamingAgreesWithOneShotHashForRandomSplits() {
        let seed: UInt64 = 0x0D16_E575
        var rng = SplitMix64(seed: seed)
        for round in 0..<2_000 {
            let length = Int(rng.next() % 700)
            let input = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let cutA = length == 0 ? 0 : Int(rng.next() % UInt64(length + 1))
            let cutB = cutA + (length == cutA ? 0 : Int(rng.next() % UInt64(length - cutA + 1)))
            let expected = Blake2b.hash(input)
            let streamed = Blake2b.digest256 { hasher in
                hasher.update(Array(input[..<cutA]))
                input[cutA..<cutB].withUnsafeBytes { hasher.update($0) }
                hasher.update(Array(input[cutB...]))
            }
            #expect(streamed.bytes == expected, "seed \(seed) round \(round): length \(length) cuts \(cutA) \(cutB)")
        }
    }

    @Test func typedUpdatesFeedTheirBytes() {
        let previous = Digest256(bytes: Blake2b.hash(Array("previous".utf8)))
        let value: UInt64 = 0x0102_0304_0506_0708
        let digest = Blake2b.digest256 { hasher in
            hasher.update(previous)
            hasher.update(bigEndian: value)
            hasher.update(0x7f as UInt8)
        }
        let expected = Blake2b.hash(previous.bytes, [1, 2, 3, 4, 5, 6, 7, 8], [0x7f])
        #expect(digest.bytes == expected)
    }

    /// One hasher, many digests: `finalize()` starts the next digest afresh.
    @Test func finalizeStartsTheNextDigest() {
        let digests = Blake2b.withHasher { hasher in
            (0..<5).map { (round: UInt8) -> Digest256 in
                hasher.update([round])
                return hasher.finalize()
            }
        }
        #expect(digests == (0..<5).map { Digest256(bytes: Blake2b.hash([$0])) })
    }

    @Test func finalizeInsideDigest256IsAProgrammerError() async {
        await #expect(processExitsWith: .failure) {
            _ = Blake2b.digest256 { hasher in _ = hasher.finalize() }
        }
    }

    @Test func hexAndBytesRoundTrip() throws {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<200 {
            let bytes = (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let digest = Digest256(bytes: bytes)
            #expect(digest.bytes == bytes)
            #expect(Digest256(bytes) == digest)
            #expect(Digest256(bytes: bytes[...]) == digest)
            #expect(digest.hex == Hex.encode(bytes))
            #expect(Digest256(hex: digest.hex) == digest)
            #expect(Digest256(hex: digest.hex.uppercased()) == digest)
            #expect(digest.description == digest.hex)
            digest.withUnsafeBytes { #expect(Array($0) == bytes) }
        }
        #expect(Digest256.zero.bytes == [UInt8](repeating: 0, count: 32))
        #expect(Digest256([UInt8](repeating: 1, count: 31)) == nil)
        #expect(Digest256([UInt8](repeating: 1, count: 33)) == nil)
        for bad in [
            "", "00", String(repeating: "0", count: 63), String(repeating: "0", count: 66),
            String(repeating: "g", count: 64),
        ] {
            #expect(Digest256(hex: bad) == nil, "`\(bad)` parsed")
        }
    }

    @Test func orderIsLexicographicByByte() {
        var rng = SplitMix64(seed: 11)
        let digests = (0..<300).map { _ in
            // Shared prefixes make later words decide the order.
            var bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: rng.next() % 2), count: 32)
            bytes[Int(rng.next() % 32)] = UInt8(truncatingIfNeeded: rng.next())
            return Digest256(bytes: bytes)
        }
        for a in digests.prefix(60) {
            for b in digests {
                #expect((a < b) == a.bytes.lexicographicallyPrecedes(b.bytes))
                #expect((a == b) == (a.bytes == b.bytes))
            }
        }
    }

    @Test func codesAsAHexString() throws {
        let digest = Digest256(hex: Self.abcHex)!
        let json = try JSONEncoder().encode([digest])
        #expect(String(decoding: json, as: UTF8.self) == "[\"\(Self.abcHex)\"]")
        #expect(try JSONDecoder().decode([Digest256].self, from: json) == [digest])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Digest256].self, from: Data("[\"00\"]".utf8)) }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a seeded generator for reproducible test inputs.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
