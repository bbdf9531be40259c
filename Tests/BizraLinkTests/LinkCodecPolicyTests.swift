import BizraLink
import Testing

@Suite struct LinkCodecPolicyTests {
    @Test func anIdleLinkSendsRawAndABackloggedOneCompresses() {
        var policy = LinkCodecPolicy()
        let idle = policy.choose(frames: 1, backlogged: false, hasDictionary: true)
        let behind = policy.choose(frames: 30, backlogged: true, hasDictionary: false)
        let behindWithDictionary = policy.choose(frames: 30, backlogged: true, hasDictionary: true)
        #expect(idle == .none && behind == .lz4 && behindWithDictionary == .zstdDictionary)
    }

    @Test func incompressibleTrafficGoesRawWithAnOccasionalProbe() {
        var policy = LinkCodecPolicy()
        for _ in 0..<20 { policy.observe(codec: .lz4, blockBytes: 1000, wireBytes: 1001) }
        var chosen: [Link.Codec] = []
        for _ in 0..<LinkCodecPolicy.probeEveryBatches {
            chosen.append(policy.choose(frames: 50, backlogged: true, hasDictionary: false))
        }
        #expect(chosen.filter { $0 == .lz4 }.count == 1)
        #expect(chosen.last == .lz4)
        for _ in 0..<20 { policy.observe(codec: .lz4, blockBytes: 3000, wireBytes: 1000) }
        let recovered = policy.choose(frames: 50, backlogged: true, hasDictionary: false)
        #expect(recovered == .lz4)
    }

    @Test func fixedModesIgnoreBacklog() {
        var none = LinkCodecPolicy(mode: .none)
        var lz4 = LinkCodecPolicy(mode: .lz4)
        let off = none.choose(frames: 100, backlogged: true, hasDictionary: true)
        let on = lz4.choose(frames: 1, backlogged: false, hasDictionary: false)
        #expect(off == .none && on == .lz4)
    }
}
