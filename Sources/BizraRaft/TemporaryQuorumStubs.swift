// TEMPORARY naive stand-ins until the raft-quorum branch lands (RaftQuorum.swift, RaftMerkle.swift).
import BizraCrypto

extension Raft {
    package enum VoteResult: Equatable, Sendable { case pending, lost, won }

    package struct MajorityConfig: Equatable, Hashable, Sendable {
        var pairs: [(id: NodeID, weight: UInt64)]
        package init(_ weights: [NodeID: UInt64]) {
            pairs = weights.map { ($0.key, $0.value) }.sorted { $0.id < $1.id }
        }
        package init() { pairs = [] }
        package static func == (a: Self, b: Self) -> Bool { a.pairs.elementsEqual(b.pairs) { $0 == $1 } }
        package func hash(into h: inout Hasher) { for p in pairs { h.combine(p.id); h.combine(p.weight) } }
        package var ids: [NodeID] { pairs.map(\.id) }
        package func weight(of id: NodeID) -> UInt64? { pairs.first { $0.id == id }?.weight }
        package func contains(_ id: NodeID) -> Bool { weight(of: id) != nil }
        package var totalWeight: UInt64 { pairs.reduce(0) { $0 + $1.weight } }
        package var isEmpty: Bool { pairs.isEmpty }
        package var count: Int { pairs.count }
        package var hasEqualWeights: Bool { Set(pairs.map(\.weight)).count <= 1 }
        package func isQuorum(_ members: some Sequence<NodeID>) -> Bool {
            let set = Set(members)
            return pairs.filter { set.contains($0.id) }.reduce(0) { $0 + $1.weight } * 2 > totalWeight
        }
        package func committedIndex(_ acked: (NodeID) -> Index?) -> Index {
            if pairs.isEmpty { return Index.max }
            let sorted = pairs.map { (acked($0.id) ?? 0, $0.weight) }.sorted { $0.0 > $1.0 }
            var sum: UInt64 = 0
            for (index, weight) in sorted {
                sum += weight
                if sum * 2 > totalWeight { return index }
            }
            return 0
        }
        package func voteResult(_ votes: (NodeID) -> Bool?) -> VoteResult {
            if pairs.isEmpty { return .won }
            var yes: UInt64 = 0
            var missing: UInt64 = 0
            for p in pairs {
                switch votes(p.id) {
                case .some(true): yes += p.weight
                case .none: missing += p.weight
                default: break
                }
            }
            if yes * 2 > totalWeight { return .won }
            if (yes + missing) * 2 > totalWeight { return .pending }
            return .lost
        }
    }

    package struct JointConfig: Equatable, Hashable, Sendable {
        package var incoming: MajorityConfig
        package var outgoing: MajorityConfig
        package init(incoming: MajorityConfig, outgoing: MajorityConfig = MajorityConfig()) {
            self.incoming = incoming
            self.outgoing = outgoing
        }
        package var isJoint: Bool { !outgoing.isEmpty }
        package var ids: [NodeID] { Array(Set(incoming.ids + outgoing.ids)).sorted() }
        package func contains(_ id: NodeID) -> Bool { incoming.contains(id) || outgoing.contains(id) }
        package func committedIndex(_ acked: (NodeID) -> Index?) -> Index {
            min(incoming.committedIndex(acked), outgoing.committedIndex(acked))
        }
        package func voteResult(_ votes: (NodeID) -> Bool?) -> VoteResult {
            let a = incoming.voteResult(votes)
            let b = outgoing.voteResult(votes)
            if a == b { return a }
            if a == .lost || b == .lost { return .lost }
            return .pending
        }
        package func isQuorum(_ members: some Sequence<NodeID>) -> Bool {
            let m = Array(members)
            return (incoming.isEmpty || incoming.isQuorum(m)) && (outgoing.isEmpty || outgoing.isQuorum(m))
        }
    }

    package struct MerkleFrontier: Equatable, Hashable, Sendable {
        package private(set) var size: UInt64 = 0
        package private(set) var peaks: [Digest256] = []
        package init() {}
        package init?(size: UInt64, peaks: [Digest256]) {
            guard peaks.count == size.nonzeroBitCount else { return nil }
            self.size = size
            self.peaks = peaks
        }
        package mutating func append(_ leaf: Digest256) {
            size += 1
            peaks.append(leaf)
        }
        package var root: Digest256 { peaks.last ?? .zero }
    }
}
