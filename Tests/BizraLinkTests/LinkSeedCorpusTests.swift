import BizraLink
import Foundation
import Testing

/// The seed corpus of the link fuzzer (`fuzz/corpus/link/`). Run with
/// `BIZRA_REWRITE_FUZZ_CORPUS=1` to rewrite it after a deliberate change of the link format;
/// otherwise the test checks that every seed still decodes.
@Suite struct LinkSeedCorpusTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz/corpus/link")

    static func seeds() -> [(name: String, bytes: [UInt8])] {
        var rng = SeededRNG(seed: 5)
        let frames = (0..<40).map { LinkFixture.jsonLike($0, rng: &rng) }
        let encoder = LinkEncoder()
        let dictionary = ZstdCompressor.trainDictionary(samples: frames + frames, capacityBytes: 4096) ?? [1, 2, 3]
        encoder.zstd.load(dictionary: dictionary, id: 7)
        return [
            (
                "hello-ping-pong",
                LinkEncoder.hello(.init(node: "n1", instance: 0)) + LinkEncoder.ping(token: 1)
                    + LinkEncoder.pong(token: 1)
            ),
            ("hello-ack", LinkEncoder.hello(.init(node: "n2", instance: 1)) + LinkEncoder.ack(batches: 3)),
            ("batch-raw-single", encoder.batch(frames.prefix(1), codec: .none).bytes),
            ("batch-lz4", encoder.batch(frames, codec: .lz4).bytes),
            ("batch-zstd", encoder.batch(frames, codec: .zstd).bytes),
            (
                "dictionary-then-batch",
                LinkEncoder.dictionary(id: 7, bytes: dictionary)
                    + encoder.batch(frames.prefix(3), codec: .zstdDictionary).bytes
            ),
        ]
    }

    @Test func theCommittedSeedsMatchAndDecode() throws {
        let rewrite = ProcessInfo.processInfo.environment["BIZRA_REWRITE_FUZZ_CORPUS"] == "1"
        for (name, bytes) in Self.seeds() {
            let url = Self.directory.appendingPathComponent("\(name).bin")
            if rewrite {
                try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
                try Data(bytes).write(to: url)
            }
            let stored = try [UInt8](Data(contentsOf: url))
            let decoded = try LinkFixture.decodeAll(stored)
            #expect(!decoded.isEmpty, "\(name) decodes to nothing")
        }
    }
}
