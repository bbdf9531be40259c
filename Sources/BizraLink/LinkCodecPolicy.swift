/// Chooses the codec of each batch: compression is worth its CPU only when the link, not the
/// CPU, is the bottleneck.
///
/// The writer tells the policy whether frames are still waiting after it took the batch (the
/// link is behind: compressing buys bandwidth) or not (an idle link: the frame goes raw and at
/// once, adding no latency). Measured here (docs/BENCHMARKS.md, NOTES.md): per-message LZ4 on
/// ~250-byte messages gains nothing; batches of ~100 gain ≈ 2.1× with LZ4; zstd with a trained
/// dictionary ≈ 2.2× per message and more on batches. The policy also watches the ratio it gets
/// per codec: traffic that does not compress (already compressed or encrypted payloads) goes
/// raw, with one probe every `probeEveryBatches` to notice when that changes.
public struct LinkCodecPolicy: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Compress under backlog, with the dictionary codec when a dictionary is loaded.
        case auto
        /// Never compress (benchmarks: "compression off").
        case none
        /// Always this codec (benchmarks and tests).
        case lz4, zstd
    }

    public var mode: Mode
    /// Below this ratio (raw/compressed) a codec is not worth its CPU.
    public static let ratioWorthMin = 1.05
    public static let probeEveryBatches = 32
    /// Smoothing of the per-codec ratio (weight of the newest batch).
    static let ratioWeight = 0.2
    private var ratios: [Double] = Array(repeating: 2.0, count: Link.Codec.allCases.count)
    private var skipped = 0

    public init(mode: Mode = .auto) { self.mode = mode }

    /// The codec for a batch of `frames` frames, given whether a backlog remains behind it and
    /// whether a dictionary is loaded.
    public mutating func choose(frames: Int, backlogged: Bool, hasDictionary: Bool) -> Link.Codec {
        let wanted: Link.Codec
        switch mode {
        case .none: return .none
        case .lz4: return .lz4
        case .zstd: return hasDictionary ? .zstdDictionary : .zstd
        case .auto:
            guard backlogged else { return .none }
            wanted = hasDictionary ? .zstdDictionary : .lz4
        }
        guard ratio(of: wanted) < Self.ratioWorthMin else { return wanted }
        skipped += 1
        guard skipped >= Self.probeEveryBatches else { return .none }
        skipped = 0
        return wanted
    }

    /// Records what compressing with `codec` achieved: `blockBytes` in, `wireBytes` out (equal
    /// when the encoder fell back to raw).
    public mutating func observe(codec: Link.Codec, blockBytes: Int, wireBytes: Int) {
        guard codec != .none, blockBytes > 0, wireBytes > 0 else { return }
        let sample = Double(blockBytes) / Double(wireBytes)
        let index = Int(codec.rawValue)
        ratios[index] = ratios[index] * (1 - Self.ratioWeight) + sample * Self.ratioWeight
    }

    /// The smoothed ratio observed for `codec` (2.0 before any observation).
    public func ratio(of codec: Link.Codec) -> Double { ratios[Int(codec.rawValue)] }
}
