import BizraLink
import Testing

/// Codec laws: every batch round-trips under every codec, and no batch ever grows by more than
/// its one-byte codec flag.
@Suite struct LinkCodecTests {
    static let codecs: [Link.Codec] = [.none, .lz4, .zstd]

    @Test(arguments: 0..<40) func everyBatchRoundTripsUnderEveryCodec(seed: Int) throws {
        var rng = SeededRNG(seed: UInt64(seed))
        let count = Int.random(in: 1...150, using: &rng)
        let incompressible = seed % 4 == 3
        let frames = (0..<count).map { i in
            incompressible
                ? LinkFixture.random(Int.random(in: 1...600, using: &rng), rng: &rng)
                : LinkFixture.jsonLike(i, rng: &rng)
        }
        let encoder = LinkEncoder()
        for codec in Self.codecs {
            let batch = encoder.batch(frames, codec: codec)
            let decoded = try LinkFixture.decodeAll(batch.bytes)
            #expect(decoded == [.batch(frames: frames, codec: batch.codec)], "codec \(codec), seed \(seed)")
            #expect(batch.frames == count)
            #expect(batch.rawBytes == frames.reduce(0) { $0 + $1.count })
        }
    }

    @Test(arguments: 0..<40) func noBatchGrowsByMoreThanItsFlag(seed: Int) {
        var rng = SeededRNG(seed: UInt64(1000 + seed))
        let count = Int.random(in: 1...20, using: &rng)
        let frames = (0..<count).map { _ in LinkFixture.random(Int.random(in: 1...300, using: &rng), rng: &rng) }
        let encoder = LinkEncoder()
        let block = LinkEncoder.block(frames)
        for codec in Link.Codec.allCases {
            let batch = encoder.batch(frames, codec: codec)
            // length prefix (4) + type (1) + codec flag (1) + at most the raw block.
            #expect(batch.bytes.count <= 4 + 1 + 1 + block.count, "codec \(codec) expanded a batch")
            #expect(batch.codec == .none, "random bytes compressed under \(codec)?")
        }
    }

    @Test func batchesOfJSONLikeMessagesCompress() {
        var rng = SeededRNG(seed: 7)
        let frames = (0..<100).map { LinkFixture.jsonLike($0, rng: &rng) }
        let encoder = LinkEncoder()
        let raw = encoder.batch(frames, codec: .none).bytes.count
        let lz4 = encoder.batch(frames, codec: .lz4)
        let zstd = encoder.batch(frames, codec: .zstd)
        #expect(lz4.codec == .lz4 && zstd.codec == .zstd)
        #expect(Double(raw) / Double(lz4.bytes.count) > 1.3, "lz4 \(raw) → \(lz4.bytes.count)")
        #expect(Double(raw) / Double(zstd.bytes.count) > 1.5, "zstd \(raw) → \(zstd.bytes.count)")
    }

    @Test func aTrainedDictionaryTravelsAheadOfTheBatchesThatUseIt() throws {
        var rng = SeededRNG(seed: 11)
        let samples = (0..<400).map { LinkFixture.jsonLike($0, rng: &rng) }
        let dictionary = try #require(ZstdCompressor.trainDictionary(samples: samples, capacityBytes: 16 << 10))
        let encoder = LinkEncoder()
        encoder.zstd.load(dictionary: dictionary, id: 42)
        let single = [LinkFixture.jsonLike(9999, rng: &rng)]
        let batch = encoder.batch(single, codec: .zstdDictionary)
        #expect(batch.codec == .zstdDictionary)
        #expect(batch.bytes.count < single[0].count, "a dictionary should shrink a lone message")
        let decoder = LinkDecoder()
        #expect(throws: LinkError.self) { try LinkFixture.decodeAll(batch.bytes, decoder: LinkDecoder()) }
        let stream = LinkEncoder.dictionary(id: 42, bytes: dictionary) + batch.bytes
        let decoded = try LinkFixture.decodeAll(stream, decoder: decoder)
        #expect(decoded == [.dictionary(id: 42, bytes: dictionary), .batch(frames: single, codec: .zstdDictionary)])
    }

    @Test func theDecoderReassemblesAStreamFedOneByteAtATime() throws {
        var rng = SeededRNG(seed: 3)
        let frames = (0..<10).map { LinkFixture.jsonLike($0, rng: &rng) }
        let encoder = LinkEncoder()
        let stream =
            LinkEncoder.hello(.init(node: "n2", instance: 1)) + LinkEncoder.ping(token: 77)
            + encoder.batch(frames, codec: .lz4).bytes + LinkEncoder.pong(token: 77) + LinkEncoder.ack(batches: 1)
        let decoder = LinkDecoder()
        var messages: [Link.Message] = []
        var wire = 0
        for byte in stream {
            decoder.append([byte])
            while let (message, bytes) = try decoder.next() {
                messages.append(message)
                wire += bytes
            }
        }
        #expect(
            messages == [
                .hello(.init(node: "n2", instance: 1)), .ping(token: 77), .batch(frames: frames, codec: .lz4),
                .pong(token: 77), .ack(batches: 1),
            ])
        #expect(wire == stream.count && decoder.bufferedBytes == 0)
    }

    @Test func hostileInputIsRefusedWithAReason() {
        func code(_ bytes: [UInt8]) -> LinkError.Code? {
            do {
                _ = try LinkFixture.decodeAll(bytes)
                return nil
            } catch { return (error as? LinkError)?.code }
        }
        #expect(code([0xFF, 0xFF, 0xFF, 0xFF, 2]) == .tooLarge)
        #expect(code([0, 0, 0, 1, 9]) == .malformed)
        #expect(code([0, 0, 0, 4, 2, 0, 0, 0]) == .tooLarge)  // a batch of zero frames
        #expect(code([0, 0, 0, 8, 2, 1, 0, 0, 0, 16, 0xAA, 0xBB]) == .corrupt)
        #expect(code([0, 0, 0, 10, 2, 3, 0, 0, 0, 16, 0, 0, 0, 5]) == .unknownDictionary)
        #expect(code([0, 0, 0, 4, 1, 9, 0, 0]) == .version)
        #expect(code([0, 0, 0, 10, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0xEE]) == .malformed)  // trailing byte
        #expect(code([0, 0, 0, 9, 3, 0, 0, 0]) == nil)  // incomplete: waits for more
    }
}
