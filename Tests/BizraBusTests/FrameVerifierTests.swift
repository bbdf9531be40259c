import BizraConfig
import BizraCrypto
import Testing

@testable import BizraBus

/// The verifier's checks in order: size and syntax, known key, timestamp, signature, ACL, body,
/// replay window.
@Suite struct FrameVerifierTests {
    @Test func replayedFrameIsRejectedAsReplay() {
        let verifier = Fixture.verifier()
        let frame = Fixture.signed()
        #expect(verifier.rejectReason(frame) == nil)
        #expect(verifier.rejectReason(frame) == .replay)
        #expect(verifier.rejectReason(frame, now: Fixture.now + 1_000_000) == .replay)
    }

    @Test func sequenceBehindTheWindowIsTooOld() {
        var settings = BusSettings.defaults
        settings.replayWindow = 64
        let verifier = Fixture.verifier(settings: settings)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 100)) == nil)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 36)) == .tooOld)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 37)) == nil, "the oldest number inside the window")
        #expect(verifier.rejectReason(Fixture.signed(sequence: 37)) == .replay)
    }

    @Test func replayWindowThatIsNotAMultipleOf64IsRoundedUpNotATrap() {
        var settings = BusSettings.defaults
        settings.replayWindow = 100
        let verifier = Fixture.verifier(settings: settings)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 200)) == nil)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 72)) == .tooOld)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 73)) == nil, "the window holds 128 numbers")
    }

    @Test func timestampBeyondMaxClockSkewIsTooOld() {
        let skew = Int64(BusSettings.defaults.maxClockSkewMillis) * 1000
        let verifier = Fixture.verifier()
        #expect(verifier.rejectReason(Fixture.signed(sequence: 1, at: Fixture.now - skew - 1)) == .tooOld)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 2, at: Fixture.now + skew + 1)) == .tooOld)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 3, at: Fixture.now - skew)) == nil)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 4, at: Fixture.now + skew)) == nil)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 5, at: .min)) == .tooOld)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 6, at: .max)) == .tooOld)
    }

    @Test func extremeTimestampsAgainstAnyClockAreRefusedWithoutATrap() {
        // now - timestamp may be exactly Int64.min, whose absolute value does not exist.
        let verifier = Fixture.verifier()
        #expect(verifier.rejectReason(Fixture.signed(at: .max), now: -1) == .tooOld)
        #expect(verifier.rejectReason(Fixture.signed(at: .min), now: 1) == .tooOld)
        #expect(verifier.rejectReason(Fixture.signed(at: .min), now: .max) == .tooOld)
    }

    @Test func unknownSenderKeyIsUnknownKey() {
        let verifier = Fixture.verifier()
        #expect(verifier.rejectReason(Fixture.signed(from: Fixture.stranger)) == .unknownKey)
        verifier.verifier.keyring.add(name: Fixture.stranger.keyName, publicKey: Fixture.key.publicKey)
        #expect(verifier.rejectReason(Fixture.signed(from: Fixture.stranger)) == nil)
    }

    @Test func topicNotAllowedByTheConfiguredACLIsAclDenied() {
        // The embedded default: `bus.` only from cores, `raft.` only from consensus, the rest from anyone.
        let verifier = Fixture.verifier(acl: MeshConfig.embeddedDefault().acl)
        let denied = Fixture.signed(to: .topic("bus.heartbeat", scope: .local))
        #expect(verifier.rejectReason(denied) == .aclDenied)
        #expect(
            verifier.rejectReason(Fixture.signed(sequence: 2, to: .topic("raft.append", scope: .cluster))) == .aclDenied
        )
        #expect(verifier.rejectReason(Fixture.signed(sequence: 3, to: .topic("jobs.done", scope: .local))) == nil)
        #expect(
            verifier.rejectReason(Fixture.signed(from: Fixture.core, to: .topic("bus.heartbeat", scope: .local))) == nil
        )
        // Directed frames are not subject to the topic ACL.
        #expect(verifier.rejectReason(Fixture.signed(sequence: 1, to: .service(node: "n1", name: "bus.x"))) == nil)
        // A denied frame did not consume its sequence number.
        #expect(verifier.rejectReason(Fixture.signed(sequence: 1, to: .topic("jobs.more", scope: .local))) == nil)
    }

    @Test func restartedSenderWithALargerEpochIsAcceptedAndItsOldEpochIsThenAReplay() {
        let verifier = Fixture.verifier()
        let oldEpoch = Fixture.epoch
        let newEpoch = Fixture.epoch + 5_000_000
        for sequence in 1...3 as ClosedRange<UInt64> {
            #expect(verifier.rejectReason(Fixture.signed(epoch: oldEpoch, sequence: sequence)) == nil)
        }
        #expect(verifier.rejectReason(Fixture.signed(epoch: newEpoch, sequence: 1)) == nil)
        #expect(verifier.rejectReason(Fixture.signed(epoch: newEpoch, sequence: 2)) == nil)
        #expect(verifier.rejectReason(Fixture.signed(epoch: oldEpoch, sequence: 4)) == .replay)
        #expect(verifier.rejectReason(Fixture.signed(epoch: newEpoch, sequence: 1)) == .replay)
    }

    @Test func outOfOrderSequenceNumbersInsideTheWindowAreAcceptedOnceEach() {
        let verifier = Fixture.verifier()
        let order: [UInt64] = [5, 3, 4, 1, 2, 9, 7, 8, 6]
        for sequence in order { #expect(verifier.rejectReason(Fixture.signed(sequence: sequence)) == nil) }
        for sequence in order { #expect(verifier.rejectReason(Fixture.signed(sequence: sequence)) == .replay) }
    }

    @Test func verifierReportsTheSequenceGapBeforeEachFrame() {
        let verifier = Fixture.verifier()
        #expect(verifier.accepted(Fixture.signed(sequence: 1)) == 0)
        #expect(verifier.accepted(Fixture.signed(sequence: 5)) == 3)
        #expect(verifier.accepted(Fixture.signed(sequence: 3)) == 0, "a late frame fills a gap, it opens none")
        #expect(verifier.accepted(Fixture.signed(sequence: 6, records: Fixture.compressibleRecords(4))) == 0)
        #expect(verifier.accepted(Fixture.signed(sequence: 12)) == 2)
    }

    @Test func directedAndTopicStreamsHaveSeparateSequenceSpaces() {
        let verifier = Fixture.verifier()
        let directed = Fixture.signed(sequence: 1, to: .instance(Fixture.core))
        let topic = Fixture.signed(sequence: 1, to: .topic("jobs", scope: .local))
        #expect(verifier.rejectReason(directed) == nil)
        #expect(verifier.rejectReason(topic) == nil)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 1, to: .service(node: "n1", name: "x"))) == .replay)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 1, to: .topic("other", scope: .cluster))) == .replay)
        // Instances of one component share a key but not a stream.
        let second = Principal(node: "n1", component: "worker", instance: 1)
        #expect(verifier.rejectReason(Fixture.signed(from: second, sequence: 1, to: .instance(Fixture.core))) == nil)
    }

    @Test func batchWhoseRangeOverlapsAcceptedNumbersIsAReplayAndConsumesNothing() {
        let verifier = Fixture.verifier()
        #expect(verifier.rejectReason(Fixture.signed(sequence: 3)) == nil)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 1, records: Fixture.compressibleRecords(4))) == .replay)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 1, records: Fixture.compressibleRecords(2))) == nil)
        #expect(verifier.rejectReason(Fixture.signed(sequence: 4)) == nil)
    }

    @Test func sequenceZeroIsNeverAccepted() {
        let verifier = Fixture.verifier()
        #expect(verifier.rejectReason(Fixture.signed(sequence: 0)) == .replay)
    }

    @Test func sequenceNumbersUpToUInt64MaxAreAcceptedWithoutATrap() {
        let verifier = Fixture.verifier()
        #expect(verifier.rejectReason(Fixture.signed(sequence: .max - 5)) == nil)
        #expect(verifier.rejectReason(Fixture.signed(sequence: .max)) == nil)
        #expect(verifier.rejectReason(Fixture.signed(sequence: .max - 1)) == nil)
        #expect(verifier.rejectReason(Fixture.signed(sequence: .max)) == .replay)
        // A batch whose numbers would wrap past UInt64.max is refused.
        #expect(
            verifier.rejectReason(Fixture.signed(sequence: .max - 2, records: Fixture.compressibleRecords(4))) != nil)
    }

    @Test func fullReplayTableRefusesANewSenderAsOverloadedUntilAnIdleOneCanBeForgotten() {
        let verifier = Fixture.verifier()
        let forget = 2 * verifier.verifier.maxSkewMicros
        verifier.verifier.replay = ReplayTable(windowSize: 64, maxSenders: 1, forgetAfterMicros: forget)
        #expect(verifier.rejectReason(Fixture.signed(from: Fixture.worker)) == nil)
        #expect(verifier.rejectReason(Fixture.signed(from: Fixture.client)) == .overloaded)
        // Once the worker is idle past the bound, its window may go: its old frames are now too
        // old by timestamp alone, so forgetting it does not reopen them to replay.
        let later = Fixture.now + forget + 1
        #expect(verifier.rejectReason(Fixture.signed(from: Fixture.client, at: later), now: later) == nil)
        #expect(verifier.rejectReason(Fixture.signed(from: Fixture.worker), now: later) == .tooOld)
    }

    @Test func everyRejectReasonIsProducedByTheVerifier() {
        var settings = BusSettings.defaults
        settings.maxFrameBytes = 1024
        var produced: Set<RejectReason> = []
        func note(_ reason: RejectReason?) { if let reason { produced.insert(reason) } }
        let verifier = Fixture.verifier(acl: MeshConfig.embeddedDefault().acl, settings: settings)
        note(verifier.rejectReason(Fixture.signed(key: Fixture.otherKey)))
        note(verifier.rejectReason(Fixture.signed(from: Fixture.stranger)))
        note(verifier.rejectReason(Fixture.signed(sequence: 1)))
        note(verifier.rejectReason(Fixture.signed(sequence: 1)))
        note(verifier.rejectReason(Fixture.signed(sequence: 2, at: Fixture.now - 31_000_000)))
        note(verifier.rejectReason([UInt8](repeating: 0, count: 1025)))
        note(verifier.rejectReason(Array("BZ".utf8)))
        note(verifier.rejectReason(Fixture.signed(sequence: 3, to: .topic("bus.x", scope: .local))))
        verifier.verifier.replay = ReplayTable(windowSize: 64, maxSenders: 0, forgetAfterMicros: 0)
        note(verifier.rejectReason(Fixture.signed(from: Fixture.client)))
        #expect(produced == Set(RejectReason.allCases))
    }
}
