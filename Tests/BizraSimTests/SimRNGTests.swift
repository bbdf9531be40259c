import Testing

@testable import BizraSim

@Suite struct SimRNGTests {
    @Test func sameSeedGivesSameSequence() {
        var a = SimRNG(seed: 42)
        var b = SimRNG(seed: 42)
        for _ in 0..<1_000 {
            let (x, y) = (a.next(), b.next())
            #expect(x == y)
        }
    }

    @Test func differentSeedsDiffer() {
        var a = SimRNG(seed: 1)
        var b = SimRNG(seed: 2)
        let drawsA = (0..<16).map { _ in a.next() }
        let drawsB = (0..<16).map { _ in b.next() }
        #expect(drawsA != drawsB)
    }

    /// A subsystem drawing more numbers must not change what another subsystem draws.
    @Test func forksAreIndependentOfEachOtherAndOfTheParent() {
        let root = SimRNG(seed: 7)
        var network = root.fork(stream: 1)
        let expected = (0..<8).map { _ in network.next() }
        var parent = root
        var disk = parent.fork(stream: 2)
        for _ in 0..<10_000 { _ = disk.next() }
        for _ in 0..<10_000 { _ = parent.next() }
        var networkAgain = parent.fork(stream: 1)
        let again = (0..<8).map { _ in networkAgain.next() }
        #expect(again == expected)
        #expect(root.fork(stream: 1).seed != root.fork(stream: 2).seed)
    }

    @Test func boundedDrawsStayInRange() {
        var rng = SimRNG(seed: 3)
        var seen = Set<Int64>()
        for _ in 0..<10_000 {
            let value = rng.uniform(-3...3)
            #expect((-3...3).contains(value))
            seen.insert(value)
            let small = rng.below(5)
            #expect((0..<5).contains(small))
        }
        #expect(seen.count == 7)
        let never = rng.chance(perMillion: 0)
        let always = rng.chance(perMillion: 1_000_000)
        #expect(!never && always)
    }

    /// Golden values: if the generator changes, every recorded seed stops replaying.
    @Test func outputIsStableAcrossVersions() {
        var rng = SimRNG(seed: 0)
        let first = rng.next()
        var again = SimRNG(seed: 0)
        let repeated = again.next()
        #expect(repeated == first)
        var mixer: UInt64 = 0
        let mixed = SimRNG.splitMix64(&mixer)
        #expect(mixed == 0xE220_A839_7B1D_CDAF)
    }
}
