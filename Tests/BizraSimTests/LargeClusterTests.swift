import Testing

@testable import BizraSim

/// A large cluster under a partition, small enough for a debug test binary; the 1,000-node
/// figures come from the release runner (`bizra-sim run --nodes 1000`, `bizra-sim bench`).
@Suite struct LargeClusterTests {
    @Test func twoHundredNodeRegisterCommitsAcrossAPartitionAndConverges() {
        var config = ReplicatedRegister.Config()
        config.keyCount = 2
        var sim = Simulator<ReplicatedRegisterNode>(
            settings: SimSettings(clusterSize: 200, seed: 3), nodeConfig: config)
        // The leader (node 0) ends up in the minority, so nothing commits until the heal.
        sim.schedule(fault: .partition(.split(Array(0..<80))), at: 2_000)
        sim.schedule(fault: .healPartitions, at: 8_000)
        var workload = RegisterWorkload(clientCount: 2, keyCount: 2, stopAt: 10_000)
        workload.think = 0...500
        workload.start(&sim)
        sim.run(until: 25_000, workload: &workload)
        let leaderLog = sim.nodes[0]!.log
        #expect(!leaderLog.isEmpty)
        let diverged = (1..<200).filter { sim.nodes[$0]!.log != leaderLog }
        #expect(diverged.isEmpty, "\(diverged.count) nodes differ from the leader")
        let verdict = LinearizabilityChecker(model: CASRegisterModel(initial: 0)).check(workload.history)
        #expect(verdict == .valid)
    }
}
