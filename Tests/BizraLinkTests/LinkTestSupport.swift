import BizraLink
import Foundation

/// SplitMix64: a seeded generator, so every property test replays from its seed.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum LinkFixture {
    /// A ~250-byte JSON-like message with a 64-byte incompressible tail, like a signed bus frame.
    static func jsonLike(_ i: Int, rng: inout SeededRNG) -> [UInt8] {
        let names = ["worker", "consensus", "discovery", "balancing"]
        let text =
            "{\"type\":\"worker.work\",\"from\":\"n\(i % 3 + 1)/\(names[i % 4])#\(i % 2)\",\"seq\":\(i),"
            + "\"payload\":{\"job\":\(Int.random(in: 0..<100_000, using: &rng)),\"state\":\"running\","
            + "\"ok\":true,\"latencyMillis\":\(Int.random(in: 0..<50, using: &rng))}}"
        return Array(text.utf8) + random(64, rng: &rng)
    }

    static func random(_ count: Int, rng: inout SeededRNG) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// Decodes every link frame in `bytes` (fed in one go).
    static func decodeAll(_ bytes: [UInt8], decoder: LinkDecoder = LinkDecoder()) throws -> [Link.Message] {
        decoder.append(bytes)
        var out: [Link.Message] = []
        while let (message, _) = try decoder.next() { out.append(message) }
        return out
    }
}

extension Link.Message {
    var frames: [[UInt8]]? {
        if case .batch(let frames, _) = self { return frames }
        return nil
    }
}
