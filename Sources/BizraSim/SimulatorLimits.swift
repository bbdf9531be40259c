/// Every bound the simulator enforces, in one place (TIGER_STYLE: put a limit on everything).
/// Overflow is refused and counted in `SimStats`, never grown silently.
package enum SimulatorLimits {
    /// Nodes in one simulated cluster.
    package static let clusterSizeMax = 1_024
    /// Events waiting in the event heap; a send that would exceed it is dropped and counted.
    package static let pendingEventsMax = 4_000_000
    /// Distinct timer ids a node may arm.
    package static let timersPerNodeMax = 16
    /// Records on one node's simulated disk (synced plus in flight); further persists are refused.
    package static let diskRecordsMax = 1_000_000
    /// Per-link fault overrides held by `SimNetwork`.
    package static let linkOverridesMax = 4_096
    /// Events buffered for a paused node; beyond it they are dropped and counted.
    package static let pausedInboxMax = 100_000
    /// Lines kept by a recording `SimTrace` (the hash covers every event regardless).
    package static let traceLinesMax = 2_000_000
    /// Client requests one run may submit; further submissions are refused (never delivered).
    package static let requestsMax = 10_000_000
    /// Operations one run's history may hold.
    package static let historyOperationsMax = 1_000_000
}

/// A node's injected clock: `local = virtual + offset + virtual × driftPPM / 10⁶`.
///
/// Timers are requested in local µs and converted to virtual µs, so a fast clock fires its
/// timers early in virtual time — the skew a real process with a bad oscillator sees.
package struct NodeClock: Equatable, Sendable {
    package var offset: SimTime = 0
    /// Drift in parts per million; keep within ±100,000 (±10%).
    package var driftPPM: Int64 = 0

    package init(offset: SimTime = 0, driftPPM: Int64 = 0) {
        self.offset = offset
        self.driftPPM = driftPPM
    }

    @inline(__always)
    package func local(_ now: SimTime) -> SimTime {
        if driftPPM == 0 { return now &+ offset }
        return now &+ offset &+ now / 1_000_000 &* driftPPM &+ (now % 1_000_000) &* driftPPM / 1_000_000
    }

    /// Virtual µs until `localDelay` local µs have passed (at least 1).
    @inline(__always)
    package func virtualDelay(_ localDelay: SimTime) -> SimTime {
        if driftPPM == 0 { return max(1, localDelay) }
        return max(1, localDelay &* 1_000_000 / (1_000_000 &+ driftPPM))
    }
}

/// Counters of what the simulator did during one run; part of every run's result.
package struct SimStats: Equatable, Sendable {
    package var events = 0
    package var messagesSent = 0
    package var messagesDelivered = 0
    package var messagesLost = 0
    package var messagesDuplicated = 0
    package var messagesBlockedByPartition = 0
    package var messagesToDownNodes = 0
    package var crashes = 0
    package var crashesWithUnsyncedWrites = 0
    package var tornWrites = 0
    package var restarts = 0
    package var pauses = 0
    /// Bounded-queue refusals: heap full, disk full, paused inbox full, timer id out of range.
    package var refusedByLimit = 0

    package init() {}
}
