import BizraSim
import Testing

@testable import BizraRaft

@Suite struct RaftSmokeTests {
    static func threeNodes() -> Raft.Configuration { Raft.Configuration(weights: [1: 1, 2: 1, 3: 1]) }

    @Test func threeNodesElectALeaderAndCommit() {
        var cluster = RaftMemoryCluster(configuration: Self.threeNodes())
        let leader = cluster.electLeader()
        #expect(leader != nil)
        guard let leader else { return }
        for sequence in 1...100 {
            let result = cluster.nodes[leader]!.propose(
                [UInt8](repeating: UInt8(sequence), count: 16), id: .init(node: leader, sequence: UInt64(sequence)))
            guard case .success = result else {
                Issue.record("proposal \(sequence) refused: \(result)")
                return
            }
            cluster.process(leader)
            cluster.deliverAll()
        }
        for _ in 0..<3 {
            cluster.tickAll()
            cluster.deliverAll()
        }
        for id in cluster.ids {
            #expect(cluster.applied[id]!.count == 101, "node \(id) applied \(cluster.applied[id]!.count)")
            #expect(cluster.nodes[id]!.status.merkleRoot == cluster.nodes[leader]!.status.merkleRoot)
        }
        let committed = cluster.outcomes[leader]!.filter {
            if case .committed = $0.result { return true } else { return false }
        }
        #expect(committed.count == 100)
    }

    @Test func aNewLeaderTakesOverAfterACrash() {
        var cluster = RaftMemoryCluster(configuration: Self.threeNodes())
        let first = cluster.electLeader()!
        _ = cluster.nodes[first]!.propose([1, 2, 3], id: .init(node: first, sequence: 1))
        cluster.process(first)
        cluster.deliverAll()
        cluster.crash(first)
        var second: Raft.NodeID?
        for _ in 0..<100 {
            cluster.tickAll()
            cluster.deliverAll()
            if let leader = cluster.leader, leader != first { second = leader; break }
        }
        #expect(second != nil)
        cluster.restart(first)
        for _ in 0..<20 {
            cluster.tickAll()
            cluster.deliverAll()
        }
        #expect(cluster.nodes[first]!.role == .follower)
        #expect(cluster.nodes[first]!.status.commit == cluster.nodes[second!]!.status.commit)
    }

    /// Proposals settled long before they would expire do not pile up in the expiry order.
    @Test func settledProposalsDoNotGrowTheExpiryOrderWithoutBound() {
        var tracker = Raft.ProposalTracker()
        var outcomes: [Raft.ProposalOutcome] = []
        let pending = Raft.ProposalID(node: 2, sequence: 1)
        tracker.trackForwarded(pending, tick: 0)
        let total = 3 * Raft.Limits.proposalsPendingMax
        for index in 1...Raft.Index(total) {
            let id = Raft.ProposalID(node: 1, sequence: index)
            tracker.track(index: index, id: id, tick: 0)
            let entry = Raft.Entry(term: 1, index: index, kind: .normal, origin: id, payload: [], previous: .zero)
            tracker.settleCommitted(entry, me: 1, into: &outcomes)
        }
        #expect(outcomes.count == total)
        #expect(tracker.count == 1)
        #expect(tracker.orderLength <= 2 * Raft.Limits.proposalsPendingMax + 1, "\(tracker.orderLength)")
        // The proposal still pending survived the compactions and still expires.
        tracker.expire(now: 1_000, timeoutTicks: 100, into: &outcomes)
        #expect(outcomes.count == total + 1)
        #expect(outcomes.last == Raft.ProposalOutcome(id: pending, result: .unknown(reason: "timed out")))
    }
}
