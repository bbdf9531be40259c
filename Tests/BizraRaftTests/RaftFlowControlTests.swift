import BizraSim
import Testing

@testable import BizraRaft

/// The in-flight window's byte limit (the transcripts cover the message-count limit).
@Suite struct RaftFlowControlTests {
    /// Appends with entries queued for `peer` after `count` proposals of 256 bytes, with the
    /// follower never answering (so nothing leaves the window).
    static func appendsInFlight(inflightBytesMax: Int, proposals count: Int, to peer: Raft.NodeID = 2) -> Int {
        var cluster = RaftMemoryCluster(configuration: Raft.Configuration(weights: [1: 1, 2: 1, 3: 1])) { settings in
            settings.inflightBytesMax = inflightBytesMax
        }
        guard let leader = cluster.electLeader() else { return -1 }
        _ = cluster.nodes[leader]!.propose([0], id: .init(node: leader, sequence: 1))
        cluster.process(leader)
        cluster.deliverAll()  // every follower acknowledges and moves to replicate
        let target = peer == leader ? (leader % 3) + 1 : peer
        for sequence in 2...UInt64(count + 1) {
            _ = cluster.nodes[leader]!.propose(
                [UInt8](repeating: 7, count: 256), id: .init(node: leader, sequence: sequence))
            cluster.process(leader)
        }
        return cluster.queue.filter { message in
            guard message.to == target, case .append(let append) = message.body else { return false }
            return !append.entries.isEmpty
        }.count
    }

    @Test func theByteLimitStopsPipeliningOnceReached() {
        // Each entry accounts 256 + 77 = 333 bytes: three fit under 1,000, the fourth fills it.
        #expect(Self.appendsInFlight(inflightBytesMax: 1_000, proposals: 20) == 4)
    }

    @Test func withoutTheByteLimitTheMessageLimitAloneApplies() {
        #expect(Self.appendsInFlight(inflightBytesMax: 8 * 1_024 * 1_024, proposals: 20) == 20)
    }
}
