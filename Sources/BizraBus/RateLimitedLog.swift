import Logging

/// Logs at most one line per key per interval and reports how many were suppressed meanwhile,
/// so that a flood of bad frames cannot flood the log. Used from one thread.
struct RateLimitedLog {
    private var lastMicros: [String: Int64] = [:]
    private var suppressed: [String: Int] = [:]
    let intervalMicros: Int64
    /// The most distinct keys tracked; past it the table is cleared (keys are reason codes, so
    /// this only matters if a caller misuses free text as a key).
    static let keysMax = 1024

    init(intervalMicros: Int64 = 1_000_000) { self.intervalMicros = intervalMicros }

    mutating func warning(_ log: Logger, key: String, nowMicros: Int64, _ message: @autoclosure () -> String) {
        if let last = lastMicros[key], nowMicros - last < intervalMicros {
            suppressed[key, default: 0] += 1
            return
        }
        if lastMicros.count >= Self.keysMax { lastMicros.removeAll(); suppressed.removeAll() }
        let skipped = suppressed.removeValue(forKey: key) ?? 0
        lastMicros[key] = nowMicros
        log.warning("\(message())\(skipped > 0 ? " (\(skipped) similar suppressed)" : "")")
    }
}
