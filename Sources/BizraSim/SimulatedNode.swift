/// Virtual time, in microseconds since the start of a run. Nothing in the simulator reads a clock.
package typealias SimTime = Int64

/// A node's index in a simulated cluster, `0..<clusterSize`.
package typealias NodeID = Int

/// Identifies one client request for as long as a run lasts; replies carry it back.
package typealias RequestID = Int

/// What a node's simulated disk held when the node (re)started.
///
/// `records` are the durable records in the order they were persisted: every record whose
/// persist completed, plus possibly a prefix of those still in flight at the crash (the page
/// cache may have written them). If the last of those was torn by the crash, the simulated
/// storage layer has already dropped it, as a CRC check would, and `tornTailDropped` says so.
package struct RecoveredDisk<Record> {
    package var records: [Record]
    package var tornTailDropped: Bool

    package init(records: [Record] = [], tornTailDropped: Bool = false) {
        self.records = records
        self.tornTailDropped = tornTailDropped
    }
}

/// One obligation a node hands to its host: the simulator here, a component shell in production.
///
/// Modelled on etcd-io/raft's `Ready` and swift-cluster-membership's directives. The host MUST
/// carry actions out in the order given, except that `persist` only *starts* a write: the record
/// is durable once `SimulatedNode.persisted(token:context:)` is called for its token, and a node
/// that must not send or acknowledge before its write is durable MUST wait for that call.
package enum NodeAction<Message, Response, Record> {
    /// Send `message` to node `to` over the (faulty) network.
    case send(to: NodeID, message: Message)
    /// Arm timer `timer` (0..<`SimulatorLimits.timersPerNodeMax`) to fire after `after` local µs.
    /// Re-arming a timer cancels its previous deadline.
    case setTimer(timer: Int, after: SimTime)
    /// Append `record` to the node's log on disk; completion is reported with `token`.
    case persist(record: Record, token: UInt64)
    /// Answer client request `request`.
    case reply(request: RequestID, response: Response)
    /// A named event worth covering happened ("leader elected during a partition"); the simulator
    /// counts it in `SimCoverage`, a production shell ignores it. Emitted by simulation adapters.
    case sometimes(String)
}

/// The host-side view a node gets while handling one input: its id, its local clock, its RNG and
/// the buffer its actions go to.
///
/// The context exists so that a node never reads a clock or a global RNG: `localTime` is the
/// node's own (offset, drifting) clock and `rng` is the node's forked stream.
package struct NodeContext<Message, Response, Record> {
    package let id: NodeID
    package let clusterSize: Int
    /// The node's local clock, in µs: virtual time skewed by the node's offset and drift.
    package let localTime: SimTime
    package var rng: SimRNG
    package var actions: [NodeAction<Message, Response, Record>]

    @inline(__always)
    package mutating func send(_ message: Message, to node: NodeID) {
        actions.append(.send(to: node, message: message))
    }

    @inline(__always)
    package mutating func setTimer(_ timer: Int, after: SimTime) {
        actions.append(.setTimer(timer: timer, after: after))
    }

    @inline(__always)
    package mutating func persist(_ record: Record, token: UInt64) {
        actions.append(.persist(record: record, token: token))
    }

    /// Counts `name` in the run's coverage (see `NodeAction.sometimes`).
    package mutating func sometimes(_ name: String) {
        actions.append(.sometimes(name))
    }

    @inline(__always)
    package mutating func reply(_ response: Response, to request: RequestID) {
        actions.append(.reply(request: request, response: response))
    }
}

/// The one protocol a protocol core (through a small adapter) implements to run in the simulator.
///
/// Inputs are the five things a sans-IO core sees (DESIGN.md principle 1): start-up with its
/// recovered disk, a message, a timer, a client request, and a persist completion. Every input
/// gets an `inout` context to put actions in; a node never does IO or reads time itself.
///
/// Adapters for the real cores (Raft, SWIM, …) belong with their simulation tests, so that the
/// cores never import the simulator. `ReplicatedRegisterNode` is the worked example.
package protocol SimulatedNode {
    associatedtype Message
    associatedtype Request
    associatedtype Response
    associatedtype Record
    /// Settings every node of a run shares (timeouts, sizes, an injected bug for tests).
    associatedtype Config

    typealias Context = NodeContext<Message, Response, Record>

    /// Boots (or reboots after a crash) from what the disk kept. Volatile state starts empty.
    init(id: NodeID, clusterSize: Int, config: Config, recovered: RecoveredDisk<Record>, context: inout Context)

    mutating func receive(_ message: Message, from sender: NodeID, context: inout Context)

    mutating func timerFired(_ timer: Int, context: inout Context)

    mutating func clientRequest(_ request: Request, id: RequestID, context: inout Context)

    /// The write started with `token` is now durable (fsync returned). Completions arrive in the
    /// order the writes were started.
    mutating func persisted(token: UInt64, context: inout Context)
}
