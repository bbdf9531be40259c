import BizraConfig
import BizraCrypto
import Testing

@testable import BizraBus

/// Damaged, forged and hostile frames are refused with a reason, and never trap.
@Suite struct FrameTamperTests {
    static let tamperReasons: Set<RejectReason> = [.badSignature, .malformed, .unknownKey, .tooOld, .oversized]

    @Test func everySingleBitFlipOfASignedFrameIsRejected() {
        let frame = Fixture.signed(to: .topic("jobs", scope: .cluster))
        #expect(Fixture.verifier().rejectReason(frame) == nil)
        var seen: Set<RejectReason> = []
        for bit in 0..<frame.count * 8 {
            var flipped = frame
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            let reason = Fixture.verifier().rejectReason(flipped)
            #expect(reason.map(Self.tamperReasons.contains) == true, "bit \(bit): \(String(describing: reason))")
            if let reason { seen.insert(reason) }
        }
        #expect(seen.isSuperset(of: [.badSignature, .malformed, .unknownKey, .tooOld]))
    }

    @Test func everySingleBitFlipOfACompressedBatchFrameIsRejected() {
        let frame = Fixture.signed(
            from: Fixture.client, to: .instance(Fixture.worker),
            records: Fixture.compressibleRecords(3, payloadBytes: 120),
            compressed: true)
        #expect(frame[3] == Frame.flagBatch | Frame.flagLZ4)
        #expect(Fixture.verifier().rejectReason(frame) == nil)
        for bit in 0..<frame.count * 8 {
            var flipped = frame
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            let reason = Fixture.verifier().rejectReason(flipped)
            #expect(reason.map(Self.tamperReasons.contains) == true, "bit \(bit): \(String(describing: reason))")
        }
    }

    @Test func frameTruncatedAtEveryLengthIsMalformedNeverATrap() {
        let limits = Fixture.limits()
        for frame in [
            Fixture.signed(), Fixture.signed(records: Fixture.compressibleRecords(4), compressed: true),
            Fixture.signed(to: .instance(Fixture.core)),
        ] {
            for length in 0..<frame.count {
                let cut = Array(frame.prefix(length))
                #expect(throws: FrameError.self) { try ParsedFrame.parse(cut, limits: limits) }
                let reason = Fixture.verifier().rejectReason(cut)
                #expect(reason == .malformed || reason == .oversized, "length \(length): \(String(describing: reason))")
            }
        }
    }

    @Test func frameLargerThanMaxFrameBytesIsOversized() {
        var settings = BusSettings.defaults
        settings.maxFrameBytes = 1024
        let big = Fixture.signed(records: [
            Frame.Record(kind: .message, type: "t", payload: [UInt8](repeating: 7, count: 1100))
        ])
        #expect(Fixture.verifier(settings: settings).rejectReason(big) == .oversized)
        #expect(Fixture.verifier().rejectReason(big) == nil)
        // Size is checked before anything else: even garbage of that size is oversized, not malformed.
        #expect(Fixture.verifier(settings: settings).rejectReason([UInt8](repeating: 0, count: 1025)) == .oversized)
    }

    @Test func batchFlagThatDisagreesWithTheEnvelopeCountIsMalformed() {
        let batch = Fixture.signed(records: Fixture.compressibleRecords(2, payloadBytes: 4))
        #expect(batch[3] == Frame.flagBatch)
        var unflagged = batch
        unflagged[3] = 0
        #expect(Fixture.verifier().rejectReason(Fixture.resigned(unflagged)) == .malformed)
        var single = Fixture.signed()
        #expect(single[3] == 0)
        single[3] = Frame.flagBatch
        #expect(Fixture.verifier().rejectReason(Fixture.resigned(single)) == .malformed)
    }

    @Test func signedButStructurallyBadFramesAreMalformed() {
        let frame = Fixture.signed()
        // Offsets of the fixed header (docs/PROTOCOL.md §2).
        let edits: [(String, ([UInt8]) -> [UInt8])] = [
            (
                "bad magic",
                {
                    var b = $0; b[0] = 0x43; return b
                }
            ),
            (
                "version 2",
                {
                    var b = $0; b[2] = 2; return b
                }
            ),
            (
                "unknown flag bit",
                {
                    var b = $0; b[3] = 0x04; return b
                }
            ),
            (
                "count 0",
                {
                    var b = $0; b[28] = 0; b[29] = 0; return b
                }
            ),
            (
                "count 65",
                {
                    var b = $0; b[29] = 65; b[3] = Frame.flagBatch; return b
                }
            ),
            ("trailing byte before the signature", { $0.dropLast(64) + [0] + $0.suffix(64) }),
            (
                "unknown envelope kind",
                {
                    var b = $0; b[b.count - 64 - 3 - 4 - 8 - 2 - 1] = 9; return b
                }
            ),
            (
                "invalid UTF-8 in the type",
                {
                    var b = $0; b[b.count - 64 - 3 - 4 - 8 - 1] = 0xFF; return b
                }
            ),
        ]
        for (name, edit) in edits {
            #expect(Fixture.verifier().rejectReason(Fixture.resigned(edit(frame))) == .malformed, "\(name)")
        }
    }

    @Test func lz4FlagOnARawBodyOrGarbageBlockIsMalformed() {
        let packed = Fixture.signed(records: Fixture.compressibleRecords(8), compressed: true)
        let parsed = try! ParsedFrame.parse(packed, limits: Fixture.limits())
        var garbage = packed
        for index in parsed.bodyRange { garbage[index] = 0xFF }
        #expect(Fixture.verifier().rejectReason(Fixture.resigned(garbage)) == .malformed)
        // A raw length no larger than the block, or larger than maxFrameBytes, is refused by parse.
        let rawLengthOffset = parsed.bodyRange.lowerBound - 4
        var small = packed
        small.replaceSubrange(rawLengthOffset..<rawLengthOffset + 4, with: [0, 0, 0, 1])
        #expect(Fixture.verifier().rejectReason(Fixture.resigned(small)) == .malformed)
        var huge = packed
        huge.replaceSubrange(rawLengthOffset..<rawLengthOffset + 4, with: [0x7F, 0xFF, 0xFF, 0xFF])
        #expect(Fixture.verifier().rejectReason(Fixture.resigned(huge)) == .malformed)
    }

    @Test func frameSignedByAnotherKeyIsBadSignature() {
        let forged = Fixture.signed(key: Fixture.otherKey)
        #expect(Fixture.verifier().rejectReason(forged) == .badSignature)
    }

    @Test func garbageOfEveryShortLengthIsMalformed() {
        var rng = SplitMix64(seed: 7)
        for length in 0..<300 {
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if length >= 2 { bytes[0] = 0x42; bytes[1] = 0x5A }
            if length >= 3 { bytes[2] = 1 }
            #expect(Fixture.verifier().rejectReason(bytes) != nil)
        }
    }
}
