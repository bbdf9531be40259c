import Metrics
import Synchronization

/// What a core counts, exported both as Prometheus metrics (created once, fixed labels) and in
/// its JSON status.
final class CoreCounters: Sendable {
    /// Why a verified frame was not delivered.
    enum Drop: String, CaseIterable {
        /// A local subscriber's or peer's queue was full (ZeroMQ high-water mark).
        case queueFull = "queue_full"
        /// Bound for another node and no link service is registered.
        case noRoute = "no_route"
        /// Addressed to an instance or service that is not (or no longer) here.
        case noDestination = "no_destination"
        /// A topic frame arrived on the ROUTER from a non-link, or a directed one on XSUB.
        case wrongSocket = "wrong_socket"
    }

    private let rejectCounters: [RejectReason: Counter]
    private let dropCounters: [Drop: Counter]
    private let framesInCounter = Counter(label: "bizra_bus_frames_in_total")
    private let framesOutCounter = Counter(label: "bizra_bus_frames_out_total")
    private let envelopesInCounter = Counter(label: "bizra_bus_envelopes_in_total")
    private let gapCounter = Counter(label: "bizra_bus_sequence_gaps_total")
    private let verifyTimer = Timer(label: "bizra_bus_verify_duration_seconds")

    struct Totals {
        var rejected: [String: Int] = [:]
        var dropped: [String: Int] = [:]
        var framesIn = 0
        var framesOut = 0
        var envelopesIn = 0
        var gaps = 0
    }

    let totals = Mutex(Totals())

    init() {
        rejectCounters = Dictionary(
            uniqueKeysWithValues: RejectReason.allCases.map {
                ($0, Counter(label: "bizra_bus_rejected_frames_total", dimensions: [("reason", $0.rawValue)]))
            })
        dropCounters = Dictionary(
            uniqueKeysWithValues: Drop.allCases.map {
                ($0, Counter(label: "bizra_bus_dropped_frames_total", dimensions: [("reason", $0.rawValue)]))
            })
    }

    func rejected(_ reason: RejectReason) {
        rejectCounters[reason]!.increment()
        totals.withLock { $0.rejected[reason.rawValue, default: 0] += 1 }
    }

    func dropped(_ drop: Drop) {
        dropCounters[drop]!.increment()
        totals.withLock { $0.dropped[drop.rawValue, default: 0] += 1 }
    }

    func accepted(envelopes: Int, gap: UInt64, verifyNanos: UInt64) {
        framesInCounter.increment()
        envelopesInCounter.increment(by: envelopes)
        verifyTimer.recordNanoseconds(Int64(verifyNanos))
        let gapCount = Int(clamping: gap)
        if gapCount > 0 { gapCounter.increment(by: gapCount) }
        totals.withLock {
            $0.framesIn += 1
            $0.envelopesIn += envelopes
            $0.gaps = $0.gaps.addingReportingOverflow(gapCount).overflow ? Int.max : $0.gaps + gapCount
        }
    }

    func sent() {
        framesOutCounter.increment()
        totals.withLock { $0.framesOut += 1 }
    }
}
