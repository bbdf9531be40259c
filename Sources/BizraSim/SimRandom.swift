/// The simulator's only source of randomness: xoshiro256** seeded through SplitMix64.
///
/// Why it exists: `SystemRandomNumberGenerator` cannot be replayed, and a run must be reproducible
/// from one 64-bit seed on any machine. xoshiro256** (Blackman & Vigna, "Scrambled Linear
/// Pseudorandom Number Generators", 2021) is small, fast and passes BigCrush; SplitMix64
/// (Steele, Lea & Flood, OOPSLA 2014) expands a seed into its 256-bit state, as its authors advise.
///
/// `fork(stream:)` derives an independent generator for a subsystem (network, disk, faults,
/// clients, each node) from the root seed and a stream number, so that one subsystem drawing more
/// numbers does not shift the numbers another subsystem sees. Deviation from the paper: forking
/// hashes (seed, stream) through SplitMix64 rather than using the `jump()` polynomial, which is
/// enough for simulation and lets a fork be made without advancing the parent.
package struct SimRNG: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64
    /// The seed this generator was made from; forks derive from it, never from the current state.
    package let seed: UInt64

    /// Creates a generator whose whole output is determined by `seed`.
    package init(seed: UInt64) {
        self.seed = seed
        var mixer = seed
        s0 = SimRNG.splitMix64(&mixer)
        s1 = SimRNG.splitMix64(&mixer)
        s2 = SimRNG.splitMix64(&mixer)
        s3 = SimRNG.splitMix64(&mixer)
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }  // The all-zero state is a fixed point of xoshiro.
    }

    /// An independent generator for subsystem `stream`; does not advance `self`.
    package func fork(stream: UInt64) -> SimRNG {
        var mixer = seed ^ (stream &* 0xD6E8_FEB8_6659_FD93)
        return SimRNG(seed: SimRNG.splitMix64(&mixer) ^ stream)
    }

    /// SplitMix64's output function; advances `state` by the golden-ratio increment.
    package static func splitMix64(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    package mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always)
    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    /// A uniform integer in `0..<bound` (Lemire's multiply-shift; the tiny bias is irrelevant here).
    @inline(__always)
    package mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "SimRNG.below needs a positive bound, got \(bound)")
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// A uniform integer in `range` (both ends included).
    @inline(__always)
    package mutating func uniform(_ range: ClosedRange<Int64>) -> Int64 {
        let width = UInt64(bitPattern: range.upperBound &- range.lowerBound) &+ 1
        if width == 0 { return Int64(bitPattern: next()) }
        return range.lowerBound &+ Int64(bitPattern: next().multipliedFullWidth(by: width).high)
    }

    /// True with probability `perMillion` / 1,000,000.
    @inline(__always)
    package mutating func chance(perMillion: Int) -> Bool {
        perMillion > 0 && below(1_000_000) < perMillion
    }
}
