import Testing

@testable import BizraSim

/// The example in docs/SIMULATION.md ("Writing a scenario for a new core"), kept compiling and
/// passing here.
@Suite struct DocumentationExampleTests {
    @Test func documentedExampleRunsAndItsHistoryIsLinearizable() {
        var sim = Simulator<ReplicatedRegisterNode>(
            settings: SimSettings(clusterSize: 5, seed: 42), nodeConfig: .init())
        sim.invariants = [RegisterScenario.backupLogWithinLeaderLog]
        sim.schedule(fault: .partition(.split([0, 1])), at: 100_000)
        sim.schedule(fault: .healAll, at: 600_000)
        var clients = RegisterWorkload(clientCount: 4, keyCount: 3, stopAt: 1_000_000)
        clients.start(&sim)
        let failure = sim.run(until: 1_500_000, workload: &clients)
        #expect(failure == nil)
        #expect(LinearizabilityChecker(model: CASRegisterModel(initial: 0)).check(clients.history) == .valid)
        #expect(clients.history.events.count > 100)
    }
}
