/// The clients of a simulated cluster: they submit requests, get replies and record a history.
///
/// The simulator calls these hooks from its event loop and passes itself, so a workload can
/// submit requests (`Simulator.submit`), wake itself later (`Simulator.wakeClient`) and read
/// virtual time; a reply or wake-up is an event like any other, so client timing is seeded too.
package protocol SimWorkload {
    associatedtype Node: SimulatedNode

    /// Called once, before the first event: schedule the first wake-ups.
    mutating func start(_ sim: inout Simulator<Node>)

    /// Client `client` asked to be woken (`wakeClient`) and now is.
    mutating func wake(client: Int, _ sim: inout Simulator<Node>)

    /// The reply to request `id`, sent by client `client`, has arrived.
    mutating func replied(client: Int, id: RequestID, response: Node.Response, _ sim: inout Simulator<Node>)
}

/// Settings of one simulator run that are not faults: sizes, seed, latencies, recording.
package struct SimSettings: Sendable {
    package var clusterSize: Int
    package var seed: UInt64
    /// Latency of one fsync'd append, uniform in this range (µs).
    package var diskLatency: ClosedRange<SimTime> = 200...1_000
    /// One-way latency between a client and a node, uniform in this range (µs).
    package var clientLatency: ClosedRange<SimTime> = 50...500
    /// At a crash, the chance (per million) that in-flight writes partly reach the disk.
    package var crashKeepsSomeUnsyncedPerMillion = 500_000
    /// At a crash that keeps some in-flight writes, the chance the last kept one is torn.
    package var tornWritePerMillion = 300_000
    /// Record a line per event in `Simulator.trace` (slower; for replay and determinism tests).
    package var recordTrace = false

    package init(clusterSize: Int, seed: UInt64) {
        self.clusterSize = clusterSize
        self.seed = seed
    }
}

/// A broken invariant or failed check, with where in the run it happened.
package struct SimFailure: Error, Equatable, Sendable, CustomStringConvertible {
    package var check: String
    package var detail: String
    package var time: SimTime
    package var event: Int

    package init(check: String, detail: String, time: SimTime, event: Int) {
        self.check = check
        self.detail = detail
        self.time = time
        self.event = event
    }

    package var description: String { "\(check) at t=\(time)µs (event \(event)): \(detail)" }
}

/// A property checked after every event (an "always" assertion). Returns nil when it holds,
/// else a description of the violation.
package struct SimInvariant<Node: SimulatedNode>: Sendable {
    package let name: String
    package let check: @Sendable (Simulator<Node>) -> String?

    package init(name: String, check: @escaping @Sendable (Simulator<Node>) -> String?) {
        self.name = name
        self.check = check
    }
}
