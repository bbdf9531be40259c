import BizraCrypto
import BizraRaft
import Testing

@testable import BizraSim

/// The Raft core under the swarm (`RaftScenario`): seeds pass, a seed replays to the same trace,
/// each injected adapter bug is found, and every seed that once failed is a regression test.
@Suite struct RaftScenarioTests {
    @Test func raftPassesSwarmSeeds() {
        let sweep = SwarmSweep.run(RaftScenario(), firstSeed: 1, count: 8)
        #expect(sweep.failed == 0, "\(sweep.failures.map { "seed \($0.seed): \($0.failure)" })")
        #expect(sweep.unknown == 0)
    }

    @Test func sameSeedGivesByteIdenticalTrace() {
        var scenario = RaftScenario()
        scenario.recordTrace = true
        let first = scenario.run(seed: 3)
        let second = scenario.run(seed: 3)
        #expect(!first.trace.isEmpty)
        #expect(first.trace == second.trace)
        #expect(first.history.jsonLines() == second.history.jsonLines())
        #expect(RaftScenario().run(seed: 3).traceHash == first.traceHash, "recording does not perturb the run")
    }

    /// Seeds that failed once, with what they found. Each must pass now.
    @Test(arguments: RaftScenarioTests.regressionSeeds)
    func regressionSeedPasses(seed: UInt64, found: String) {
        let failure = RaftScenario().run(seed: seed).failure
        #expect(failure == nil, "seed \(seed) (\(found)): \(failure.map { "\($0)" } ?? "")")
    }

    static let regressionSeeds: [(UInt64, String)] = [
        (8, "a network-duplicated forwardedProposals message committed a put twice; the state machine now dedupes"),
        (14, "lost appends filled a follower's in-flight window for good (fixed on main: free a slot on heartbeat)"),
        (419, "a duplicated forwardedProposals message: one copy appended, the other refused, so dropped was reported"),
        (2227, "a follower installed a snapshot older than its log and dropped an entry it had acknowledged"),
        (42467, "a leader removed by joint consensus stepped down before the new voters knew leave-joint committed"),
        (97275, "the same: the remaining voters stayed joint, needing the removed leader's vote, and never elected"),
        (16246, "a removed leader's hand-over ended by check-quorum; the joint voters needed its vote: commit notice"),
    ]

    @Test(arguments: RaftScenarioTests.bugSeeds)
    func injectedBugIsFound(bug: RaftSim.Bug, seed: UInt64) {
        var scenario = RaftScenario()
        scenario.bug = bug
        let found = scenario.run(seed: seed).failure
        #expect(found != nil, "seed \(seed) should find \(bug.rawValue)")
        let correct = RaftScenario().run(seed: seed).failure
        #expect(correct == nil, "the correct adapter should pass seed \(seed): \(correct.map { "\($0)" } ?? "")")
    }

    /// The first seed that finds each bug (`bizra-sim run --scenario raft --bug NAME --expect-failure`).
    static let bugSeeds: [(RaftSim.Bug, UInt64)] = [
        (.persistedBeforeDurable, 29), (.ackBeforeCommit, 1), (.applyBeforeCommit, 7),
    ]

    @Test func recoveryFoldsWritesCompactionsAndSnapshots() {
        let configuration = Raft.Configuration(weights: [1: 1, 2: 1, 3: 1])
        var entries: [Raft.Entry] = []
        var previous = Digest256.zero
        for index in 1...6 as ClosedRange<Raft.Index> {
            let entry = Raft.Entry(
                term: 1, index: index, kind: .normal, origin: .none, payload: [UInt8(index)], previous: previous)
            entries.append(entry)
            previous = entry.hash
        }
        let first = Raft.StorageWrite(
            token: 1, hardState: Raft.HardState(term: 1, vote: 1, commit: 0), snapshot: nil,
            entries: Array(entries[0..<5]))
        // Entries 4... replaced by a new 4 and 5 of term 2.
        var replaced: [Raft.Entry] = []
        previous = entries[2].hash
        for index in 4...5 as ClosedRange<Raft.Index> {
            let entry = Raft.Entry(
                term: 2, index: index, kind: .normal, origin: .none, payload: [9], previous: previous)
            replaced.append(entry)
            previous = entry.hash
        }
        let second = Raft.StorageWrite(
            token: 2, hardState: Raft.HardState(term: 2, vote: 2, commit: 4), snapshot: nil, entries: replaced)
        var snapshot = Raft.Snapshot.bootstrap(configuration)
        snapshot.metadata.index = 3
        snapshot.metadata.term = 1
        snapshot.metadata.chainHead = entries[2].hash
        let recovery = RaftSim.Recovery(
            records: [.incarnation(1), .write(first), .write(second), .compaction(snapshot), .incarnation(2)],
            bootstrap: configuration)
        #expect(recovery.problem == nil)
        #expect(recovery.incarnation == 2)
        #expect(recovery.recovered.snapshot.metadata.index == 3)
        #expect(recovery.recovered.entries.map(\.index) == [4, 5])
        #expect(recovery.recovered.entries.map(\.term) == [2, 2])
        #expect(recovery.recovered.hardState == Raft.HardState(term: 2, vote: 2, commit: 4))
        #expect(recovery.commit == 4)
        let installed = Raft.StorageWrite(token: 3, hardState: nil, snapshot: snapshot, entries: [])
        let afterInstall = RaftSim.Recovery(records: [.write(first), .write(installed)], bootstrap: configuration)
        #expect(afterInstall.recovered.entries.isEmpty, "an installed snapshot discards the stored entries")
    }

    @Test func stateMachineAppliesEachProposalOnce() {
        var machine = RaftSim.StateMachine(keyCount: 2)
        let origin = Raft.ProposalID(node: 3, sequence: 1 << 32 | 5)
        #expect(machine.apply(.put(key: 0, value: 7), origin: origin) == .written)
        #expect(machine.apply(.put(key: 0, value: 7), origin: origin) != .written, "a copy is refused")
        let later = Raft.ProposalID(node: 3, sequence: 1 << 32 | 9)
        #expect(machine.apply(.cas(key: 0, expected: 7, new: 8), origin: later) == .swapped)
        let between = Raft.ProposalID(node: 3, sequence: 1 << 32 | 6)
        #expect(machine.apply(.put(key: 1, value: 4), origin: between) == .written, "out of order, not a copy")
        let tooOld = Raft.ProposalID(node: 3, sequence: 5)
        #expect(machine.apply(.put(key: 1, value: 5), origin: tooOld) != .written)
        #expect(machine.values == [8, 4])
        let decoded = RaftSim.StateMachine(decoding: machine.encoded, keyCount: 2)
        #expect(decoded == machine)
        #expect(RaftSim.StateMachine(decoding: [], keyCount: 2) == RaftSim.StateMachine(keyCount: 2))
    }
}
