import BizraCodec
import Testing

/// LZ4Block lives in BizraCodec, which the bus depends on; it is tested here because
/// BizraCryptoTests does not depend on BizraCodec (Package.swift).
@Suite struct LZ4BlockTests {
    static func compress(_ bytes: [UInt8]) -> [UInt8]? { bytes.withUnsafeBytes { LZ4Block.compress($0) } }

    static func decompress(_ block: [UInt8], _ originalBytes: Int) -> [UInt8]? {
        block.withUnsafeBytes { LZ4Block.decompress($0, originalBytes: originalBytes) }
    }

    @Test func compressibleInputRoundTripsAndShrinks() throws {
        var rng = SplitMix64(seed: 11)
        for length in [100, 4096, 70_000] {
            let words = ["raft", "append", "term", "42", " ", "\n"].map { Array($0.utf8) }
            var input: [UInt8] = []
            while input.count < length { input += words.randomElement(using: &rng)! }
            let block = try #require(Self.compress(input))
            #expect(block.count < input.count)
            #expect(Self.decompress(block, input.count) == input)
            #expect(Self.decompress(block, input.count - 1) == nil, "the exact length is required")
            #expect(Self.decompress(block, input.count + 1) == nil)
        }
    }

    @Test func incompressibleInputReturnsNilSoItNeverExpands() {
        var rng = SplitMix64(seed: 12)
        for length in [0, 1, 7, 64, 1000, 65_536] {
            let input = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(Self.compress(input) == nil, "\(length) random bytes")
        }
    }

    @Test func decompressOfGarbageReturnsNilNeverCrashes() {
        var rng = SplitMix64(seed: 13)
        for _ in 0..<2000 {
            let length = Int.random(in: 0...64, using: &rng)
            let garbage = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let claimed = Int.random(in: -5...5000, using: &rng)
            if let out = Self.decompress(garbage, claimed) { #expect(out.count == claimed) }
        }
        #expect(Self.decompress([], 10) == nil)
        #expect(Self.decompress([0x10, 0x41], 0) == nil)
        #expect(Self.decompress([0xF0, 0xFF, 0xFF, 0xFF], 100) == nil)
        #expect(Self.decompress([0x00], LZ4Block.inputBytesMax + 1) == nil)
    }
}
