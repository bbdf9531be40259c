import BizraConfig
import BizraCrypto
import Foundation
import Testing

@testable import BizraBus

/// Keys, principals and instants shared by the bus tests. Every key derives from a fixed seed,
/// so frames (and their Ed25519 signatures, which are deterministic) are the same on every run.
enum Fixture {
    /// The seed of the key that signs the seed corpus and the worked example in docs/PROTOCOL.md:
    /// the 32 bytes 0x00, 0x01, …, 0x1f.
    static let seed: [UInt8] = Array(0...31)
    static let key = try! Ed25519.KeyPair(seed: seed)
    static let otherKey = try! Ed25519.KeyPair(seed: [UInt8](repeating: 0xA5, count: 32))

    static let worker = Principal(node: "n1", component: "worker", instance: 0)
    static let core = Principal(node: "n1", component: "core", instance: 0)
    static let client = Principal(node: "client", component: "cli", instance: 0)
    static let stranger = Principal(node: "n9", component: "intruder", instance: 0)

    /// 2023-11-14T22:13:20Z in microseconds; every test clock starts here.
    static let now: Int64 = 1_700_000_000_000_000
    static let epoch: UInt64 = 1_699_999_000_000_000

    static let allowAll = TopicACL(rules: [TopicRule(topicPrefix: "", publishers: ["*"])])

    /// A keyring holding `key` under every name of the principals above except `stranger`.
    static func keyring(_ names: [String] = ["n1/worker", "n1/core", "client/cli", "n2/worker", "n2/compression"])
        -> Keyring
    {
        var ring = Keyring()
        for name in names { ring.add(name: name, publicKey: key.publicKey) }
        return ring
    }

    static func verifier(
        acl: TopicACL = allowAll, settings: BusSettings = .defaults, keyring: Keyring = keyring()
    ) -> TestVerifier {
        TestVerifier(FrameVerifier(keyring: keyring, acl: acl, settings: settings))
    }

    static func limits(_ settings: BusSettings = .defaults) -> FrameLimits {
        FrameLimits(maxFrameBytes: settings.maxFrameBytes, maxBatchEnvelopes: settings.maxBatchEnvelopes)
    }

    /// A small signed frame: one message envelope from `sender`.
    static func signed(
        from sender: Principal = worker, epoch: UInt64 = epoch, sequence: UInt64 = 1, at timestamp: Int64 = now,
        to destination: Destination = .service(node: "n1", name: "worker"),
        records: [Frame.Record] = [Frame.Record(kind: .message, type: "t", payload: [1, 2, 3])],
        compressed: Bool = false, key: Ed25519.KeyPair = key, limits: FrameLimits = limits()
    ) -> [UInt8] {
        let frame = Frame(
            sender: sender, epoch: epoch, firstSequence: sequence, timestampMicros: timestamp,
            destination: destination, records: records, compressed: compressed)
        return try! frame.encodeSigned(with: key, limits: limits)
    }

    /// `bytes` with its last 64 bytes replaced by a valid signature of the rest: a frame that is
    /// structurally whatever the test made it, yet signed, so the check under test is reached.
    static func resigned(_ bytes: [UInt8], key: Ed25519.KeyPair = key) -> [UInt8] {
        let message = Array(bytes.dropLast(Frame.signatureBytes))
        return message + key.sign(message)
    }

    /// Records whose payloads compress well (a repeated phrase).
    static func compressibleRecords(_ count: Int, payloadBytes: Int = 300) -> [Frame.Record] {
        let phrase = Array("the quick brown fox jumps over the lazy dog. ".utf8)
        return (0..<count).map { index in
            let payload = (0..<payloadBytes).map { phrase[($0 + index) % phrase.count] }
            return Frame.Record(kind: .message, type: "log.line", correlation: UInt64(index), payload: payload)
        }
    }
}

/// A `FrameVerifier` in a box, so that a test can verify inside `#expect` (which cannot call a
/// mutating method) and a fresh verifier can be made and used in one expression.
final class TestVerifier {
    var verifier: FrameVerifier

    init(_ verifier: FrameVerifier) { self.verifier = verifier }

    var limits: FrameLimits { verifier.limits }

    func verify(_ bytes: [UInt8], nowMicros: Int64) throws(FrameError) -> FrameVerifier.Verified {
        try verifier.verify(bytes, nowMicros: nowMicros)
    }

    /// The reject reason of `bytes` at `now`, or nil when the frame was accepted.
    func rejectReason(_ bytes: [UInt8], now: Int64 = Fixture.now) -> RejectReason? {
        do {
            _ = try verifier.verify(bytes, nowMicros: now)
            return nil
        } catch {
            return error.reason
        }
    }

    /// The sequence gap of an accepted frame; records an issue and returns nil when it is rejected.
    func accepted(_ bytes: [UInt8], now: Int64 = Fixture.now, sourceLocation: SourceLocation = #_sourceLocation)
        -> UInt64?
    {
        do {
            return try verifier.verify(bytes, nowMicros: now).sequenceGap
        } catch {
            Issue.record("frame rejected: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}

/// SplitMix64: a small seeded generator, so every property-test failure replays from its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
