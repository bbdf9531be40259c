import BizraLink
import Testing

/// Retraining the link's zstd dictionary (§9.6): a changed traffic shape makes the retrained
/// dictionary win on held-out frames; the same shape does not churn; decoders keep working
/// across a switch.
@Suite struct LinkDictionaryTrainerTests {
    static let settings = LinkDictionaryTrainer.Settings(samplesWanted: 400, retrainIntervalMillis: 1000)

    /// Worker-like traffic (`LinkFixture.jsonLike`).
    static func worker(_ i: Int, rng: inout SeededRNG) -> [UInt8] { LinkFixture.jsonLike(i, rng: &rng) }

    /// Consensus-like traffic: other keys, other structure, the same incompressible signature.
    static func consensus(_ i: Int, rng: inout SeededRNG) -> [UInt8] {
        let text =
            "<raft.append term=\(i / 100) leader=n\(i % 3 + 1)/consensus#0 prevIndex=\(i) prevTerm=\(i / 100)>"
            + "<entry index=\(i + 1) op=put key=kv/accounts/acct-\(UInt32.random(in: 0...99_999, using: &rng))"
            + " value=balance:\(Int.random(in: 0..<1_000_000, using: &rng));currency=EUR;version=7/>"
            + "<commit index=\(i - 3) hash=blake2b:\(UInt64.random(in: 0...UInt64.max, using: &rng))/></raft.append>"
        return Array(text.utf8) + LinkFixture.random(64, rng: &rng)
    }

    /// Feeds frames until a training is due at `now`; returns the set.
    static func feedUntilDue(
        _ trainer: inout LinkDictionaryTrainer, now: Int64, rng: inout SeededRNG,
        frame: (Int, inout SeededRNG) -> [UInt8]
    ) -> LinkDictionaryTrainer.TrainingSet? {
        for i in 0..<(Self.settings.samplesWanted * LinkDictionaryTrainer.sampleEveryFrames * 2) {
            trainer.offer(frame(i, &rng))
            if let set = trainer.takeIfDue(nowMillis: now) { return set }
        }
        return nil
    }

    /// Trains a candidate on `set` and measures it and `current` on the held-out samples.
    static func contest(_ set: LinkDictionaryTrainer.TrainingSet, current: [UInt8]?) throws
        -> (candidate: [UInt8], candidateRatio: Double, currentRatio: Double?)
    {
        let candidate = try #require(
            ZstdCompressor.trainDictionary(
                samples: set.training, capacityBytes: LinkDictionaryTrainer.dictionaryBytes))
        return (
            candidate, LinkDictionaryTrainer.ratio(of: candidate, on: set.heldOut),
            current.map { LinkDictionaryTrainer.ratio(of: $0, on: set.heldOut) }
        )
    }

    @Test func aRetrainedDictionaryWinsWhenTheTrafficChangesShape() throws {
        var rng = SeededRNG(seed: 41)
        var trainer = LinkDictionaryTrainer(settings: Self.settings)
        let first = try #require(Self.feedUntilDue(&trainer, now: 0, rng: &rng, frame: Self.worker))
        #expect(first.heldOut.count == Self.settings.samplesWanted / LinkDictionaryTrainer.heldOutEvery)
        let initial = try Self.contest(first, current: nil)
        #expect(LinkDictionaryTrainer.adopts(candidateRatio: initial.candidateRatio, currentRatio: nil))
        // Not due again before the interval, however much traffic passes.
        #expect(Self.feedUntilDue(&trainer, now: 999, rng: &rng, frame: Self.consensus) == nil)
        let later = try #require(Self.feedUntilDue(&trainer, now: 2000, rng: &rng, frame: Self.consensus))
        let round = try Self.contest(later, current: initial.candidate)
        let current = try #require(round.currentRatio)
        #expect(
            LinkDictionaryTrainer.adopts(candidateRatio: round.candidateRatio, currentRatio: current),
            "candidate \(round.candidateRatio) vs current \(current)")
    }

    @Test func sameShapeTrafficDoesNotChurnTheDictionary() throws {
        var rng = SeededRNG(seed: 42)
        var trainer = LinkDictionaryTrainer(settings: Self.settings)
        let first = try #require(Self.feedUntilDue(&trainer, now: 0, rng: &rng, frame: Self.worker))
        let initial = try Self.contest(first, current: nil)
        for round in 1...3 {
            let set = try #require(Self.feedUntilDue(&trainer, now: Int64(round) * 2000, rng: &rng, frame: Self.worker))
            let contest = try Self.contest(set, current: initial.candidate)
            let current = try #require(contest.currentRatio)
            #expect(
                !LinkDictionaryTrainer.adopts(candidateRatio: contest.candidateRatio, currentRatio: current),
                "round \(round): candidate \(contest.candidateRatio) vs current \(current)")
        }
    }

    @Test func aRetrainingWaitsForEnoughNewSamples() {
        var trainer = LinkDictionaryTrainer(settings: Self.settings)
        for i in 0..<Self.settings.samplesWanted { trainer.offer([UInt8(i & 0xFF), 1, 2, 3]) }
        #expect(trainer.takeIfDue(nowMillis: 0) != nil)
        // A quarter of the ring new: not enough, even long after the interval.
        for i in 0..<(Self.settings.samplesWanted / 4 * LinkDictionaryTrainer.sampleEveryFrames) {
            trainer.offer([UInt8(i & 0xFF)])
        }
        #expect(trainer.takeIfDue(nowMillis: 60_000) == nil)
        for i in 0..<(Self.settings.samplesWanted / 4 * LinkDictionaryTrainer.sampleEveryFrames) {
            trainer.offer([UInt8(i & 0xFF)])
        }
        #expect(trainer.takeIfDue(nowMillis: 60_000) != nil)
    }

    @Test func idsAreDistinctPerInstanceAndGeneration() {
        let ids = (0..<4).flatMap { instance in
            (1...5).map { LinkDictionaryTrainer.dictionaryID(instance: instance, generation: UInt32($0)) }
        }
        #expect(Set(ids).count == ids.count && !ids.contains(0))
    }

    /// A sender switches dictionaries mid-connection: batches under the old id still decode
    /// after the new DICT arrived; past `dictionariesMax` switches only the oldest is forgotten.
    @Test func aDecoderFollowsDictionarySwitchesMidConnection() throws {
        var rng = SeededRNG(seed: 43)
        let samples = (0..<300).map { Self.worker($0, rng: &rng) }
        let dictionaries = try (0..<5).map { generation in
            try #require(
                ZstdCompressor.trainDictionary(
                    samples: Array(samples[(generation * 20)...].prefix(200)),
                    capacityBytes: LinkDictionaryTrainer.dictionaryBytes))
        }
        let ids = (1...5).map { LinkDictionaryTrainer.dictionaryID(instance: 0, generation: UInt32($0)) }
        let decoder = LinkDecoder()
        let old = LinkEncoder()
        old.zstd.load(dictionary: dictionaries[0], id: ids[0])
        let frames = Array(samples.prefix(10))
        var stream = LinkEncoder.dictionary(id: ids[0], bytes: dictionaries[0])
        stream += old.batch(frames, codec: .zstdDictionary).bytes
        let new = LinkEncoder()
        new.zstd.load(dictionary: dictionaries[1], id: ids[1])
        stream += LinkEncoder.dictionary(id: ids[1], bytes: dictionaries[1])
        stream += new.batch(frames, codec: .zstdDictionary).bytes
        // A batch compressed under the previous id after the switch (another pooled writer).
        stream += old.batch(frames, codec: .zstdDictionary).bytes
        let decoded = try LinkFixture.decodeAll(stream, decoder: decoder)
        let batches = decoded.compactMap { message -> [[UInt8]]? in
            if case .batch(let got, .zstdDictionary) = message { return got }
            return nil
        }
        #expect(batches == [frames, frames, frames])
        // Three more switches: dictionary 1 is evicted (4 kept), the newest decodes.
        var more: [UInt8] = []
        for generation in 2..<5 { more += LinkEncoder.dictionary(id: ids[generation], bytes: dictionaries[generation]) }
        let newest = LinkEncoder()
        newest.zstd.load(dictionary: dictionaries[4], id: ids[4])
        more += newest.batch(frames, codec: .zstdDictionary).bytes
        let after = try LinkFixture.decodeAll(more, decoder: decoder)
        #expect(after.count == 4)
        decoder.append(old.batch(frames, codec: .zstdDictionary).bytes)
        #expect(throws: LinkError.self) { try decoder.next() }
    }
}
