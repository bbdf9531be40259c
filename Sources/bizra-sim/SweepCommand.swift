import BizraSim
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `bizra-sim run`: a seed sweep within a wall-clock budget. Prints one line per failure with
/// the command that replays it, then a summary; exits 1 on any failure, on missing coverage, or
/// when the budget ran out before `--min-seeds` seeds. With `--expect-failure` (a self-test of
/// the simulator against an injected bug) it stops at the first failure and exits 0 only if one
/// was found.
func runSweep(_ options: CommandLineOptions) -> Int32 {
    guard let scenario = options.scenario() else { return 2 }
    let seeds = options.int("seeds", default: 1_000)
    guard seeds >= 0, options.values["first-seed"].map({ UInt64($0) != nil }) ?? true else {
        printError("--seeds wants a count ≥ 0 and --first-seed an unsigned 64-bit integer")
        return 2
    }
    let minimum = options.int("min-seeds", default: seeds)
    let firstSeed = options.values["first-seed"].flatMap { UInt64($0) } ?? 1
    let budget = options.double("budget-seconds", default: 300)
    let bug = options.values["bug"] ?? "none"
    let flags = options.scenarioFlags
    let expectFailure = options.flags.contains("expect-failure")
    let start = ContinuousClock.now
    let jobs = max(1, options.int("jobs", default: 1))
    let report: (SeedResult) -> Void = { result in
        guard let failure = result.failure else { return }
        print(
            "\(expectFailure ? "FOUND (expected) seed" : "FAIL seed") \(result.seed) (\(result.clusterSize) nodes, \(result.plan)): \(failure)"
        )
        print("  replay: bizra-sim replay\(flags) --seed \(result.seed) --trace")
        print("  shrink: bizra-sim shrink\(flags) --seed \(result.seed)")
    }
    let (sweep, foundFailure) = sweepSeeds(
        scenario, firstSeed: firstSeed, count: seeds, jobs: jobs, stopAtFailure: expectFailure,
        shouldContinue: { seconds(since: start) < budget }, report: report)
    let wall = seconds(since: start)
    // Coverage is required of a real sweep, not of a bug self-test or a short `--skip-coverage` run.
    let checkCoverage = bug == "none" && !options.flags.contains("skip-coverage")
    let missing = checkCoverage ? sweep.missingCoverage(scenario.requiredCoverage) : []
    print(
        "sim \(scenario.name)\(bug == "none" ? "" : " --bug \(bug)"): seeds \(sweep.seedsRun) passed \(sweep.passed) failed \(sweep.failed)"
            + " unknown \(sweep.unknown) events \(sweep.events) wall \(format(wall))s"
            + " (\(format(Double(sweep.events) / max(wall, 1e-9) / 1e6)) M events/s)"
            + " coverage-missing [\(missing.joined(separator: ","))]")
    print("coverage: " + sweep.coverage.sorted.map { "\($0.name)=\($0.count)" }.joined(separator: " "))
    if expectFailure {
        print(foundFailure ? "expected failure found: the simulator catches \(bug)" : "")
        if !foundFailure { printError("no seed found the injected bug \(bug)") }
        return foundFailure ? 0 : 1
    }
    if sweep.seedsRun < minimum {
        printError("budget of \(budget)s ran out after \(sweep.seedsRun) of \(minimum) seeds")
        return 1
    }
    return sweep.failed == 0 && missing.isEmpty ? 0 : 1
}

/// `bizra-sim replay`: one seed, with its stats, coverage, verdict and (with `--trace`) its
/// event trace; `--history FILE` writes the client history as JSON lines.
func replaySeed(_ options: CommandLineOptions) -> Int32 {
    guard var scenario = options.scenario() else { return 2 }
    guard let seedText = options.values["seed"], let seed = UInt64(seedText) else {
        printError("replay needs --seed N")
        return 2
    }
    scenario.recordTrace = options.flags.contains("trace")
    let result = scenario.run(seed: seed)
    if scenario.recordTrace { print(result.trace, terminator: "") }
    if let path = options.values["history"] {
        guard writeFile(path, result.history.jsonLines()) else { return 2 }
        print("history written; check it with: bizra-sim check \(path) --model cas-register --initial 0")
    }
    print("seed \(seed): \(result.clusterSize) nodes, \(result.plan)")
    print("stats: \(result.stats)")
    print("coverage: " + result.coverage.sorted.map { "\($0.name)=\($0.count)" }.joined(separator: " "))
    print("history: \(result.history.events.count) events; check: \(result.verdict.map { "\($0)" } ?? "not run")")
    print("trace hash: \(String(result.traceHash, radix: 16))")
    print(result.failure.map { "FAIL: \($0)" } ?? "PASS")
    return result.passed ? 0 : 1
}

func writeFile(_ path: String, _ text: String) -> Bool {
    guard let file = fopen(path, "w") else {
        printError("cannot write \(path)")
        return false
    }
    defer { fclose(file) }
    return fputs(text, file) >= 0
}

func readFile(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// `bizra-sim shrink --seed S`: drops fault-schedule entries while the seed still fails the
/// same check, then prints the replay command for the smallest schedule found.
func shrinkSeed(_ options: CommandLineOptions) -> Int32 {
    guard let scenario = options.scenario() else { return 2 }
    guard let seedText = options.values["seed"], let seed = UInt64(seedText) else {
        printError("shrink needs --seed N")
        return 2
    }
    guard let kept = FaultShrinker.shrink(scenario, seed: seed) else {
        printError("seed \(seed) passes; nothing to shrink")
        return 1
    }
    var shrunk = scenario
    shrunk.faultSubset = kept
    let result = shrunk.run(seed: seed)
    let faults = kept.isEmpty ? "none" : kept.map(String.init).joined(separator: ",")
    let flags = options.scenarioFlags.replacingFaults(with: faults)
    print(
        "seed \(seed): \(kept.count) of \(result.faultCount) scheduled faults still fail: \(result.failure.map { "\($0)" } ?? "")"
    )
    print("  replay: bizra-sim replay\(flags) --seed \(seed) --trace")
    return 0
}

extension String {
    /// Scenario flags with `--faults` set to `faults` (added or replaced).
    func replacingFaults(with faults: String) -> String {
        var words = split(separator: " ").map(String.init)
        if let index = words.firstIndex(of: "--faults"), index + 1 < words.count {
            words[index + 1] = faults
        } else {
            words += ["--faults", faults]
        }
        return " " + words.joined(separator: " ")
    }
}

/// Runs the sweep on `jobs` threads (seed `first + k` on thread `k mod jobs`); failures are
/// reported in seed order once all threads are done. With one job it runs on this thread and
/// reports each failure as it is found.
func sweepSeeds(
    _ scenario: some SimScenario, firstSeed: UInt64, count: Int, jobs: Int, stopAtFailure: Bool,
    shouldContinue: @escaping @Sendable () -> Bool, report: (SeedResult) -> Void
) -> (SwarmSweep, Bool) {
    if jobs > 1, #available(macOS 15.0, *) {
        return parallelSweep(
            scenario, firstSeed: firstSeed, count: count, jobs: jobs, stopAtFailure: stopAtFailure,
            shouldContinue: shouldContinue, report: report)
    }
    var found = false
    let sweep = SwarmSweep.run(
        scenario, firstSeed: firstSeed, count: count,
        shouldContinue: { shouldContinue() && !(stopAtFailure && found) },
        onResult: { result in
            found = found || result.failure != nil
            report(result)
        })
    return (sweep, found)
}

/// `sweepSeeds` on `jobs` threads (`Mutex` and `Atomic` need macOS 15; Linux has them).
@available(macOS 15.0, *)
func parallelSweep(
    _ scenario: some SimScenario, firstSeed: UInt64, count: Int, jobs: Int, stopAtFailure: Bool,
    shouldContinue: @escaping @Sendable () -> Bool, report: (SeedResult) -> Void
) -> (SwarmSweep, Bool) {
    let merged = Mutex((sweep: SwarmSweep(), failing: [SeedResult]()))
    let found = Atomic(false)
    DispatchQueue.concurrentPerform(iterations: jobs) { job in
        var local = SwarmSweep()
        var failing: [SeedResult] = []
        var offset = job
        while offset < count && shouldContinue() && !(stopAtFailure && found.load(ordering: .relaxed)) {
            let result = scenario.run(seed: firstSeed &+ UInt64(offset))
            local.add(result)
            if result.failure != nil {
                failing.append(result)
                found.store(true, ordering: .relaxed)
            }
            offset += jobs
        }
        merged.withLock {
            $0.sweep.merge(local)
            $0.failing += failing
        }
    }
    let (sweep, failing) = merged.withLock { ($0.sweep, $0.failing) }
    for result in failing.sorted(by: { $0.seed < $1.seed }) { report(result) }
    return (sweep, found.load(ordering: .relaxed))
}
