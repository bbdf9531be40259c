import BizraCrypto
import BizraSim
import Testing

@testable import BizraRaft

/// Round trips of every message kind, and hostile bytes that must be refused without a trap.
@Suite struct RaftCodecTests {
    static func entry(_ g: inout SimRNG, index: Raft.Index) -> Raft.Entry {
        Raft.Entry(
            term: g.next() % 100, index: index, kind: [.normal, .leaderNoop, .configChange][g.below(3)],
            origin: .init(node: g.next() % 10, sequence: g.next()), payload: g.bytes(300), previous: g.digest())
    }

    static func metadata(_ g: inout SimRNG) -> Raft.SnapshotMetadata {
        var merkle = Raft.MerkleFrontier()
        let size = g.below(40)
        for _ in 0..<size { merkle.append(g.digest()) }
        let configuration = Raft.Configuration(
            voters: .init(
                incoming: .init([1: 3, 2: 1, 3: 1]), outgoing: g.below(2) == 0 ? .init() : .init([1: 1, 2: 1])),
            learners: g.below(2) == 0 ? [] : [7, 9])
        return Raft.SnapshotMetadata(
            index: UInt64(size), term: g.next() % 50, chainHead: g.digest(), configuration: configuration,
            merkle: merkle, dataHash: g.digest())
    }

    static func message(_ g: inout SimRNG) -> Raft.Message {
        let body: Raft.Message.Body
        switch g.below(14) {
        case 0:
            body = .voteRequest(
                .init(preVote: g.below(2) == 0, lastIndex: g.next(), lastTerm: g.next(), transfer: g.below(2) == 0))
        case 1: body = .voteResponse(preVote: g.below(2) == 0, granted: g.below(2) == 0)
        case 2:
            let first = g.next() % 1_000
            body = .append(
                .init(
                    prevIndex: first, prevTerm: g.next(), prevHash: g.digest(),
                    entries: (0..<g.below(5)).map { entry(&g, index: first + 1 + UInt64($0)) }, commit: g.next()))
        case 3:
            body = .appendResponse(
                .init(
                    index: g.next(), rejected: g.below(2) == 0, hintIndex: g.next(), hintTerm: g.next(),
                    chainBroken: g.below(2) == 0))
        case 4: body = .heartbeat(commit: g.next(), round: g.next())
        case 5: body = .heartbeatResponse(round: g.next())
        case 6:
            let data = g.bytes(500)
            let total = UInt64(data.count + g.below(100))
            body = .snapshotChunk(
                .init(metadata: metadata(&g), totalBytes: total, offset: total - UInt64(data.count), data: data))
        case 7:
            body = .snapshotResponse(
                index: g.next(), nextOffset: g.next(), done: g.below(2) == 0, rejected: g.below(2) == 0)
        case 8: body = .timeoutNow
        case 9:
            body = .forwardedProposals(
                (0..<g.below(4)).map { _ in
                    .init(
                        id: .init(node: g.next(), sequence: g.next()), kind: g.below(2) == 0 ? .normal : .configChange,
                        payload: g.bytes(50))
                })
        case 10: body = .proposalsDropped((0..<g.below(4)).map { _ in .init(node: g.next(), sequence: g.next()) })
        case 11: body = .readIndexRequest(context: g.next())
        case 12: body = .commitNotice(index: g.next(), term: g.next(), hash: g.digest())
        default: body = .readIndexResponse(context: g.next(), index: g.below(2) == 0 ? nil : g.next())
        }
        return Raft.Message(from: g.next() % 9 + 1, to: g.next() % 9 + 1, term: g.next() % 1_000, body: body)
    }

    @Test func everyMessageKindRoundTrips() throws {
        var g = SimRNG(seed: 42)
        var kinds = Set<UInt8>()
        for _ in 0..<3_000 {
            let message = Self.message(&g)
            kinds.insert(message.kindByte)
            let decoded = try Raft.Message(decoding: message.encoded)
            #expect(decoded == message)
        }
        #expect(kinds.count == 14)
    }

    @Test func truncatedOrExtendedMessagesAreRefusedWithTheField() {
        var g = SimRNG(seed: 7)
        for _ in 0..<500 {
            let bytes = Self.message(&g).encoded
            let cut = g.below(bytes.count)
            #expect(throws: Raft.CodecError.self) { try Raft.Message(decoding: Array(bytes[..<cut])) }
            #expect(throws: Raft.CodecError.self) { try Raft.Message(decoding: bytes + [0]) }
        }
    }

    @Test func randomBytesNeverTrap() {
        var g = SimRNG(seed: 99)
        var decoded = 0
        for _ in 0..<20_000 {
            var bytes = Self.message(&g).encoded
            for _ in 0..<(1 + g.below(4)) where !bytes.isEmpty {
                bytes[g.below(bytes.count)] ^= UInt8(1 + g.below(255))
            }
            if (try? Raft.Message(decoding: bytes)) != nil { decoded += 1 }
        }
        // Most single-byte flips land in integers and still decode; the point is that none traps.
        #expect(decoded > 0)
    }

    @Test func aCountLargerThanTheBytesIsRefusedBeforeAllocating() {
        var writer = Raft.ByteWriter()
        writer.u8(Raft.Codec.version)
        writer.u8(3)
        writer.u64(1)
        writer.u64(2)
        writer.u64(3)
        writer.u64(0)
        writer.u64(0)
        writer.digest(.zero)
        writer.u64(0)
        writer.u32(UInt32.max)
        #expect(throws: Raft.CodecError(field: "append.count", problem: "4294967295 entries do not fit")) {
            try Raft.Message(decoding: writer.bytes)
        }
    }

    @Test func snapshotsRoundTripAndRefuseDataThatDoesNotMatchTheDigest() throws {
        var g = SimRNG(seed: 5)
        var metadata = Self.metadata(&g)
        let data = g.bytes(1_000)
        metadata.dataHash = Raft.Snapshot.digest(of: data)
        let snapshot = Raft.Snapshot(metadata: metadata, data: data)
        var writer = Raft.ByteWriter()
        snapshot.encode(into: &writer)
        var reader = Raft.ByteReader(writer.bytes)
        #expect(try Raft.Snapshot.decode(from: &reader, dataBytesMax: 1 << 20) == snapshot)
        var tampered = writer.bytes
        tampered[tampered.count - 1] ^= 1
        var tamperedReader = Raft.ByteReader(tampered)
        #expect(throws: Raft.CodecError.self) { try Raft.Snapshot.decode(from: &tamperedReader, dataBytesMax: 1 << 20) }
    }

    /// Regression: each weight within `voterWeightMax` but a total above the quorum bound trapped
    /// in `MajorityConfig.init` (found by `randomBytesNeverTrap` with another seed).
    @Test func aConfigurationWhoseWeightsSumTooHighIsRefusedNotTrapped() throws {
        var writer = Raft.ByteWriter()
        writer.u8(2)
        for id: UInt64 in [1, 2] {
            writer.u64(id)
            writer.u64(Raft.Limits.voterWeightMax)
        }
        writer.u8(0)
        writer.u8(0)
        var reader = Raft.ByteReader(writer.bytes)
        #expect(throws: Raft.CodecError(field: "configuration.incoming", problem: "weights sum to 8589934592")) {
            try Raft.Configuration.decode(from: &reader)
        }
        let configuration = Raft.Configuration(weights: [1: Raft.Limits.voterWeightMax - 1, 2: 1])
        #expect(throws: Raft.ConfigChangeRefusal.weightTotal(8_589_934_591)) {
            try configuration.applying(.change([.setWeight(2, weight: Raft.Limits.voterWeightMax)]))
        }
    }

    @Test func configurationChangesRoundTrip() {
        let changes: [Raft.ConfigChange] = [
            .leaveJoint, .change([.addVoter(4, weight: 2), .remove(1), .addLearner(9), .setWeight(2, weight: 7)]),
        ]
        for change in changes { #expect(Raft.ConfigChange(decoding: change.encoded) == change) }
        #expect(Raft.ConfigChange(decoding: [0, 1, 9]) == nil)
        #expect(Raft.ConfigChange(decoding: []) == nil)
    }
}

/// Random fields for the codec cases, drawn from the simulator's seeded generator.
extension SimRNG {
    mutating func bytes(_ countMax: Int) -> [UInt8] {
        (0..<below(countMax + 1)).map { _ in UInt8(truncatingIfNeeded: next()) }
    }

    mutating func digest() -> Digest256 { Digest256(bytes: (0..<32).map { _ in UInt8(truncatingIfNeeded: next()) }) }
}
