import Testing

@testable import BizraBus

@Suite struct DedupeCacheTests {
    static func key(_ correlation: UInt64, epoch: UInt64 = 1) -> DedupeCache.Key {
        DedupeCache.Key(sender: Fixture.client, epoch: epoch, correlation: correlation)
    }

    @Test func requestIsInProgressThenDoneWithItsReply() {
        var cache = DedupeCache()
        #expect(cache.lookup(Self.key(1)) == nil)
        cache.begin(Self.key(1))
        guard case .inProgress? = cache.lookup(Self.key(1)) else {
            Issue.record("expected inProgress")
            return
        }
        let reply = Frame.Record(kind: .reply, type: "worker.work", correlation: 1, payload: [7])
        cache.finish(Self.key(1), reply: [reply])
        guard case .done(let records)? = cache.lookup(Self.key(1)) else {
            Issue.record("expected done")
            return
        }
        #expect(records == [reply])
        #expect(cache.lookup(Self.key(1, epoch: 2)) == nil, "a new epoch is a new requester")
    }

    @Test func finishingAnUnknownKeyStoresNothing() {
        var cache = DedupeCache()
        cache.finish(Self.key(5), reply: [])
        #expect(cache.lookup(Self.key(5)) == nil)
    }

    @Test func cacheIsBoundedAndEvictsTheOldestFirst() {
        var cache = DedupeCache()
        let total = UInt64(DedupeCache.entriesMax) * 3 + 17
        for correlation in 1...total { cache.begin(Self.key(correlation)) }
        let kept = (1...total).filter { cache.lookup(Self.key($0)) != nil }
        #expect(kept.count == DedupeCache.entriesMax)
        #expect(kept.first == total - UInt64(DedupeCache.entriesMax) + 1)
        #expect(kept.last == total)
    }
}
