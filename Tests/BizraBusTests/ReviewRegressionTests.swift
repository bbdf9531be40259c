import BizraConfig
import Testing

@testable import BizraBus

/// Regressions for defects found in review: each test fails on the code before its fix.
struct ReviewRegressionTests {
    @Test func aSequenceGapBeyondIntMaxIsCountedWithoutTrapping() {
        let counters = CoreCounters()
        counters.accepted(envelopes: 1, gap: UInt64.max, verifyNanos: 1)
        counters.accepted(envelopes: 1, gap: UInt64.max, verifyNanos: 1)
        #expect(counters.totals.withLock { $0.gaps } == Int.max)
    }

    @Test func aFrameWithAHugeFirstSequenceIsAcceptedAndItsGapCounted() throws {
        var verifier = FrameVerifier(keyring: Fixture.keyring(), acl: Fixture.allowAll, settings: .defaults)
        let verified = try verifier.verify(Fixture.signed(sequence: UInt64(Int64.max) + 10), nowMicros: Fixture.now)
        let counters = CoreCounters()
        counters.accepted(envelopes: 1, gap: verified.sequenceGap, verifyNanos: 1)
        #expect(verified.sequenceGap > UInt64(Int.max))
    }

    @Test func framesSignedBeforeTheCoreStartedAreRefusedAsTooOld() throws {
        var verifier = FrameVerifier(keyring: Fixture.keyring(), acl: Fixture.allowAll, settings: .defaults)
        verifier.notBeforeMicros = Fixture.now
        #expect(throws: FrameError.self) {
            try verifier.verify(Fixture.signed(at: Fixture.now - 1), nowMicros: Fixture.now)
        }
        let accepted = try verifier.verify(Fixture.signed(sequence: 2, at: Fixture.now), nowMicros: Fixture.now)
        #expect(accepted.parsed.firstSequence == 2)
    }

    @Test func aSenderSilentPastTheSkewBoundStartsAFreshWindowEvenWithAnOlderEpoch() {
        var table = ReplayTable(windowSize: 64, maxSenders: 8, forgetAfterMicros: 1000)
        let newer = try! ParsedFrame.parse(Fixture.signed(epoch: 200, sequence: 5), limits: Fixture.limits())
        let older = try! ParsedFrame.parse(Fixture.signed(epoch: 100, sequence: 1), limits: Fixture.limits())
        #expect(table.offer(newer, nowMicros: 0) == .accept(gap: 4))
        #expect(table.offer(older, nowMicros: 10) != .accept(gap: 0))  // still live: stale epoch refused
        #expect(table.offer(older, nowMicros: 5000) == .accept(gap: 0))  // idle past the bound: fresh window
    }

    @Test func retriesOfARequestAreRememberedAgainstTheFirstInstanceWithinTheBound() {
        var affinity = RequestAffinity()
        let key = RequestAffinity.Key(sender: Fixture.client, epoch: 1, correlation: 7)
        affinity.remember(key, instance: Fixture.worker)
        #expect(affinity.instance(for: key) == Fixture.worker)
        for correlation in 8..<UInt64(8 + RequestAffinity.entriesMax) {
            affinity.remember(.init(sender: Fixture.client, epoch: 1, correlation: correlation), instance: Fixture.core)
        }
        #expect(affinity.instance(for: key) == nil, "the oldest entry is forgotten once the bound is reached")
    }

    @Test func theOutboundQueueRefusesPushesOnceClosed() {
        var queue = OutboundQueue(limit: 2)
        let item = OutboundQueue.Item(
            destination: .topic("t", scope: .local), record: Frame.Record(kind: .message, type: "t", payload: []))
        #expect(queue.push(item) == .accepted)
        #expect(queue.push(item) == .accepted)
        #expect(queue.push(item) == .full)
        queue.closed = true
        #expect(queue.push(item) == .closed)
    }
}
