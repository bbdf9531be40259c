/// A seeded, single-threaded discrete-event simulator of a cluster of `Node`s.
///
/// Why it exists: DESIGN.md principle 3. It follows FoundationDB's simulation testing and
/// TigerBeetle's VOPR: one event heap ordered by (virtual time, sequence), one root seed with a
/// forked RNG per subsystem (network, disk, faults, clients, and one per node), and every fault
/// — loss, duplication, delay, reordering, clogs, partitions, crashes with lost and torn writes,
/// pauses, clock skew — drawn from those RNGs. Nothing reads a clock or iterates a hash table, so
/// a seed replays the same events byte for byte (`SimTrace`).
///
/// Use: create, `schedule(fault:at:)` a nemesis plan, add `invariants`, then `run(until:workload:)`.
/// A run stops early at the first broken invariant (`failure`).
package struct Simulator<Node: SimulatedNode> {
    package typealias Event = SimEvent<Node.Message, Node.Request, Node.Response>
    typealias Action = NodeAction<Node.Message, Node.Response, Node.Record>

    package let settings: SimSettings
    package let nodeConfig: Node.Config
    package var clusterSize: Int { settings.clusterSize }
    package private(set) var now: SimTime = 0
    package internal(set) var nodes: [Node?]
    package internal(set) var disks: [SimDisk<Node.Record>]
    package internal(set) var network: SimNetwork
    package internal(set) var clocks: [NodeClock]
    package internal(set) var paused: [Bool]
    package internal(set) var stats = SimStats()
    package var coverage = SimCoverage()
    package internal(set) var trace: SimTrace
    package internal(set) var failure: SimFailure?
    package var invariants: [SimInvariant<Node>] = []
    /// Which nodes the last event could have changed, so an invariant can check only those
    /// (O(1) per event instead of O(nodes)): the node an input was handed to, every node after
    /// a fault, none after a client event.
    package internal(set) var lastTouched = Touched.none

    /// The nodes an event reached (see `lastTouched`).
    package enum Touched: Equatable, Sendable {
        case none
        case node(NodeID)
        case all
    }

    var queue = EventQueue<Event.Kind>()
    var sequence: UInt64 = 1
    var epochs: [UInt32]
    var lastCrashTore: [Bool]
    /// `timerArmed[node * timersPerNodeMax + timer]` is the sequence of the live timer event, 0 if none.
    var timerArmed: [UInt64]
    var pausedInbox: [[Event]]
    var requestClients: [Int32] = []
    var outbox: [Action] = []
    var nodeRNG: [SimRNG]
    var networkRNG: SimRNG
    var diskRNG: SimRNG
    package var faultRNG: SimRNG
    package var clientRNG: SimRNG

    package init(settings: SimSettings, nodeConfig: Node.Config) {
        precondition(
            settings.clusterSize > 0 && settings.clusterSize <= SimulatorLimits.clusterSizeMax,
            "cluster size \(settings.clusterSize) is outside 1...\(SimulatorLimits.clusterSizeMax)")
        self.settings = settings
        self.nodeConfig = nodeConfig
        let n = settings.clusterSize
        let root = SimRNG(seed: settings.seed)
        networkRNG = root.fork(stream: 1)
        diskRNG = root.fork(stream: 2)
        faultRNG = root.fork(stream: 3)
        clientRNG = root.fork(stream: 4)
        nodeRNG = (0..<n).map { root.fork(stream: 1_000 + UInt64($0)) }
        nodes = Array(repeating: nil, count: n)
        disks = Array(repeating: SimDisk(), count: n)
        network = SimNetwork(clusterSize: n)
        clocks = Array(repeating: NodeClock(), count: n)
        paused = Array(repeating: false, count: n)
        epochs = Array(repeating: 0, count: n)
        lastCrashTore = Array(repeating: false, count: n)
        timerArmed = Array(repeating: 0, count: n * SimulatorLimits.timersPerNodeMax)
        pausedInbox = Array(repeating: [], count: n)
        trace = SimTrace(recording: settings.recordTrace)
        queue.reserveCapacity(1_024)
        outbox.reserveCapacity(64)
        for node in 0..<n { boot(node) }
    }

    /// Whether node `node` is running (booted and not crashed; it may be paused).
    package func isUp(_ node: NodeID) -> Bool { nodes[node] != nil }

    /// Virtual time on node `node`'s own clock.
    package func localTime(of node: NodeID) -> SimTime { clocks[node].local(now) }

    /// Events still waiting in the heap.
    package var pendingEvents: Int { queue.count }

    // MARK: Scheduling

    @inline(__always)
    @discardableResult
    mutating func schedule(_ kind: Event.Kind, at time: SimTime) -> UInt64 {
        guard queue.count < SimulatorLimits.pendingEventsMax else {
            stats.refusedByLimit += 1
            return 0
        }
        let seq = sequence
        sequence &+= 1
        queue.push(time: max(time, now), sequence: seq, kind)
        return seq
    }

    /// Applies `fault` at virtual time `time` (a nemesis schedule entry).
    package mutating func schedule(fault: FaultAction, at time: SimTime) {
        schedule(.fault(fault), at: time)
    }

    /// Sends client request `request` from client `client` to node `node`; returns its id.
    /// It arrives after a client-link delay; its reply comes back through `SimWorkload.replied`.
    /// Beyond `SimulatorLimits.requestsMax` the request is refused: it is never delivered, so the
    /// client times out, and `stats.refusedByLimit` counts it.
    package mutating func submit(_ request: Node.Request, to node: NodeID, client: Int) -> RequestID {
        guard requestClients.count < SimulatorLimits.requestsMax else {
            stats.refusedByLimit += 1
            return -1
        }
        let id = requestClients.count
        requestClients.append(Int32(client))
        let delay = clientRNG.uniform(settings.clientLatency)
        schedule(.request(node: Int32(node), id: id, request: request), at: now + delay)
        return id
    }

    /// Wakes client `client` (`SimWorkload.wake`) after `delay` µs.
    package mutating func wakeClient(_ client: Int, after delay: SimTime) {
        schedule(.clientWake(client: Int32(client)), at: now + max(0, delay))
    }

    // MARK: Running

    /// Runs events up to and including virtual time `endTime`, or until an invariant breaks.
    /// Returns the failure, if any.
    @discardableResult
    package mutating func run<W: SimWorkload>(until endTime: SimTime, workload: inout W) -> SimFailure?
    where W.Node == Node {
        while failure == nil, let nextTime = queue.minTime, nextTime <= endTime {
            let (time, sequence, kind) = queue.pop()
            let event = Event(time: time, sequence: sequence, kind: kind)
            now = time
            stats.events += 1
            lastTouched = .none
            dispatch(event, workload: &workload)
            if !invariants.isEmpty { checkInvariants() }
        }
        if failure == nil { now = max(now, endTime) }
        return failure
    }

    /// Records a failure found outside the invariants (a liveness or history check).
    package mutating func fail(_ check: String, _ detail: String) {
        if failure == nil { failure = SimFailure(check: check, detail: detail, time: now, event: stats.events) }
    }

    private mutating func checkInvariants() {
        for invariant in invariants {
            if let violation = invariant.check(self) {
                fail("invariant \(invariant.name)", violation)
                return
            }
        }
    }
}
