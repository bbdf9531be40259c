/// A fault the nemesis schedule applies at a point in virtual time.
package enum FaultAction: Equatable, Sendable, CustomStringConvertible {
    /// Stop the process: volatile state, timers and unsynced writes are lost (some may survive).
    case crash(NodeID)
    /// Boot a crashed node from its disk.
    case restart(NodeID)
    /// SIGSTOP: the node handles nothing; its inputs queue until `resume`.
    case pause(NodeID)
    case resume(NodeID)
    /// Hold every message to or from the node for `duration` µs.
    case clog(NodeID, duration: SimTime)
    case partition(PartitionShape)
    /// Set the behaviour of every link without an override.
    case setLinks(LinkFaults)
    /// Set the behaviour of one directed link (a slow or lossy path).
    case setLink(from: NodeID, to: NodeID, LinkFaults)
    /// Give node a clock offset and drift.
    case setClock(NodeID, NodeClock)
    /// Remove every partition (link faults stay).
    case healPartitions
    /// Remove partitions and link faults, restart crashed nodes, resume paused ones.
    case healAll

    package var description: String {
        switch self {
        case .crash(let node): return "crash(\(node))"
        case .restart(let node): return "restart(\(node))"
        case .pause(let node): return "pause(\(node))"
        case .resume(let node): return "resume(\(node))"
        case .clog(let node, let duration): return "clog(\(node),\(duration))"
        case .partition(let shape): return "partition(\(shape))"
        case .setLinks(let links):
            return "links(delay \(links.delayMin)...\(links.delayMax) loss \(links.lossPerMillion)"
                + " dup \(links.duplicatePerMillion) reorder \(links.reorderPerMillion) tail \(links.tailPerMillion))"
        case .setLink(let from, let to, let links):
            return "link(\(from)->\(to) delay \(links.delayMin)...\(links.delayMax) loss \(links.lossPerMillion))"
        case .setClock(let node, let clock): return "clock(\(node),\(clock.offset),\(clock.driftPPM)ppm)"
        case .healPartitions: return "healPartitions"
        case .healAll: return "healAll"
        }
    }
}

/// One event: when, its unique sequence number, and what. `EventQueue` orders events by (time,
/// sequence): the sequence increases with every scheduling, so events at the same instant run in
/// the order scheduled and the order never depends on anything but the seed.
package struct SimEvent<Message, Request, Response> {
    /// What happens: an input for a node, a client event, or a fault.
    package enum Kind {
        case deliver(from: Int32, to: Int32, message: Message)
        case timer(node: Int32, timer: Int32)
        case diskSync(node: Int32, epoch: UInt32)
        /// A write completed while its node was paused: tell the node at resume.
        case diskNotify(node: Int32, epoch: UInt32, token: UInt64)
        case request(node: Int32, id: RequestID, request: Request)
        case reply(client: Int32, id: RequestID, response: Response)
        case clientWake(client: Int32)
        indirect case fault(FaultAction)
    }

    package let time: SimTime
    package let sequence: UInt64
    package let kind: Kind
}
