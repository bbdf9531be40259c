/// A named, seeded simulation: one run per seed, with the coverage a sweep of it must reach.
/// Implementations MUST be deterministic in the seed and SHOULD expose `run` as a non-generic,
/// `@inline(never)` function so the simulator is specialised for their node type.
package protocol SimScenario: Sendable {
    var name: String { get }
    /// `SimCoverage` names every sweep of this scenario must see at least once.
    var requiredCoverage: [String] { get }
    var recordTrace: Bool { get set }
    /// Cluster sizes a seed draws from.
    var clusterSizes: ClosedRange<Int> { get set }
    /// Virtual µs of clients and faults before everything heals.
    var activeDuration: SimTime { get set }
    func run(seed: UInt64) -> SeedResult
}

/// Runs a scenario over consecutive seeds and sums up: passes, failures (each with its seed, so
/// it replays), unknown checker verdicts, events, and the coverage the seeds reached.
///
/// Pure: the caller decides when to stop (`shouldContinue`, which a runner wires to a wall-clock
/// budget) and what to print (`onResult`).
package struct SwarmSweep: Sendable {
    package var seedsRun = 0
    package var passed = 0
    package var unknown = 0
    package var events = 0
    package var failures: [(seed: UInt64, failure: SimFailure)] = []
    package var coverage = SimCoverage()
    /// Failures kept in `failures`; later ones are only counted.
    package static let failuresKeptMax = 100
    package private(set) var failuresDropped = 0

    package init() {}

    package var failed: Int { failures.count + failuresDropped }

    /// Coverage names in `required` that no seed reached.
    package func missingCoverage(_ required: [String]) -> [String] {
        required.filter { coverage.count($0) == 0 }
    }

    package mutating func add(_ result: SeedResult) {
        seedsRun += 1
        events += result.stats.events
        coverage.merge(result.coverage)
        if let failure = result.failure {
            if failures.count < SwarmSweep.failuresKeptMax {
                failures.append((result.seed, failure))
            } else {
                failuresDropped += 1
            }
        } else {
            passed += 1
        }
        if result.unknown { unknown += 1 }
    }

    /// Runs `scenario` on `count` seeds from `firstSeed` while `shouldContinue()` holds.
    package static func run(
        _ scenario: some SimScenario, firstSeed: UInt64, count: Int,
        shouldContinue: () -> Bool = { true }, onResult: (SeedResult) -> Void = { _ in }
    ) -> SwarmSweep {
        var sweep = SwarmSweep()
        for offset in 0..<count {
            guard shouldContinue() else { break }
            let result = scenario.run(seed: firstSeed &+ UInt64(offset))
            sweep.add(result)
            onResult(result)
        }
        return sweep
    }
}
