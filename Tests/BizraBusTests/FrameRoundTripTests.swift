import BizraConfig
import BizraCrypto
import Testing

@testable import BizraBus

/// Random frames through `Frame.encodeSigned` → `FrameVerifier.verify` come back as the same
/// envelopes: every destination kind, batches of 1...64, payloads of 0...4 KiB, with and
/// without LZ4, names with multi-byte UTF-8.
@Suite struct FrameRoundTripTests {
    static let senders = [
        Fixture.worker, Principal(node: "n2", component: "worker", instance: 3), Fixture.client,
        Principal(node: "n2", component: "compression", instance: 65_535),
    ]

    @Test(arguments: [1 as UInt64, 2, 3, 4])
    func randomFramesSurviveSigningAndVerificationUnchanged(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let verifier = Fixture.verifier()
        var nextSequence: [String: UInt64] = [:]
        for _ in 0..<60 {
            var frame = Self.randomFrame(&rng)
            let stream = "\(frame.sender) \(frame.destination.node == nil)"
            frame.firstSequence = nextSequence[stream, default: 1]
            nextSequence[stream] = frame.firstSequence + UInt64(frame.records.count)
            let bytes = try frame.encodeSigned(with: Fixture.key, limits: verifier.limits)
            let verified = try verifier.verify(bytes, nowMicros: Fixture.now)
            #expect(verified.frame.envelopes == frame.envelopes)
            #expect(verified.frame.records == frame.records)
            #expect(verified.sequenceGap == 0)
            #expect(verified.parsed.bytes == bytes)
            let wireCompressed = verified.parsed.flags & Frame.flagLZ4 != 0
            #expect(verified.frame.compressed == wireCompressed)
            #expect(!wireCompressed || frame.compressed, "only frames asked to compress are compressed")
            #expect((verified.parsed.flags & Frame.flagBatch != 0) == (frame.records.count > 1))
        }
    }

    @Test func compressibleBatchesAreCompressedOnTheWireAndSmaller() throws {
        let records = Fixture.compressibleRecords(32)
        let plain = Fixture.signed(records: records)
        let packed = Fixture.signed(records: records, compressed: true)
        #expect(packed.count < plain.count / 4)
        #expect(packed[3] == Frame.flagBatch | Frame.flagLZ4)
        let verifier = Fixture.verifier()
        let verified = try verifier.verify(packed, nowMicros: Fixture.now)
        #expect(verified.frame.records == records)
        #expect(verified.frame.compressed)
    }

    @Test func incompressibleBodyAskedToCompressIsSentRaw() throws {
        var rng = SplitMix64(seed: 99)
        let payload = (0..<512).map { _ in UInt8.random(in: 0...255, using: &rng) }
        // No run of 4 equal bytes anywhere in the body (LZ4's shortest match), so nothing to gain.
        let record = Frame.Record(kind: .message, type: "r", correlation: 0x0123_4567_89AB_CDEF, payload: payload)
        let bytes = Fixture.signed(records: [record], compressed: true)
        #expect(bytes[3] & Frame.flagLZ4 == 0)
        let verifier = Fixture.verifier()
        #expect(try verifier.verify(bytes, nowMicros: Fixture.now).frame.records[0].payload == payload)
    }

    @Test func framesThatCannotBeEncodedThrowInsteadOfTrapping() {
        let long = String(repeating: "x", count: 256)
        let cases: [Frame] = [
            Frame(
                sender: Fixture.worker, epoch: 1, firstSequence: 1, timestampMicros: 0,
                destination: .topic("t", scope: .local), records: []),
            Frame(
                sender: Fixture.worker, epoch: 1, firstSequence: 1, timestampMicros: 0,
                destination: .topic(long, scope: .local),
                records: [Frame.Record(kind: .message, type: "t", payload: [])]),
            Frame(
                sender: Fixture.worker, epoch: 1, firstSequence: 1, timestampMicros: 0,
                destination: .topic("t", scope: .local),
                records: Array(repeating: Frame.Record(kind: .message, type: "t", payload: []), count: 65)),
            Frame(
                sender: Fixture.worker, epoch: 1, firstSequence: 1, timestampMicros: 0,
                destination: .topic("t", scope: .local),
                records: [Frame.Record(kind: .message, type: "t", payload: [UInt8](repeating: 1, count: 2000))]),
        ]
        for frame in cases {
            #expect(throws: FrameBuildError.self) {
                try frame.encodeSigned(
                    with: Fixture.key, limits: FrameLimits(maxFrameBytes: 1024, maxBatchEnvelopes: 64))
            }
        }
    }

    // MARK: generators

    static func randomFrame(_ rng: inout SplitMix64) -> Frame {
        let count = Int.random(in: 1...64, using: &rng)
        let records = (0..<count).map { _ in randomRecord(&rng, payloadBytesMax: count > 16 ? 1024 : 4096) }
        return Frame(
            sender: senders.randomElement(using: &rng)!, epoch: Fixture.epoch, firstSequence: 1,
            timestampMicros: Fixture.now + Int64.random(in: -29_000_000...29_000_000, using: &rng),
            destination: randomDestination(&rng), records: records, compressed: Bool.random(using: &rng))
    }

    static func randomDestination(_ rng: inout SplitMix64) -> Destination {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0:
            .instance(
                Principal(
                    node: randomName(&rng), component: randomName(&rng), instance: UInt32.random(in: 0...9, using: &rng)
                ))
        case 1: .service(node: randomName(&rng), name: randomName(&rng))
        default: .topic(randomName(&rng), scope: Bool.random(using: &rng) ? .local : .cluster)
        }
    }

    static func randomRecord(_ rng: inout SplitMix64, payloadBytesMax: Int) -> Frame.Record {
        let length = Int.random(in: 0...payloadBytesMax, using: &rng)
        let payload: [UInt8]
        if Bool.random(using: &rng) {
            payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
        } else {
            let period = Int.random(in: 1...16, using: &rng)
            payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 % period) }
        }
        return Frame.Record(
            kind: EnvelopeKind(rawValue: UInt8.random(in: 0...3, using: &rng))!, type: randomName(&rng),
            correlation: UInt64.random(in: 0...UInt64.max, using: &rng), payload: payload)
    }

    /// 0...24 characters, some of them multi-byte UTF-8; occasionally the longest allowed (255 bytes).
    static func randomName(_ rng: inout SplitMix64) -> String {
        if Int.random(in: 0..<20, using: &rng) == 0 { return String(repeating: "é", count: 127) + "x" }
        let alphabet: [Character] = Array("abcdefghijklmnopqrstuvwxyz0123456789._-/") + ["é", "λ", "🛰"]
        let length = Int.random(in: 0...24, using: &rng)
        return String((0..<length).map { _ in alphabet.randomElement(using: &rng)! })
    }
}
