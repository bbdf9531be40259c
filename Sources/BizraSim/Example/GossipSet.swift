/// The second example protocol: a grow-only set (a G-Set CRDT, Shapiro et al., "A comprehensive
/// study of Convergent and Commutative Replicated Data Types", 2011) replicated by push gossip.
///
/// Any node accepts `add`; it persists the element and then acknowledges. Reads return the
/// node's durable local set (so they may be stale, but never show an element a crash could
/// still take back — the first version did, and the simulator's set-full check caught the
/// "lost" element a reader had seen: a dirty read). Every `gossipInterval` a node sends its whole set to
/// one peer drawn from its own RNG; a receiver persists what it lacked. Eventually consistent,
/// not linearizable: it is checked with the set-full and convergence oracles, not with WGL.
/// `Bug.ackBeforePersist` acknowledges before the write is durable, so a crash right after can
/// lose an acknowledged element for good.
package enum GossipSet {
    /// Node → node: the sender's whole durable set, sorted.
    package enum Message: Equatable, Sendable {
        case state([Int64])
    }

    /// Client → node.
    package enum Request: Equatable, Sendable {
        case add(Int64)
        case read
    }

    /// Node → client.
    package enum Response: Equatable, Sendable {
        case added
        case elements([Int64])
        /// The set holds `Config.elementsMax` elements; the add had no effect.
        case full
    }

    /// Bugs a test can inject to see the simulator find them.
    package enum Bug: String, CaseIterable, Sendable {
        case none
        case ackBeforePersist = "ack-before-persist"
    }

    /// Settings shared by every node of a run.
    package struct Config: Sendable {
        package var bug = Bug.none
        /// Local µs between gossip rounds.
        package var gossipInterval: SimTime = 10_000
        /// Elements one set may hold; adds beyond it are refused with `full`.
        package var elementsMax = 100_000
        /// Adds waiting for their write at one node; beyond it adds are refused with `full`.
        package var waitingMax = 1_024
        package init() {}
    }
}

/// One node of `GossipSet`.
package struct GossipSetNode: SimulatedNode {
    package typealias Message = GossipSet.Message
    package typealias Request = GossipSet.Request
    package typealias Response = GossipSet.Response
    package typealias Record = Int64
    package typealias Config = GossipSet.Config

    let id: NodeID
    let clusterSize: Int
    let config: Config
    /// Durable elements, kept sorted so messages and replies are ordered.
    package private(set) var elements: [Int64] = []
    /// Elements being written, in write order, with their tokens; visible once durable.
    var pending: [(token: UInt64, element: Int64)] = []
    /// Adds waiting for their write, by token.
    var waiting: [(token: UInt64, request: RequestID)] = []
    var nextToken: UInt64 = 1
    var durableToken: UInt64 = 0

    package init(
        id: NodeID, clusterSize: Int, config: Config, recovered: RecoveredDisk<Int64>, context: inout Context
    ) {
        self.id = id
        self.clusterSize = clusterSize
        self.config = config
        elements = Array(Set(recovered.records)).sorted()
        context.setTimer(0, after: config.gossipInterval)
    }

    package mutating func receive(_ message: Message, from sender: NodeID, context: inout Context) {
        guard case .state(let remote) = message else { return }
        // Both lists are sorted: one merge pass finds what this node lacks.
        var index = 0
        for element in remote {
            while index < elements.count && elements[index] < element { index += 1 }
            if index < elements.count && elements[index] == element { continue }
            _ = insert(element, context: &context)
        }
    }

    package mutating func timerFired(_ timer: Int, context: inout Context) {
        if clusterSize > 1 {
            var peer = context.rng.below(clusterSize - 1)
            if peer >= id { peer += 1 }
            context.send(.state(elements), to: peer)
        }
        context.setTimer(0, after: config.gossipInterval)
    }

    package mutating func clientRequest(_ request: Request, id requestID: RequestID, context: inout Context) {
        switch request {
        case .read:
            context.reply(.elements(elements), to: requestID)
        case .add(let element):
            // Refuse before starting a write: `full` promises the add had no effect.
            guard elements.count + pending.count < config.elementsMax, waiting.count < config.waitingMax else {
                return context.reply(.full, to: requestID)
            }
            // Already held (say, by gossip) but maybe not yet durable: wait for every write so far.
            let token = insert(element, context: &context) ?? (nextToken - 1)
            guard token > durableToken, config.bug != .ackBeforePersist else {
                return context.reply(.added, to: requestID)
            }
            waiting.append((token, requestID))
        }
    }

    package mutating func persisted(token: UInt64, context: inout Context) {
        durableToken = token
        while let first = pending.first, first.token <= token {
            elements.insert(first.element, at: position(of: first.element))
            pending.removeFirst()
        }
        while let first = waiting.first, first.token <= token {
            context.reply(.added, to: first.request)
            waiting.removeFirst()
        }
    }

    /// Starts the write of `element` if it is neither durable nor being written; returns the
    /// write's token (nil if held already or the set is full).
    private mutating func insert(_ element: Int64, context: inout Context) -> UInt64? {
        let index = position(of: element)
        guard index == elements.count || elements[index] != element else { return nil }
        guard !pending.contains(where: { $0.element == element }) else { return nil }
        guard elements.count + pending.count < config.elementsMax else { return nil }
        let token = nextToken
        nextToken += 1
        pending.append((token, element))
        context.persist(element, token: token)
        return token
    }

    /// Where `element` is or would go in the sorted `elements`.
    private func position(of element: Int64) -> Int {
        var low = 0
        var high = elements.count
        while low < high {
            let mid = (low + high) / 2
            if elements[mid] < element { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
