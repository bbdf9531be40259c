import BizraCrypto

extension Raft {
    /// The Merkle tree over the committed log, so that anyone holding a root can check that an
    /// entry is in the log with a logarithmic proof, without the log.
    ///
    /// The tree is RFC 6962 §2.1's Merkle Tree Hash with BLAKE2b-256 in place of SHA-256: the
    /// leaves are the entries' 32-byte chain hashes (leaf i, 0-based, is the entry at log index
    /// i + 1), a leaf node is H(0x00 || leaf), an inner node is H(0x01 || left || right), the
    /// tree of n > 1 leaves splits after the largest power of two below n, and the empty tree's
    /// hash is H() (the digest of no bytes). The domain-separation bytes keep a leaf from posing
    /// as an inner node (second-preimage attacks on the tree).
    package enum Merkle {
        /// The root of `leaves`, computed naively by the recursive definition: the reference
        /// that `MerkleFrontier` and `MerkleProof` are tested against. O(n) hashes.
        package static func root(of leaves: some RandomAccessCollection<Digest256>) -> Digest256 {
            let leaves = Array(leaves)
            return subtreeRoot(leaves[...])
        }

        /// RFC 6962's MTH(D[n]) for a slice of the leaves.
        static func subtreeRoot(_ leaves: ArraySlice<Digest256>) -> Digest256 {
            switch leaves.count {
            case 0: return Blake2b.digest256 { _ in }
            case 1: return leafHash(leaves.first!)
            default:
                let split = leaves.startIndex + splitPoint(leaves.count)
                return nodeHash(subtreeRoot(leaves[..<split]), subtreeRoot(leaves[split...]))
            }
        }

        /// H(0x00 || leaf).
        static func leafHash(_ leaf: Digest256) -> Digest256 {
            Blake2b.digest256 { hasher in
                hasher.update(0x00 as UInt8)
                hasher.update(leaf)
            }
        }

        /// H(0x01 || left || right).
        static func nodeHash(_ left: Digest256, _ right: Digest256) -> Digest256 {
            Blake2b.digest256 { hasher in
                hasher.update(0x01 as UInt8)
                hasher.update(left)
                hasher.update(right)
            }
        }

        /// The largest power of two smaller than `count` (count > 1): the size of the left subtree.
        static func splitPoint(_ count: Int) -> Int {
            precondition(count > 1, "only a tree of two or more leaves splits, got \(count)")
            return 1 << (Int.bitWidth - 1 - (count - 1).leadingZeroBitCount)
        }
    }

    /// The right edge of the Merkle tree: enough to append leaves and compute the root in
    /// O(log n) hashes and O(log n) space, without the leaves. A snapshot carries it, so that a
    /// node that installs the snapshot can keep advancing the root of the log it no longer has.
    ///
    /// `peaks` are the roots of the perfect subtrees that the first `size` leaves decompose into
    /// (one per set bit of `size`), largest first. RFC 6962's tree of n leaves is exactly those
    /// subtrees folded from the right, which is how `root` computes it.
    package struct MerkleFrontier: Equatable, Hashable, Sendable {
        /// Leaves appended so far.
        package private(set) var size: UInt64
        /// Roots of the perfect subtrees, largest (leftmost) first; `size.nonzeroBitCount` of them.
        package private(set) var peaks: [Digest256]

        /// The frontier of the empty tree.
        package init() {
            size = 0
            peaks = []
        }

        /// A frontier from its parts (as a snapshot stores them); nil when there is not exactly
        /// one peak per set bit of `size`. The peaks themselves cannot be checked without leaves.
        package init?(size: UInt64, peaks: [Digest256]) {
            guard peaks.count == size.nonzeroBitCount else { return nil }
            self.size = size
            self.peaks = peaks
        }

        /// Adds the next leaf (the chain hash of the entry at index `size + 1`): it becomes a
        /// one-leaf subtree, merged with equal-sized peaks as a binary counter carries.
        package mutating func append(_ leaf: Digest256) {
            precondition(size < UInt64.max, "the Merkle tree is full at \(size) leaves")
            var node = Merkle.leafHash(leaf)
            var carry = size
            while carry & 1 == 1 {
                node = Merkle.nodeHash(peaks.removeLast(), node)
                carry >>= 1
            }
            peaks.append(node)
            size += 1
        }

        /// The RFC 6962 root of the first `size` leaves.
        package var root: Digest256 {
            guard var root = peaks.last else { return Blake2b.digest256 { _ in } }
            for peak in peaks.dropLast().reversed() {
                root = Merkle.nodeHash(peak, root)
            }
            return root
        }
    }

    /// An RFC 6962 audit path: the proof that one leaf is in the tree with a given root. It is
    /// checked offline (`verify`), by anyone holding the root, e.g. from the CLI as JSON.
    package struct MerkleProof: Equatable, Sendable, Codable {
        /// The leaf's 0-based position: the entry at log index `leafIndex + 1`.
        package var leafIndex: UInt64
        package var treeSize: UInt64
        /// The sibling subtree roots from the leaf up to the root (RFC 6962 §2.1.1's PATH).
        package var path: [Digest256]

        package init(leafIndex: UInt64, treeSize: UInt64, path: [Digest256]) {
            self.leafIndex = leafIndex
            self.treeSize = treeSize
            self.path = path
        }

        /// The proof for leaf `leafIndex` of the tree of all `leaves` (`treeSize` is their count).
        /// `leafIndex` MUST be a leaf of that tree. Recomputes the sibling subtrees: O(n) hashes.
        package static func make(leaves: some RandomAccessCollection<Digest256>, leafIndex: UInt64) -> MerkleProof {
            precondition(
                leafIndex < UInt64(leaves.count), "leaf \(leafIndex) is not in a tree of \(leaves.count) leaves")
            var path: [Digest256] = []
            collectPath(Array(leaves)[...], leafIndex: Int(leafIndex), into: &path)
            return MerkleProof(leafIndex: leafIndex, treeSize: UInt64(leaves.count), path: path)
        }

        /// RFC 6962 §2.1.1 PATH(m, D[n]), appending bottom-up.
        private static func collectPath(_ leaves: ArraySlice<Digest256>, leafIndex: Int, into path: inout [Digest256]) {
            guard leaves.count > 1 else { return }
            let split = Merkle.splitPoint(leaves.count)
            let middle = leaves.startIndex + split
            if leafIndex < split {
                collectPath(leaves[..<middle], leafIndex: leafIndex, into: &path)
                path.append(Merkle.subtreeRoot(leaves[middle...]))
            } else {
                collectPath(leaves[middle...], leafIndex: leafIndex - split, into: &path)
                path.append(Merkle.subtreeRoot(leaves[..<middle]))
            }
        }

        /// True when `leaf` at `leafIndex`, with this path, hashes up to `root` for a tree of
        /// `treeSize` leaves: RFC 9162 §2.1.3.2's verification algorithm, which also rejects a
        /// path that is too short or too long for the position.
        package func verify(leaf: Digest256, root: Digest256) -> Bool {
            guard leafIndex < treeSize else { return false }
            var position = leafIndex  // RFC 9162's fn
            var last = treeSize - 1  // RFC 9162's sn
            var hash = Merkle.leafHash(leaf)
            for sibling in path {
                guard last != 0 else { return false }
                if position & 1 == 1 || position == last {
                    hash = Merkle.nodeHash(sibling, hash)
                    // A right edge with no sibling on this level: climb until we are a right child.
                    while position & 1 == 0 && position != 0 {
                        position >>= 1
                        last >>= 1
                    }
                } else {
                    hash = Merkle.nodeHash(hash, sibling)
                }
                position >>= 1
                last >>= 1
            }
            return last == 0 && hash == root
        }
    }
}
