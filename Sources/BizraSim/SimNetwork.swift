import OrderedCollections

/// How one directed link misbehaves. All probabilities are per million messages.
///
/// Delay is uniform in `delayMin...delayMax`; with `reorderPerMillion` a message also gets an
/// extra uniform delay up to `reorderExtraMax`, which overtakes later messages; then, while a
/// `tailPerMillion` chance holds (at most `tailDoublingsMax` times), the delay doubles — a
/// geometric long tail drawn with integers only, so it is the same on every platform. Links are not
/// FIFO (like UDP): cores MUST tolerate reordering; a TCP-like core sees at worst what this gives.
package struct LinkFaults: Equatable, Sendable {
    package var delayMin: SimTime = 100
    package var delayMax: SimTime = 1_000
    package var lossPerMillion = 0
    package var duplicatePerMillion = 0
    package var reorderPerMillion = 0
    package var reorderExtraMax: SimTime = 10_000
    package var tailPerMillion = 0
    package var tailDoublingsMax = 6

    package init() {}

    /// No loss, no duplication, constant-ish delay: the network after healing.
    package static let healthy = LinkFaults()
}

/// A named partition shape (Jepsen's nemesis vocabulary: `partition-random-node`,
/// `partition-majorities-ring`, bridge, …). `SimNetwork.apply` turns one into blocked links.
package enum PartitionShape: Equatable, Sendable, CustomStringConvertible {
    /// Cut one node off in both directions.
    case isolate(NodeID)
    /// Split into two sides: the nodes listed and the rest.
    case split([NodeID])
    /// Two halves that cannot talk, and one bridge node that talks to both (Jepsen's bridge).
    case bridge(left: [NodeID], bridge: NodeID, right: [NodeID])
    /// Nodes placed on a ring in the given order; each sees only its nearest ⌊n/2⌋ ring
    /// neighbours, so every node sees a majority but no two majorities agree.
    case ringMajorities(order: [NodeID])
    /// Messages from `from` to `to` are lost; the other direction still works.
    case oneWay(from: [NodeID], to: [NodeID])

    package var description: String {
        switch self {
        case .isolate(let node): return "isolate(\(node))"
        case .split(let side): return "split(\(side))"
        case .bridge(let left, let bridge, let right): return "bridge(\(left)|\(bridge)|\(right))"
        case .ringMajorities(let order): return "ring(\(order))"
        case .oneWay(let from, let to): return "oneWay(\(from)->\(to))"
        }
    }
}

/// The simulated network's fault state: per-link behaviour, partitions and clogs.
///
/// Connectivity is a bit matrix of blocked directed links, checked when a message would be
/// delivered, so a partition also cuts messages already in flight (as an nft drop rule does).
/// Link behaviour is one default plus a bounded map of per-link overrides.
package struct SimNetwork {
    package let clusterSize: Int
    package var defaultLink = LinkFaults.healthy
    /// Per directed link (from, to) overrides, at most `SimulatorLimits.linkOverridesMax`.
    package private(set) var overrides: OrderedDictionary<Int, LinkFaults> = [:]
    /// A clogged node's messages (both ways) are held until this virtual time (FoundationDB's clog).
    package var cloggedUntil: [SimTime]
    private var blocked: [UInt64]
    package private(set) var blockedLinkCount = 0

    package init(clusterSize: Int) {
        self.clusterSize = clusterSize
        cloggedUntil = Array(repeating: 0, count: clusterSize)
        blocked = Array(repeating: 0, count: (clusterSize * clusterSize + 63) / 64)
    }

    @inline(__always)
    package func link(from: NodeID, to: NodeID) -> LinkFaults {
        if overrides.isEmpty { return defaultLink }
        return overrides[from * clusterSize + to] ?? defaultLink
    }

    /// Sets one link's behaviour; returns false (and changes nothing) when the override map is full.
    @discardableResult
    package mutating func setLink(from: NodeID, to: NodeID, _ faults: LinkFaults) -> Bool {
        let key = from * clusterSize + to
        if overrides[key] == nil && overrides.count >= SimulatorLimits.linkOverridesMax { return false }
        overrides[key] = faults
        return true
    }

    @inline(__always)
    package func isBlocked(from: NodeID, to: NodeID) -> Bool {
        if blockedLinkCount == 0 { return false }
        let bit = from * clusterSize + to
        return blocked[bit >> 6] & (1 << UInt64(bit & 63)) != 0
    }

    package mutating func block(from: NodeID, to: NodeID) {
        guard from != to, !isBlocked(from: from, to: to) else { return }
        let bit = from * clusterSize + to
        blocked[bit >> 6] |= 1 << UInt64(bit & 63)
        blockedLinkCount += 1
    }

    /// Removes every partition; link behaviour is unchanged.
    package mutating func clearPartitions() {
        for index in blocked.indices { blocked[index] = 0 }
        blockedLinkCount = 0
    }

    /// Removes every partition and link override; clogs expire on their own.
    package mutating func heal() {
        clearPartitions()
        overrides.removeAll()
        defaultLink = .healthy
    }

    /// Adds the blocked links of `shape` to the current ones.
    package mutating func apply(_ shape: PartitionShape) {
        switch shape {
        case .isolate(let node):
            for other in 0..<clusterSize {
                block(from: node, to: other)
                block(from: other, to: node)
            }
        case .split(let side):
            var inSide = Array(repeating: false, count: clusterSize)
            for node in side { inSide[node] = true }
            for a in 0..<clusterSize where inSide[a] {
                for b in 0..<clusterSize where !inSide[b] {
                    block(from: a, to: b)
                    block(from: b, to: a)
                }
            }
        case .bridge(let left, _, let right):
            for a in left {
                for b in right {
                    block(from: a, to: b)
                    block(from: b, to: a)
                }
            }
        case .ringMajorities(let order):
            applyRing(order)
        case .oneWay(let from, let to):
            for a in from { for b in to { block(from: a, to: b) } }
        }
    }

    private mutating func applyRing(_ order: [NodeID]) {
        let count = order.count
        let reach = count / 2
        for i in 0..<count {
            for j in 0..<count where i != j {
                let distance = min((i - j + count) % count, (j - i + count) % count)
                if distance > reach / 2 + reach % 2 { block(from: order[i], to: order[j]) }
            }
        }
    }
}
