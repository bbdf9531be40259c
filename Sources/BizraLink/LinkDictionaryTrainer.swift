/// Keeps the zstd dictionary of a link instance fitted to the traffic it carries (docs/PROTOCOL.md
/// §9.6). Pure: the shell offers the frames it sends, asks with its clock whether a training is
/// due, trains (`ZstdCompressor.trainDictionary`) on the set it is given, measures, and reports
/// the outcome.
///
/// Traffic changes shape (consensus traffic starts after worker traffic), so sampling never
/// stops: a ring holds the most recent `samplesWanted` samples — every frame until the first
/// training, then one frame in `sampleEveryFrames` (bounded copying on the send path). The first
/// dictionary is trained as soon as the ring is full; after that a retraining is due every
/// `retrainIntervalMillis`, and only when at least half the ring is new since the last one. A
/// candidate is trained on four fifths of the ring and measured, together with the current
/// dictionary, on the remaining fifth (held out, interleaved over the same period); it replaces
/// the current one only when its ratio is at least `adoptGainMin` times better, so traffic of
/// an unchanged shape does not churn dictionaries (each switch costs a DICT frame per
/// connection and a slot in every receiver's table).
public struct LinkDictionaryTrainer: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Ring size, and the samples the first training waits for.
        public var samplesWanted: Int
        public var retrainIntervalMillis: Int64

        public static let samplesWantedDefault = 2000
        public static let samplesWantedRange = 64...100_000
        public static let retrainIntervalSecondsDefault = 600
        public static let retrainIntervalSecondsRange = 1...86_400

        public init(
            samplesWanted: Int = samplesWantedDefault,
            retrainIntervalMillis: Int64 = Int64(retrainIntervalSecondsDefault) * 1000
        ) {
            precondition(
                Self.samplesWantedRange.contains(samplesWanted), "samplesWanted \(samplesWanted) outside the range")
            precondition(retrainIntervalMillis > 0, "a retraining interval must be positive")
            self.samplesWanted = samplesWanted
            self.retrainIntervalMillis = retrainIntervalMillis
        }
    }

    /// A sample keeps at most this many bytes of its frame (the header and the start of the
    /// payload carry the structure a dictionary learns).
    public static let sampleBytesMax = 4096
    public static let dictionaryBytes = 16 << 10
    /// After the first training, one frame in this many is sampled.
    public static let sampleEveryFrames = 4
    /// Every this-many-th sample of the ring is held out of training for the comparison.
    public static let heldOutEvery = 5
    /// A candidate must compress the held-out samples this many times better to be adopted.
    public static let adoptGainMin = 1.05
    /// Held-out samples are compressed in blocks of this many frames, as batches are.
    public static let measureBlockFrames = 8

    public let settings: Settings
    private var ring: [[UInt8]] = []
    /// Where the next sample goes once the ring is full.
    private var next = 0
    /// Samples added since the last training.
    private var fresh = 0
    private var offered = 0
    private var trainedAtMillis: Int64?

    public init(settings: Settings) { self.settings = settings }

    public mutating func offer(_ frame: [UInt8]) {
        offered &+= 1
        if trainedAtMillis != nil && offered % Self.sampleEveryFrames != 0 { return }
        let sample = Array(frame.prefix(Self.sampleBytesMax))
        if ring.count < settings.samplesWanted {
            ring.append(sample)
        } else {
            ring[next] = sample
            next = (next + 1) % settings.samplesWanted
        }
        fresh += 1
    }

    /// Samples to train a candidate on, and samples held out to measure it against the current
    /// dictionary; both in the order they were taken.
    public struct TrainingSet: Sendable {
        public var training: [[UInt8]]
        public var heldOut: [[UInt8]]
    }

    /// The training set when a training is due at `nowMillis`, else nil. Taking it starts the
    /// next interval whatever the outcome.
    public mutating func takeIfDue(nowMillis: Int64) -> TrainingSet? {
        guard ring.count >= settings.samplesWanted else { return nil }
        if let trainedAtMillis {
            guard nowMillis - trainedAtMillis >= settings.retrainIntervalMillis,
                fresh * 2 >= settings.samplesWanted
            else { return nil }
        }
        trainedAtMillis = nowMillis
        fresh = 0
        let ordered = Array(ring[next...] + ring[..<next])
        var set = TrainingSet(training: [], heldOut: [])
        for (index, sample) in ordered.enumerated() {
            if index % Self.heldOutEvery == Self.heldOutEvery - 1 {
                set.heldOut.append(sample)
            } else {
                set.training.append(sample)
            }
        }
        return set
    }

    /// Raw over compressed bytes of `samples` compressed with zstd and `dictionary` (none: plain
    /// zstd), in blocks of `measureBlockFrames` frames. A block zstd cannot shrink counts at its
    /// raw size, as the encoder would send it.
    public static func ratio(of dictionary: [UInt8]?, on samples: [[UInt8]]) -> Double {
        let compressor = ZstdCompressor()
        if let dictionary { compressor.load(dictionary: dictionary, id: 1) }
        var raw = 0
        var compressed = 0
        var start = 0
        while start < samples.count {
            let block = LinkEncoder.block(samples[start..<min(start + Self.measureBlockFrames, samples.count)])
            let out = block.withUnsafeBytes { compressor.compress($0, withDictionary: dictionary != nil) }
            raw += block.count
            compressed += out?.count ?? block.count
            start += Self.measureBlockFrames
        }
        return compressed == 0 ? 1 : Double(raw) / Double(compressed)
    }

    /// Whether a candidate measured at `candidateRatio` replaces the current dictionary
    /// (`currentRatio` on the same held-out samples; nil when there is none yet).
    public static func adopts(candidateRatio: Double, currentRatio: Double?) -> Bool {
        guard let currentRatio else { return true }
        return candidateRatio >= currentRatio * adoptGainMin
    }

    /// The id of a dictionary: the link instance (+1) in the top byte, the generation (1, 2, …,
    /// counted per instance process) below. Receivers key dictionaries per connection, and a
    /// connection comes from one node's one instance (its HELLO), so ids never collide on it;
    /// a restarted instance starts again at generation 1 on new connections.
    public static func dictionaryID(instance: Int, generation: UInt32) -> UInt32 {
        precondition(instance >= 0 && instance < 255, "link instance \(instance) outside 0..<255")
        precondition(
            generation >= 1 && generation <= 0xFF_FFFF, "dictionary generation \(generation) outside 1...2^24-1")
        return UInt32(instance + 1) << 24 | generation
    }
}
