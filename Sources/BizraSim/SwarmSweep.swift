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
    /// Apply only these entries of each seed's fault schedule (for shrinking); nil applies all.
    var faultSubset: [Int]? { get set }
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

    /// Adds another sweep's counts (for sweeps run in parallel over disjoint seeds).
    package mutating func merge(_ other: SwarmSweep) {
        seedsRun += other.seedsRun
        passed += other.passed
        unknown += other.unknown
        events += other.events
        coverage.merge(other.coverage)
        for failure in other.failures {
            if failures.count < SwarmSweep.failuresKeptMax {
                failures.append(failure)
            } else {
                failuresDropped += 1
            }
        }
        failuresDropped += other.failuresDropped
        failures.sort { $0.seed < $1.seed }
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

/// Shrinking a failing seed: drops fault-schedule entries while the run still fails the same
/// check, so the replay shows only the faults that matter (the complement-removal half of
/// Zeller & Hildebrandt's ddmin, TSE 2002: chunks, then smaller chunks, down to single entries). Dropping a fault shifts
/// the fault RNG's later draws, so the shrunk run may fail differently in detail; it is kept
/// only if it fails the same check. The result replays with `faultSubset`.
package enum FaultShrinker {
    /// The smallest subset found, or nil if `seed` does not fail. At most `runsMax` runs.
    package static func shrink(_ scenario: some SimScenario, seed: UInt64, runsMax: Int = 500) -> [Int]? {
        var candidate = scenario
        candidate.faultSubset = nil
        let original = candidate.run(seed: seed)
        guard let failure = original.failure else { return nil }
        var kept = Array(0..<original.faultCount)
        var runs = 1
        func stillFails(_ subset: [Int]) -> Bool {
            runs += 1
            candidate.faultSubset = subset
            return candidate.run(seed: seed).failure?.check == failure.check
        }
        // ddmin-style: drop chunks (halves, quarters, …), then single entries until none can go.
        var chunks = 2
        while kept.count > 1 && runs < runsMax {
            let size = (kept.count + chunks - 1) / chunks
            let starts = Array(stride(from: 0, to: kept.count, by: size))
            let removable = starts.first { start in
                runs < runsMax && stillFails(Array(kept[..<start] + kept[min(kept.count, start + size)...]))
            }
            if let start = removable {
                kept.removeSubrange(start..<min(kept.count, start + size))
                chunks = max(chunks - 1, 2)
            } else if size == 1 {
                break
            } else {
                chunks = min(chunks * 2, kept.count)
            }
        }
        if kept.count == 1 && stillFails([]) { kept = [] }
        return kept
    }
}
