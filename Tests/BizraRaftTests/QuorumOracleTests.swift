import BizraSim
import Testing

@testable import BizraRaft

/// The weighted quorum rules against brute-force oracles that follow the definitions literally
/// (etcd-io/raft checks its quorum package the same way). Every failure message names the seed
/// and case, so a failure replays by running the same seed.
@Suite struct QuorumOracleTests {
    typealias NodeID = Raft.NodeID
    typealias Index = Raft.Index

    static let oracleSeed: UInt64 = 0x1F5A_0001
    static let oracleCases = 60_000
    /// Failures reported individually before the rest are only counted.
    static let reportedFailuresMax = 5

    @Test func committedIndexVoteResultAndQuorumAgreeWithTheOracle() {
        var rng = SimRNG(seed: Self.oracleSeed)
        var failures = 0
        func fail(_ message: @autoclosure () -> String) {
            failures += 1
            if failures <= Self.reportedFailuresMax { Issue.record(Comment(rawValue: message())) }
        }
        for number in 0..<Self.oracleCases {
            let joint = Self.randomJointConfig(&rng, votersMax: 7)
            let union = Self.union(joint)
            func context() -> String { "seed \(Self.oracleSeed) case \(number): \(joint)" }
            if joint.ids != union { fail("\(context()): ids \(joint.ids), expected \(union)") }

            // Acks and votes for the voters and a few non-voters (which must count nothing).
            var acks: [NodeID: Index] = [:]
            var votes: [NodeID: Bool] = [:]
            for id in Self.idPool where rng.next() % 4 != 0 {
                acks[id] = rng.next() % 12
                if rng.next() % 3 != 0 { votes[id] = rng.next() % 2 == 0 }
            }
            let committed = joint.committedIndex { acks[$0] }
            let expectedCommitted = Self.oracleCommittedIndex(joint, acks)
            if committed != expectedCommitted {
                fail(
                    "\(context()) acks \(acks.sorted { $0.key < $1.key }): \(committed), expected \(expectedCommitted)")
            }
            let result = joint.voteResult { votes[$0] }
            let expectedResult = Self.oracleVoteResult(joint, votes)
            if result != expectedResult {
                fail("\(context()) votes \(votes.sorted { $0.key < $1.key }): \(result), expected \(expectedResult)")
            }
            let members = Self.idPool.filter { _ in rng.next() % 2 == 0 }
            let withDuplicates = members + members.prefix(2)
            let quorum = joint.isQuorum(withDuplicates)
            let expectedQuorum =
                Self.oracleIsQuorum(joint.incoming, members) && Self.oracleIsQuorum(joint.outgoing, members)
            if quorum != expectedQuorum {
                fail("\(context()) members \(members): isQuorum \(quorum), expected \(expectedQuorum)")
            }
        }
        #expect(
            failures == 0, "\(failures) of \(Self.oracleCases) cases disagree with the oracle (seed \(Self.oracleSeed))"
        )
    }

    /// The safety argument for changing weights through joint consensus: any two sets that are
    /// each a quorum of a joint configuration share a voter (both contain a quorum of the
    /// incoming half, and two quorums of one weighted configuration intersect).
    @Test func anyTwoJointQuorumsIntersect() {
        let seed: UInt64 = 0x1F5A_0002
        var rng = SimRNG(seed: seed)
        for number in 0..<300 {
            var joint = Self.randomJointConfig(&rng, votersMax: 6)
            if joint.incoming.isEmpty { joint.incoming = Raft.MajorityConfig([Self.idPool[0]: 1]) }
            let union = Self.union(joint)
            let quorums = Self.subsets(of: union).filter { mask in joint.isQuorum(Self.members(mask, of: union)) }
            #expect(!quorums.isEmpty, "seed \(seed) case \(number): \(joint) has no quorum")
            var disjoint: (UInt64, UInt64)? = nil
            for a in quorums where disjoint == nil {
                for b in quorums where a & b == 0 {
                    disjoint = (a, b)
                    break
                }
            }
            if let (a, b) = disjoint {
                Issue.record(
                    "seed \(seed) case \(number): \(joint) has disjoint quorums \(Self.members(a, of: union)) and \(Self.members(b, of: union))"
                )
            }
        }
    }

    /// Why weight changes and unequal-weight membership changes need joint consensus: changing
    /// ONE voter's weight (adding a voter is a change from 0, removing one a change to 0) can
    /// leave the old and the new configuration with disjoint quorums, so two leaders could be
    /// elected in one term. With equal weights, adding or removing one voter never can (Raft
    /// dissertation §4.1), which is the only case single-server changes are allowed.
    @Test func singleStepWeightChangesCanSplitTheClusterButEqualWeightSingleServerChangesCannot() {
        let ids: [NodeID] = [1, 2, 3, 4]
        var unsafeChanges: [(Raft.MajorityConfig, Raft.MajorityConfig)] = []
        // Every configuration of up to 4 voters with weights 0...3 (0: not a voter), and every
        // change of one voter's weight.
        for code in 0..<256 {
            let weights = ids.enumerated().map { UInt64((code >> (2 * $0.offset)) & 3) }
            for changed in ids.indices {
                for newWeight: UInt64 in 0...3 where newWeight != weights[changed] {
                    var after = weights
                    after[changed] = newWeight
                    let old = Self.config(ids, weights)
                    let new = Self.config(ids, after)
                    guard !old.isEmpty, !new.isEmpty else { continue }
                    let split = Self.haveDisjointQuorums(old, new, ids)
                    if split { unsafeChanges.append((old, new)) }
                    let equalWeightsAddOrRemove =
                        old.hasEqualWeights && new.hasEqualWeights
                        && (weights[changed] == 0 || newWeight == 0) && Set(weights + after).count <= 2
                    if equalWeightsAddOrRemove {
                        #expect(!split, "adding or removing one equal-weight voter split \(old) -> \(new)")
                    }
                }
            }
        }
        #expect(!unsafeChanges.isEmpty)
        // The smallest instance: re-weighting one of three voters from 1 to 3.
        let old = Raft.MajorityConfig([1: 1, 2: 1, 3: 1])
        let new = Raft.MajorityConfig([1: 1, 2: 1, 3: 3])
        #expect(old.isQuorum([1, 2]) && new.isQuorum([3]))
        #expect(unsafeChanges.contains { $0 == (old, new) })
        // Through joint consensus the same change is safe: a quorum of {new && old} meets both.
        let joint = Raft.JointConfig(incoming: new, outgoing: old)
        #expect(!joint.isQuorum([3]) && !joint.isQuorum([1, 2]) && joint.isQuorum([1, 3]))
    }

    /// Equal weights (of any value) are plain Raft: a quorum is more than half of the voters by
    /// count, the commit index is the median acknowledgement, and votes count heads.
    @Test func equalWeightsAreAPlainMajority() {
        let seed: UInt64 = 0x1F5A_0003
        var rng = SimRNG(seed: seed)
        for number in 0..<5_000 {
            let count = Int(rng.next() % UInt64(Self.idPool.count)) + 1
            let ids = Array(Self.idPool.shuffled(using: &rng).prefix(count))
            let weight = [1, 2, 7, 1_000][Int(rng.next() % 4)] as UInt64
            let config = Raft.MajorityConfig(Dictionary(uniqueKeysWithValues: ids.map { ($0, weight) }))
            let context = "seed \(seed) case \(number): \(config)"
            #expect(config.hasEqualWeights, "\(context)")
            #expect(Raft.MajorityConfig(equalWeights: ids + ids.prefix(1)).ids == config.ids, "\(context)")

            let members = ids.filter { _ in rng.next() % 2 == 0 }
            #expect(config.isQuorum(members) == (members.count > count / 2), "\(context) members \(members)")

            let acks = Dictionary(uniqueKeysWithValues: ids.map { ($0, rng.next() % 20) })
            // etcd-io/raft: sort ascending and take the index at position n - (n/2 + 1).
            let median = acks.values.sorted()[count - (count / 2 + 1)]
            #expect(config.committedIndex { acks[$0] } == median, "\(context) acks \(acks)")

            let votes = Dictionary(
                uniqueKeysWithValues: ids.compactMap { id in
                    rng.next() % 3 == 0 ? nil : (id, rng.next() % 2 == 0)
                })
            let yes = votes.values.filter { $0 }.count
            let missing = count - votes.count
            let expected: Raft.VoteResult =
                yes > count / 2 ? .won : (yes + missing > count / 2 ? .pending : .lost)
            #expect(config.voteResult { votes[$0] } == expected, "\(context) votes \(votes)")
        }
    }

    @Test func emptyConfigurationsFollowEtcdConventions() {
        let empty = Raft.MajorityConfig()
        #expect(empty.isEmpty && empty.count == 0 && empty.totalWeight == 0 && empty.ids.isEmpty)
        #expect(empty.committedIndex { _ in 5 } == Raft.Index.max)
        #expect(empty.voteResult { _ in false } == .won)
        #expect(empty.isQuorum([]))
        let plain = Raft.JointConfig(incoming: Raft.MajorityConfig([1: 2, 2: 1, 3: 1]))
        #expect(!plain.isJoint)
        #expect(plain.committedIndex { [1: 7, 2: 3][$0] } == 3)
        #expect(plain.committedIndex { [1: 7, 2: 3, 3: 9][$0] } == 7)
        #expect(plain.voteResult { $0 == 1 ? true : nil } == .pending)
        #expect(plain.voteResult { $0 == 3 ? nil : $0 == 2 } == .lost)
        #expect(plain.description == "{1:2 2:1 3:1}")
    }

    @Test func accessorsReportTheConfiguration() {
        let config = Raft.MajorityConfig([9: 4, 2: 1, 5: 3])
        #expect(config.ids == [2, 5, 9])
        #expect(config.totalWeight == 8 && config.count == 3 && !config.hasEqualWeights)
        #expect(config.weight(of: 5) == 3 && config.weight(of: 4) == nil)
        #expect(config.contains(9) && !config.contains(10))
        #expect(config == Raft.MajorityConfig([5: 3, 2: 1, 9: 4]))
        let joint = Raft.JointConfig(incoming: config, outgoing: Raft.MajorityConfig([1: 1, 5: 1]))
        #expect(joint.isJoint && joint.ids == [1, 2, 5, 9])
        #expect(joint.contains(1) && joint.contains(9) && !joint.contains(3))
        #expect(joint.description == "{2:1 5:3 9:4}&&{1:1 5:1}")
    }

    // MARK: - Oracles: the definitions, computed the slow way

    /// The largest i in {0} ∪ {acknowledged indexes} such that, in every non-empty half, the
    /// voters that acknowledged at least i (no ack: 0) hold more than half of the weight.
    static func oracleCommittedIndex(_ joint: Raft.JointConfig, _ acks: [NodeID: Index]) -> Index {
        // Each non-empty half as its voters' (acknowledged index, weight), and its total.
        let halves = [joint.incoming, joint.outgoing].filter { !$0.isEmpty }.map { half in
            (voters: half.ids.map { (ack: acks[$0] ?? 0, weight: half.weight(of: $0)!) }, total: half.totalWeight)
        }
        guard !halves.isEmpty else { return Index.max }
        var best: Index = 0
        for candidate in acks.values where candidate > best {
            var committedEverywhere = true
            for half in halves where committedEverywhere {
                var weight: UInt64 = 0
                for voter in half.voters where voter.ack >= candidate { weight += voter.weight }
                committedEverywhere = 2 * weight > half.total
            }
            if committedEverywhere { best = candidate }
        }
        return best
    }

    /// Enumerates every way the missing votes could still be cast: won when every completion
    /// wins both halves, lost when none does, pending otherwise. Sets of voters are bit masks
    /// over the union's ids, so that the enumeration stays fast enough for many cases.
    static func oracleVoteResult(_ joint: Raft.JointConfig, _ votes: [NodeID: Bool]) -> Raft.VoteResult {
        let union = union(joint)
        let halves = [joint.incoming, joint.outgoing].map { half in
            (weights: union.map { half.weight(of: $0) ?? 0 }, total: half.totalWeight)
        }
        func winsBothHalves(_ yes: UInt64) -> Bool {
            for half in halves where half.total > 0 {
                var weight: UInt64 = 0
                var members = yes
                while members != 0 {
                    weight += half.weights[members.trailingZeroBitCount]
                    members &= members - 1
                }
                if 2 * weight <= half.total { return false }
            }
            return true
        }
        let missing = union.indices.filter { votes[union[$0]] == nil }
        let cast = union.indices.filter { votes[union[$0]] == true }.reduce(UInt64(0)) { $0 | 1 << UInt64($1) }
        var wins = 0
        for completion in 0..<(UInt64(1) << UInt64(missing.count)) {
            // Spread the completion's bits onto the missing voters' positions.
            var yes = cast
            var bits = completion
            while bits != 0 {
                yes |= 1 << UInt64(missing[bits.trailingZeroBitCount])
                bits &= bits - 1
            }
            if winsBothHalves(yes) { wins += 1 }
        }
        if wins == 1 << missing.count { return .won }
        return wins == 0 ? .lost : .pending
    }

    /// More than half the weight held by the distinct voters among `members`; the empty
    /// configuration accepts anything.
    static func oracleIsQuorum(_ config: Raft.MajorityConfig, _ members: [NodeID]) -> Bool {
        guard !config.isEmpty else { return true }
        let weight = Set(members).compactMap { config.weight(of: $0) }.reduce(0, +)
        return 2 * weight > config.totalWeight
    }

    // MARK: - Generators

    /// Ids are drawn from a small pool so that the halves of a joint configuration overlap.
    static let idPool: [NodeID] = [1, 2, 3, 4, 5, 6, 7, 8, 9]

    /// Two halves drawn independently, so shared voters usually have different weights in each
    /// (a weight change); about one in five outgoing halves is empty (not joint) and about one
    /// in twenty incoming halves is empty.
    static func randomJointConfig(_ rng: inout SimRNG, votersMax: Int) -> Raft.JointConfig {
        let incoming = rng.next() % 20 == 0 ? Raft.MajorityConfig() : randomConfig(&rng, votersMax: votersMax)
        let outgoing = rng.next() % 5 == 0 ? Raft.MajorityConfig() : randomConfig(&rng, votersMax: votersMax)
        return Raft.JointConfig(incoming: incoming, outgoing: outgoing)
    }

    static func randomConfig(_ rng: inout SimRNG, votersMax: Int) -> Raft.MajorityConfig {
        let count = Int(rng.next() % UInt64(votersMax)) + 1
        let ids = idPool.shuffled(using: &rng).prefix(count)
        let style = rng.next() % 4
        return Raft.MajorityConfig(
            Dictionary(
                uniqueKeysWithValues: ids.map { id in
                    switch style {
                    case 0: (id, 1)  // plain Raft
                    case 1: (id, rng.next() % (Raft.MajorityConfig.weightTotalMax / 16) + 1)  // large weights
                    default: (id, rng.next() % 5 + 1)  // small weights: many ties at exactly half
                    }
                }))
    }

    static func config(_ ids: [NodeID], _ weights: [UInt64]) -> Raft.MajorityConfig {
        Raft.MajorityConfig(Dictionary(uniqueKeysWithValues: zip(ids, weights).filter { $0.1 > 0 }))
    }

    static func union(_ joint: Raft.JointConfig) -> [NodeID] {
        Set(joint.incoming.ids + joint.outgoing.ids).sorted()
    }

    static func subsets(of ids: [NodeID]) -> [UInt64] {
        Array(0..<(UInt64(1) << UInt64(ids.count)))
    }

    static func members(_ mask: UInt64, of ids: [NodeID]) -> [NodeID] {
        ids.enumerated().filter { mask & (1 << UInt64($0.offset)) != 0 }.map(\.element)
    }

    /// True when some quorum of `a` and some quorum of `b` share no voter.
    static func haveDisjointQuorums(_ a: Raft.MajorityConfig, _ b: Raft.MajorityConfig, _ ids: [NodeID]) -> Bool {
        let all = subsets(of: ids)
        let quorumsA = all.filter { a.isQuorum(members($0, of: ids)) }
        let quorumsB = all.filter { b.isQuorum(members($0, of: ids)) }
        return quorumsA.contains { qa in quorumsB.contains { qb in qa & qb == 0 } }
    }
}
