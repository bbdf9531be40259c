import BizraConfig
import BizraCrypto
import Foundation
import Testing

@testable import BizraBus

/// The seed corpus of the frame fuzzer (`fuzz/corpus/frame/`), generated here from the fixed
/// seed key so that the fuzzer's keyring (Fuzz/Frame) accepts it and reaches the signature,
/// ACL, body and replay paths. Run with `BIZRA_REWRITE_FUZZ_CORPUS=1` to rewrite the files after
/// a deliberate change of the frame format; otherwise the test fails when they drift.
@Suite struct FrameSeedCorpusTests {
    static let directory = repositoryRoot.appendingPathComponent("fuzz/corpus/frame")

    static func frame(
        _ sender: Principal, _ sequence: UInt64, _ destination: Destination, _ records: [Frame.Record],
        compressed: Bool = false
    ) -> [UInt8] {
        Fixture.signed(
            from: sender, sequence: sequence, to: destination, records: records, compressed: compressed)
    }

    static func message(_ type: String, _ text: String) -> Frame.Record {
        Frame.Record(kind: .message, type: type, payload: Array(text.utf8))
    }

    /// Every seed, by file name.
    static func seeds() -> [(name: String, bytes: [UInt8])] {
        let register = RegisterRequest(services: ["worker"], pid: 4242, metricsPort: 9100, link: false)
        let failure = BusFailure(.noService, "no live instance of service worker on node n1").encoded()
        let batch = (0..<5).map { message("jobs.done", "{\"job\":\($0),\"ok\":true}") }
        let valid: [(String, [UInt8])] = [
            (
                "single-service-request",
                frame(
                    Fixture.client, 1, .service(node: "n1", name: "worker"),
                    [
                        Frame.Record(
                            kind: .request, type: "worker.work", correlation: 1, payload: Array("{\"n\":1}".utf8))
                    ])
            ),
            (
                "single-instance-reply",
                frame(
                    Fixture.worker, 1, .instance(Fixture.client),
                    [Frame.Record(kind: .reply, type: "worker.work", correlation: 1, payload: Array("done".utf8))])
            ),
            (
                "control-register-request",
                frame(
                    Fixture.worker, 2, .instance(Fixture.core),
                    [
                        Frame.Record(
                            kind: .request, type: ControlType.register, correlation: 1, payload: JSON.encode(register))
                    ])
            ),
            (
                "core-error-reply",
                frame(
                    Fixture.core, 1, .instance(Fixture.client),
                    [Frame.Record(kind: .errorReply, type: "worker.work", correlation: 1, payload: failure)])
            ),
            ("topic-local-message", frame(Fixture.worker, 1, .topic("jobs.done", scope: .local), [batch[0]])),
            ("topic-cluster-batch", frame(Fixture.worker, 2, .topic("jobs.done", scope: .cluster), batch)),
            (
                "lz4-batch-instance",
                frame(
                    Principal(node: "n2", component: "compression", instance: 0), 1,
                    .instance(Principal(node: "n1", component: "worker", instance: 1)),
                    Fixture.compressibleRecords(16, payloadBytes: 200), compressed: true)
            ),
            (
                "lz4-single-topic",
                frame(
                    Fixture.client, 1, .topic("logs", scope: .cluster),
                    Fixture.compressibleRecords(1, payloadBytes: 600),
                    compressed: true)
            ),
            (
                "max-batch-service",
                frame(
                    Fixture.client, 2, .service(node: "n2", name: "kv"),
                    (0..<64).map {
                        Frame.Record(kind: .request, type: "kv.get", correlation: UInt64($0), payload: [UInt8($0)])
                    })
            ),
            (
                "acl-denied-topic",
                frame(Fixture.worker, 3, .topic("bus.heartbeat", scope: .local), [message("bus.x", "")])
            ),
        ]
        var seeds = valid
        for (name, bytes) in valid
        where ["single-service-request", "topic-cluster-batch", "lz4-batch-instance"].contains(name) {
            seeds.append(("truncated-header-\(name)", Array(bytes.prefix(Frame.fixedHeaderBytes))))
            seeds.append(("truncated-half-\(name)", Array(bytes.prefix(bytes.count / 2))))
            seeds.append(("truncated-signature-\(name)", Array(bytes.dropLast(1))))
        }
        return seeds.map { ($0.0 + ".bin", $0.1) }
    }

    @Test func seedCorpusFilesMatchTheGenerator() throws {
        let rewrite = ProcessInfo.processInfo.environment["BIZRA_REWRITE_FUZZ_CORPUS"] == "1"
        if rewrite {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
        }
        for (name, bytes) in Self.seeds() {
            let url = Self.directory.appendingPathComponent(name)
            if rewrite { try Data(bytes).write(to: url) }
            let stored = try? Data(contentsOf: url)
            #expect(stored.map(Array.init) == bytes, "\(name) differs; rerun with BIZRA_REWRITE_FUZZ_CORPUS=1")
        }
    }

    /// Verifies like the fuzzer does: embedded-default ACL, the frame's own timestamp as the clock.
    @Test func seedsReachTheirIntendedVerdict() {
        let acl = MeshConfig.embeddedDefault().acl
        for (name, bytes) in Self.seeds() {
            let verifier = Fixture.verifier(acl: acl)
            let now = (try? ParsedFrame.parse(bytes, limits: verifier.limits))?.timestampMicros ?? 0
            let reason = verifier.rejectReason(bytes, now: now)
            if name.hasPrefix("truncated-") {
                #expect(reason == .malformed, "\(name)")
            } else if name.hasPrefix("acl-denied") {
                #expect(reason == .aclDenied, "\(name)")
            } else {
                #expect(reason == nil, "\(name): \(String(describing: reason))")
                #expect(verifier.rejectReason(bytes, now: now) == .replay, "\(name)")
            }
        }
        let lz4 = Self.seeds().filter { $0.name.hasPrefix("lz4-") }
        #expect(lz4.count == 2 && lz4.allSatisfy { $0.bytes[3] & Frame.flagLZ4 != 0 })
    }
}
