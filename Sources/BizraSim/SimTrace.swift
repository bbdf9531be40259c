/// The record of what a run did, to prove determinism and to read when replaying a failure.
///
/// Every event is folded into a 64-bit FNV-1a hash of its time, kind and endpoints (cheap enough
/// to leave on in benchmarks). When `recording`, each event also appends one text line, including
/// the message's `description`, so two runs of one seed can be compared byte for byte.
package struct SimTrace {
    package private(set) var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    package let recording: Bool
    package private(set) var lines: [String] = []
    package private(set) var droppedLines = 0

    package init(recording: Bool) { self.recording = recording }

    @inline(__always)
    package mutating func mix(_ value: UInt64) {
        var h = hash
        var v = value
        for _ in 0..<8 {
            h = (h ^ (v & 0xFF)) &* 0x0000_0100_0000_01B3
            v >>= 8
        }
        hash = h
    }

    package mutating func append(_ line: String) {
        guard recording else { return }
        guard lines.count < SimulatorLimits.traceLinesMax else {
            droppedLines += 1
            return
        }
        lines.append(line)
    }

    /// The whole recorded trace, one event per line.
    package var text: String { lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n") }
}

/// "Sometimes" assertions: named events a suite expects to see at least once across its seeds
/// (Antithesis's `sometimes`, FoundationDB's `TEST()` coverage macros). A suite fails when one it
/// requires never happened, because then its seeds did not test what they claim to.
package struct SimCoverage: Equatable, Sendable {
    /// Private so that its iteration order cannot leak: read through `count(_:)` or `sorted`.
    private var counts: [String: Int] = [:]

    package init() {}

    package mutating func hit(_ name: String, times: Int = 1) {
        counts[name, default: 0] += times
    }

    package func count(_ name: String) -> Int { counts[name] ?? 0 }

    package mutating func merge(_ other: SimCoverage) {
        for (name, count) in other.counts { counts[name, default: 0] += count }
    }

    /// Names and counts in name order: the only way counts leave this type.
    package var sorted: [(name: String, count: Int)] {
        counts.keys.sorted().map { ($0, counts[$0]!) }
    }
}
