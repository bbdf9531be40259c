import Testing

@testable import BizraSim

@Suite struct NetworkPartitionTests {
    func reachable(_ network: SimNetwork, from node: NodeID) -> Set<NodeID> {
        Set((0..<network.clusterSize).filter { !network.isBlocked(from: node, to: $0) })
    }

    @Test func isolateCutsOneNodeBothWays() {
        var network = SimNetwork(clusterSize: 5)
        network.apply(.isolate(2))
        #expect(reachable(network, from: 2) == [2])
        #expect(reachable(network, from: 0) == [0, 1, 3, 4])
    }

    @Test func splitSeparatesMinorityFromMajority() {
        var network = SimNetwork(clusterSize: 5)
        network.apply(.split([0, 1]))
        #expect(reachable(network, from: 0) == [0, 1])
        #expect(reachable(network, from: 4) == [2, 3, 4])
    }

    @Test func bridgeNodeSeesBothSides() {
        var network = SimNetwork(clusterSize: 5)
        network.apply(.bridge(left: [0, 1], bridge: 2, right: [3, 4]))
        #expect(reachable(network, from: 2) == [0, 1, 2, 3, 4])
        #expect(reachable(network, from: 0) == [0, 1, 2])
    }

    @Test func ringGivesEveryNodeADifferentMajority() {
        for size in [4, 5, 7, 9] {
            var network = SimNetwork(clusterSize: size)
            network.apply(.ringMajorities(order: Array(0..<size)))
            var views = Set<Set<NodeID>>()
            for node in 0..<size {
                let view = reachable(network, from: node)
                #expect(view.count > size / 2, "node \(node) of \(size) sees only \(view)")
                #expect(view.count < size)
                views.insert(view)
            }
            #expect(views.count == size)
        }
    }

    @Test func oneWayBlocksOnlyOneDirection() {
        var network = SimNetwork(clusterSize: 3)
        network.apply(.oneWay(from: [0], to: [1, 2]))
        #expect(network.isBlocked(from: 0, to: 1) && !network.isBlocked(from: 1, to: 0))
        network.clearPartitions()
        #expect(!network.isBlocked(from: 0, to: 1))
    }

    @Test func linkOverridesAreBounded() {
        var network = SimNetwork(clusterSize: 100)
        var accepted = 0
        for a in 0..<100 {
            for b in 0..<100 where network.setLink(from: a, to: b, .healthy) { accepted += 1 }
        }
        #expect(accepted == SimulatorLimits.linkOverridesMax)
    }

    @Test func faultPlansAreDrawnFromTheSeedAlone() {
        var a = SimRNG(seed: 5)
        var b = SimRNG(seed: 5)
        let planA = FaultPlan.draw(rng: &a, clusterSize: 5, activeDuration: 1_000_000)
        let planB = FaultPlan.draw(rng: &b, clusterSize: 5, activeDuration: 1_000_000)
        #expect(planA == planB)
        var kinds = Set<String>()
        for seed in 1...300 as ClosedRange<UInt64> {
            var rng = SimRNG(seed: seed)
            kinds.insert(String(describing: FaultPlan.drawShape(&rng, clusterSize: 5)).prefix(4).description)
        }
        #expect(kinds == ["isol", "spli", "brid", "ring", "oneW"])
    }
}
