// bizra-sim: runs seed sweeps of simulation scenarios, replays one seed, checks a history
// file, and benchmarks the simulator and checkers. The wall clock is read only here, never in
// BizraSim. See docs/SIMULATION.md.
import BizraSim

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
let options = CommandLineOptions(arguments)
let status: Int32
switch arguments.first {
case "run": status = runSweep(options)
case "replay": status = replaySeed(options)
case "shrink": status = shrinkSeed(options)
case "check": status = checkHistoryFile(options)
case "bench": status = options.positional.first == "raft" ? runRaftBenchmarks(options) : runBenchmarks(options)
default:
    print(
        """
        usage: bizra-sim run    [--scenario register|gset|raft] [--bug NAME] [--seeds N] [--first-seed S] [--budget-seconds T] [--min-seeds N] [--expect-failure]
                        [--nodes N|LOW-HIGH] [--active-ms MS] [--skip-coverage] [--jobs N]
               bizra-sim replay [--scenario register|gset|raft] [--bug NAME] [--nodes …] [--active-ms MS] --seed S [--trace] [--history FILE]
                        [--faults I,J,…|none]
               bizra-sim shrink [--scenario …] [--bug NAME] [--nodes …] [--active-ms MS] --seed S
               bizra-sim check  FILE --model register|cas-register|lock|set|counter [--initial N] [--budget-seconds T]
               bizra-sim bench  [--repeats N]
               bizra-sim bench raft [--only a,b,c,d] [--elections N] [--scenario-seeds N] [--entries N] [--repeats N]
        bugs: register: \(ReplicatedRegister.Bug.allCases.map(\.rawValue).joined(separator: ", "));\
         gset: \(GossipSet.Bug.allCases.map(\.rawValue).joined(separator: ", "));\
         raft: \(RaftSim.Bug.allCases.map(\.rawValue).joined(separator: ", "))
        """)
    status = arguments.isEmpty || arguments.first == "help" ? 0 : 2
}
exit(status)
