import BizraSim

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `--name value` and `--flag` options after the subcommand; positional words kept in order.
struct CommandLineOptions {
    var values: [String: String] = [:]
    var flags: Set<String> = []
    var positional: [String] = []

    init(_ arguments: [String]) {
        var index = 1
        while index < arguments.count {
            let word = arguments[index]
            if word.hasPrefix("--") {
                let name = String(word.dropFirst(2))
                if index + 1 < arguments.count && !arguments[index + 1].hasPrefix("--") && name != "trace" {
                    values[name] = arguments[index + 1]
                    index += 1
                } else {
                    flags.insert(name)
                }
            } else {
                positional.append(word)
            }
            index += 1
        }
    }

    func int(_ name: String, default fallback: Int) -> Int { values[name].flatMap { Int($0) } ?? fallback }

    func double(_ name: String, default fallback: Double) -> Double { values[name].flatMap { Double($0) } ?? fallback }

    /// The scenario named by `--scenario` (`register`, `gset` or `raft`) with `--bug`, `--nodes` and
    /// `--active-ms` applied.
    func scenario() -> (any SimScenario)? {
        var scenario: any SimScenario
        let bug = values["bug"] ?? "none"
        switch values["scenario"] ?? "register" {
        case "register":
            guard let parsed = ReplicatedRegister.Bug(rawValue: bug) else {
                return unknownBug(bug, ReplicatedRegister.Bug.allCases.map(\.rawValue))
            }
            var register = RegisterScenario()
            register.bug = parsed
            scenario = register
        case "gset":
            guard let parsed = GossipSet.Bug(rawValue: bug) else {
                return unknownBug(bug, GossipSet.Bug.allCases.map(\.rawValue))
            }
            var gset = GossipSetScenario()
            gset.bug = parsed
            scenario = gset
        case "raft":
            guard let parsed = RaftSim.Bug(rawValue: bug) else {
                return unknownBug(bug, RaftSim.Bug.allCases.map(\.rawValue))
            }
            var raft = RaftScenario()
            raft.bug = parsed
            scenario = raft
        case let other:
            printError("unknown scenario \(other); known: register, gset, raft")
            return nil
        }
        if let nodes = values["nodes"] {
            let bounds = nodes.split(separator: "-").compactMap { Int($0) }
            guard let low = bounds.first, let high = bounds.last, 1 <= low, low <= high,
                high <= SimulatorLimits.clusterSizeMax
            else {
                printError("--nodes wants N or LOW-HIGH within 1...\(SimulatorLimits.clusterSizeMax), got \(nodes)")
                return nil
            }
            scenario.clusterSizes = low...high
        }
        if let active = values["active-ms"].flatMap({ Int64($0) }) { scenario.activeDuration = active * 1_000 }
        if let faults = values["faults"] {
            scenario.faultSubset = faults == "none" ? [] : faults.split(separator: ",").compactMap { Int($0) }
        }
        return scenario
    }

    /// The options that select a scenario, as they must be repeated to replay one of its seeds.
    var scenarioFlags: String {
        ["scenario", "bug", "nodes", "active-ms", "faults"].compactMap { name in values[name].map { " --\(name) \($0)" }
        }
        .joined()
    }

    private func unknownBug(_ name: String, _ known: [String]) -> (any SimScenario)? {
        printError("unknown bug \(name) for this scenario; known: \(known.joined(separator: ", "))")
        return nil
    }
}

func printError(_ message: String) {
    // The C `stderr` global is not usable from Swift 6 (global mutable state): write to fd 2.
    let line = Array("bizra-sim: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Seconds since `start` on the monotonic clock.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// CPU seconds this process has used: unlike wall time, not inflated when another build shares
/// the 2 cores, so benchmark figures use it (and print wall time beside it).
func processCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// A `shouldStop` for the checkers: true once `budget` seconds have passed.
func deadline(seconds budget: Double) -> @Sendable () -> Bool {
    let start = ContinuousClock.now
    return { seconds(since: start) > budget }
}

func format(_ value: Double, decimals: Int = 2) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return "\(rounded)"
}
