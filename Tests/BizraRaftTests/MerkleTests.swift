import BizraCrypto
import BizraSim
import Foundation
import Testing

@testable import BizraRaft

@Suite struct MerkleTests {
    static func leaves(_ count: Int, seed: UInt64) -> [Digest256] {
        var rng = SimRNG(seed: seed)
        return (0..<count).map { _ in
            Digest256(bytes: (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        }
    }

    static func hash(_ parts: [UInt8]...) -> Digest256 {
        Digest256(bytes: Blake2b.hash(parts.flatMap { $0 }))
    }

    /// The tree shape of RFC 6962 §2.1 written out for small trees with the one-shot hash, so
    /// the recursive reference is itself checked against the definition.
    @Test func referenceRootFollowsRFC6962ForSmallTrees() {
        let d = Self.leaves(5, seed: 1)
        let leaf = { (i: Int) in Self.hash([0], d[i].bytes) }
        let node = { (l: Digest256, r: Digest256) in Self.hash([1], l.bytes, r.bytes) }
        #expect(Raft.Merkle.root(of: []) == Self.hash())
        #expect(Raft.Merkle.root(of: d.prefix(1)) == leaf(0))
        #expect(Raft.Merkle.root(of: d.prefix(2)) == node(leaf(0), leaf(1)))
        #expect(Raft.Merkle.root(of: d.prefix(3)) == node(node(leaf(0), leaf(1)), leaf(2)))
        let four = node(node(leaf(0), leaf(1)), node(leaf(2), leaf(3)))
        #expect(Raft.Merkle.root(of: d.prefix(4)) == four)
        #expect(Raft.Merkle.root(of: d) == node(four, leaf(4)))
    }

    @Test func frontierRootEqualsReferenceRootForEverySizeUpTo300() {
        let all = Self.leaves(300, seed: 2)
        var frontier = Raft.MerkleFrontier()
        #expect(frontier.root == Raft.Merkle.root(of: []))
        for size in 1...all.count {
            frontier.append(all[size - 1])
            #expect(frontier.size == UInt64(size))
            #expect(frontier.peaks.count == size.nonzeroBitCount)
            #expect(frontier.root == Raft.Merkle.root(of: all.prefix(size)), "size \(size)")
        }
    }

    @Test func frontierRootEqualsReferenceRootForRandomLargerSizes() {
        let seed: UInt64 = 3
        var rng = SimRNG(seed: seed)
        for _ in 0..<4 {
            let size = Int(rng.next() % 4_000) + 301
            let all = Self.leaves(size, seed: rng.next())
            var frontier = Raft.MerkleFrontier()
            for leaf in all { frontier.append(leaf) }
            #expect(frontier.root == Raft.Merkle.root(of: all), "seed \(seed) size \(size)")
            // A frontier rebuilt from its parts (as from a snapshot) keeps advancing the same root.
            var restored = Raft.MerkleFrontier(size: frontier.size, peaks: frontier.peaks)!
            #expect(restored == frontier)
            let next = Self.leaves(1, seed: UInt64(size))[0]
            restored.append(next)
            #expect(restored.root == Raft.Merkle.root(of: all + [next]), "seed \(seed) size \(size)")
        }
    }

    @Test func frontierFromPartsRequiresOnePeakPerSetBit() {
        let peaks = Self.leaves(3, seed: 4)
        #expect(Raft.MerkleFrontier(size: 0, peaks: []) == Raft.MerkleFrontier())
        #expect(Raft.MerkleFrontier(size: 0, peaks: [peaks[0]]) == nil)
        #expect(Raft.MerkleFrontier(size: 1, peaks: []) == nil)
        #expect(Raft.MerkleFrontier(size: 4, peaks: [peaks[0]]) != nil)
        #expect(Raft.MerkleFrontier(size: 7, peaks: peaks) != nil)
        #expect(Raft.MerkleFrontier(size: 7, peaks: Array(peaks.prefix(2))) == nil)
        #expect(Raft.MerkleFrontier(size: 6, peaks: peaks) == nil)
        #expect(Raft.MerkleFrontier(size: UInt64.max, peaks: peaks) == nil)
    }

    @Test func everyProofVerifiesForEveryLeafOfTreesUpTo64() {
        let all = Self.leaves(64, seed: 5)
        for size in 1...all.count {
            let tree = all.prefix(size)
            let root = Raft.Merkle.root(of: tree)
            for index in 0..<size {
                let proof = Raft.MerkleProof.make(leaves: tree, leafIndex: UInt64(index))
                #expect(proof.treeSize == UInt64(size) && proof.leafIndex == UInt64(index))
                #expect(proof.verify(leaf: all[index], root: root), "size \(size) leaf \(index)")
            }
        }
    }

    /// Any change to the claim — leaf, root, position, path length, any bit of the path — fails.
    @Test func tamperedProofsFail() {
        let all = Self.leaves(65, seed: 6)
        var rng = SimRNG(seed: 7)
        for size in 1...64 {
            let tree = all.prefix(size)
            let root = Raft.Merkle.root(of: tree)
            for index in 0..<size {
                let proof = Raft.MerkleProof.make(leaves: tree, leafIndex: UInt64(index))
                let context = "size \(size) leaf \(index)"
                let other = all[(index + 1) % all.count]
                #expect(!proof.verify(leaf: other, root: root), "\(context): wrong leaf")
                #expect(
                    !proof.verify(leaf: all[index], root: Self.flip(root, bit: Int(rng.next() % 256))),
                    "\(context): wrong root")
                #expect(
                    !proof.verify(leaf: all[index], root: Raft.Merkle.root(of: all.prefix(size + 1))),
                    "\(context): other root")
                for wrongIndex in 0..<UInt64(size + 1) where wrongIndex != proof.leafIndex {
                    var moved = proof
                    moved.leafIndex = wrongIndex
                    #expect(!moved.verify(leaf: all[index], root: root), "\(context): index \(wrongIndex)")
                }
                if !proof.path.isEmpty {
                    var truncated = proof
                    truncated.path.removeLast()
                    #expect(!truncated.verify(leaf: all[index], root: root), "\(context): truncated")
                    var dropped = proof
                    dropped.path.removeFirst()
                    #expect(!dropped.verify(leaf: all[index], root: root), "\(context): first sibling dropped")
                }
                var extended = proof
                extended.path.append(all[0])
                #expect(!extended.verify(leaf: all[index], root: root), "\(context): extended")
                var prepended = proof
                prepended.path.insert(all[0], at: 0)
                #expect(!prepended.verify(leaf: all[index], root: root), "\(context): prepended")
                // Every bit of every sibling for the smaller trees, one random bit per sibling above.
                for (level, sibling) in proof.path.enumerated() {
                    let bits = size <= 12 ? Array(0..<256) : [Int(rng.next() % 256)]
                    for bit in bits {
                        var flipped = proof
                        flipped.path[level] = Self.flip(sibling, bit: bit)
                        #expect(!flipped.verify(leaf: all[index], root: root), "\(context): bit \(bit) of \(level)")
                    }
                }
                #expect(!proof.verify(leaf: Self.flip(all[index], bit: Int(rng.next() % 256)), root: root))
            }
        }
    }

    @Test func proofCodesAsJSONWithHexDigests() throws {
        let all = Self.leaves(11, seed: 8)
        let proof = Raft.MerkleProof.make(leaves: all, leafIndex: 6)
        let json = try JSONEncoder().encode(proof)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains(proof.path[0].hex))
        let decoded = try JSONDecoder().decode(Raft.MerkleProof.self, from: json)
        #expect(decoded == proof)
        #expect(decoded.verify(leaf: all[6], root: Raft.Merkle.root(of: all)))
    }

    @Test func aProofForAnIndexOutsideTheTreeFails() {
        let all = Self.leaves(4, seed: 9)
        let root = Raft.Merkle.root(of: all)
        let empty = Raft.MerkleProof(leafIndex: 0, treeSize: 0, path: [])
        #expect(!empty.verify(leaf: all[0], root: Raft.Merkle.root(of: [])))
        let beyond = Raft.MerkleProof(leafIndex: 4, treeSize: 4, path: [all[0], all[1]])
        #expect(!beyond.verify(leaf: all[0], root: root))
    }

    static func flip(_ digest: Digest256, bit: Int) -> Digest256 {
        var bytes = digest.bytes
        bytes[bit / 8] ^= 1 << UInt8(bit % 8)
        return Digest256(bytes: bytes)
    }
}
