import BizraRaft

/// Clients and an operator of a simulated Raft cluster.
///
/// Clients run one operation at a time — get, put or CAS on one of a few keys — against the
/// current leader or a random node (followers forward to the leader), and record a Jepsen
/// history: `fail` for refusals and dropped proposals, `info` for unknown outcomes and timeouts
/// (the client then continues as a new process). Put values are unique.
///
/// The operator (wake id `clientCount`) is the nemesis's administrative half: every few hundred
/// ms it asks the leader to transfer leadership or proposes a membership change — a weight
/// change, a voter removed, a removed node added back as a learner or a voter — each of which
/// the core turns into a one-step or joint-consensus change.
///
/// After `stopAt` nothing new starts; `beginFinalPhase` then has client k write and read key k,
/// retrying until it succeeds: the liveness probe after healing.
package struct RaftWorkload: SimWorkload {
    package typealias Node = RaftSimNode
    typealias Request = RaftSim.Request

    struct Client {
        var process: Int
        var outstanding: RequestID?
        var request: Request?
        var wakeAt: SimTime = 0
        /// Final phase: the key this client must write then read, and how far it got.
        var finalKey: Int?
        var finalStep = 0
    }

    package var history = History()
    package private(set) var finalWritesDone = 0
    package private(set) var finalReadsDone = 0
    package private(set) var operatorRequests = 0
    var clients: [Client]
    let keyCount: Int
    let stopAt: SimTime
    /// µs a client waits for an answer before recording `info`.
    package var timeout: SimTime = 400_000
    /// µs a client pauses between operations.
    package var think: ClosedRange<SimTime> = 1_000...20_000
    /// µs between the operator's actions; nil disables the operator.
    package var operatorGap: ClosedRange<SimTime>? = 100_000...600_000
    package var membershipChanges = true
    package var transfers = true
    var finalPhase = false
    var nextValue: Int64 = 1
    var lastWritten: [Int64]

    package init(clientCount: Int, keyCount: Int, stopAt: SimTime) {
        precondition(clientCount >= keyCount, "need a client per key for the final phase")
        clients = (0..<clientCount).map { Client(process: $0) }
        self.keyCount = keyCount
        self.stopAt = stopAt
        lastWritten = Array(repeating: 0, count: keyCount)
    }

    var operatorID: Int { clients.count }

    package mutating func start(_ sim: inout Simulator<Node>) {
        for index in clients.indices { scheduleWake(index, after: sim.clientRNG.uniform(think), &sim) }
        if let gap = operatorGap { sim.wakeClient(operatorID, after: sim.clientRNG.uniform(gap)) }
    }

    /// Stops new work; client k then writes and reads key k until both succeed.
    package mutating func beginFinalPhase(_ sim: inout Simulator<Node>) {
        finalPhase = true
        for key in 0..<keyCount {
            clients[key].finalKey = key
            if clients[key].outstanding == nil { scheduleWake(key, after: 0, &sim) }
        }
    }

    package var finalPhaseDone: Bool { finalWritesDone == keyCount && finalReadsDone == keyCount }

    /// The node that leads in the highest term among running nodes, if any.
    static func leader(_ sim: Simulator<Node>) -> NodeID? {
        var best: (term: Raft.Term, node: NodeID)?
        for node in 0..<sim.clusterSize {
            guard let raft = sim.nodes[node]?.raft, raft.role == .leader else { continue }
            if best == nil || raft.term > best!.term { best = (raft.term, node) }
        }
        return best?.node
    }

    package mutating func wake(client index: Int, _ sim: inout Simulator<Node>) {
        if index == operatorID { return operate(&sim) }
        guard sim.now >= clients[index].wakeAt else { return }
        if clients[index].outstanding != nil { return timeOut(index, &sim) }
        if finalPhase {
            guard let key = clients[index].finalKey else { return }
            let request: Request = clients[index].finalStep == 0 ? .put(key: key, value: takeValue()) : .get(key: key)
            return invoke(index, request, node: Self.leader(sim) ?? sim.clientRNG.below(sim.clusterSize), &sim)
        }
        guard sim.now < stopAt else { return }
        let key = sim.clientRNG.below(keyCount)
        let roll = sim.clientRNG.below(10)
        let request: Request
        if roll < 4 {
            request = .get(key: key)
        } else if roll < 8 {
            request = .put(key: key, value: takeValue())
        } else {
            let expected = sim.clientRNG.below(3) == 0 ? Int64(sim.clientRNG.below(Int(nextValue))) : lastWritten[key]
            request = .cas(key: key, expected: expected, new: takeValue())
        }
        let leader = sim.clientRNG.below(10) < 6 ? Self.leader(sim) : nil
        invoke(index, request, node: leader ?? sim.clientRNG.below(sim.clusterSize), &sim)
    }

    package mutating func replied(
        client index: Int, id: RequestID, response: RaftSim.Response, _ sim: inout Simulator<Node>
    ) {
        guard index < clients.count, clients[index].outstanding == id, let request = clients[index].request else {
            return
        }
        let (type, value) = Self.completion(of: request, response)
        history.append(
            History.Event(
                process: clients[index].process, type: type, f: request.functionName, key: request.key, value: value,
                time: sim.now))
        if type == .info {
            clients[index].process += clients.count
            sim.coverage.hit("raft.clientUnknown")
        }
        if type == .ok {
            if case .put(let key, let value) = request { lastWritten[key] = value }
            if case .swapped = response { sim.coverage.hit("raft.casSwapped") }
            if case .get = request, sim.network.blockedLinkCount > 0 { sim.coverage.hit("raft.readDuringPartition") }
            if clients[index].finalKey != nil { advanceFinal(index) }
        }
        clients[index].outstanding = nil
        clients[index].request = nil
        let pause = finalPhase ? min(5_000, think.upperBound) : sim.clientRNG.uniform(think)
        scheduleWake(index, after: pause, &sim)
    }

    private mutating func advanceFinal(_ index: Int) {
        if clients[index].finalStep == 0 {
            finalWritesDone += 1
            clients[index].finalStep = 1
        } else {
            finalReadsDone += 1
            clients[index].finalKey = nil
        }
    }

    private mutating func timeOut(_ index: Int, _ sim: inout Simulator<Node>) {
        guard let request = clients[index].request else { return }
        history.append(
            History.Event(
                process: clients[index].process, type: .info, f: request.functionName, key: request.key,
                value: request.invokeValue, time: sim.now))
        sim.coverage.hit("raft.clientTimeout")
        clients[index].process += clients.count
        clients[index].outstanding = nil
        clients[index].request = nil
        scheduleWake(index, after: sim.clientRNG.uniform(think), &sim)
    }

    private mutating func invoke(_ index: Int, _ request: Request, node: NodeID, _ sim: inout Simulator<Node>) {
        history.append(
            History.Event(
                process: clients[index].process, type: .invoke, f: request.functionName, key: request.key,
                value: request.invokeValue, time: sim.now))
        clients[index].outstanding = sim.submit(request, to: node, client: index)
        clients[index].request = request
        scheduleWake(index, after: timeout, &sim)
    }

    private mutating func scheduleWake(_ index: Int, after delay: SimTime, _ sim: inout Simulator<Node>) {
        clients[index].wakeAt = sim.now + delay
        sim.wakeClient(index, after: delay)
    }

    private mutating func takeValue() -> Int64 {
        defer { nextValue += 1 }
        return nextValue
    }

    /// How an answer is recorded: `ok` with what was observed, `fail` when it certainly had no
    /// effect, `info` when it may have.
    static func completion(of request: Request, _ response: RaftSim.Response) -> (History.EventType, History.Value) {
        switch response {
        case .value(let value): return (.ok, .int(value))
        case .written, .swapped, .accepted: return (.ok, request.invokeValue)
        case .mismatch, .refused: return (.fail, request.invokeValue)
        case .unknown: return (.info, request.invokeValue)
        }
    }

    // MARK: The operator

    private mutating func operate(_ sim: inout Simulator<Node>) {
        guard let gap = operatorGap, sim.now < stopAt else { return }
        sim.wakeClient(operatorID, after: sim.clientRNG.uniform(gap))
        guard let leader = Self.leader(sim), let raft = sim.nodes[leader]?.raft else { return }
        let wantsTransfer = transfers && (!membershipChanges || sim.clientRNG.below(2) == 0)
        let request: Request
        if wantsTransfer {
            let voters = raft.configuration.voters.incoming.ids.filter { $0 != raft.id }
            guard !voters.isEmpty else { return }
            request = .transfer(to: voters[sim.clientRNG.below(voters.count)])
        } else if membershipChanges, let change = Self.drawChange(raft.configuration, sim.clusterSize, &sim.clientRNG) {
            request = .reconfigure(change)
        } else {
            return
        }
        operatorRequests += 1
        _ = sim.submit(request, to: leader, client: operatorID)
    }

    /// A random membership or weight change for `configuration` in a cluster of `size` nodes:
    /// a weight change, a voter removed (while more than three remain), or a node that is not a
    /// voter added back (as a learner first, half the time).
    static func drawChange(_ configuration: Raft.Configuration, _ size: Int, _ rng: inout SimRNG) -> Raft.ConfigChange?
    {
        guard !configuration.isJoint else { return nil }
        let voters = configuration.voters.incoming.ids
        let outside = (1...Raft.NodeID(size)).filter { !configuration.isVoter($0) }
        let weight = UInt64(1 + rng.below(3))
        switch rng.below(3) {
        case 0:
            return .change([.setWeight(voters[rng.below(voters.count)], weight: weight)])
        case 1 where voters.count > 3:
            let removed = voters[rng.below(voters.count)]
            if let added = outside.first, rng.below(2) == 0 {
                return .change([.remove(removed), .addVoter(added, weight: 1)])
            }
            return .change([.remove(removed)])
        default:
            guard !outside.isEmpty else { return .change([.setWeight(voters[rng.below(voters.count)], weight: 1)]) }
            let added = outside[rng.below(outside.count)]
            if !configuration.isLearner(added) && rng.below(2) == 0 { return .change([.addLearner(added)]) }
            return .change([.addVoter(added, weight: rng.below(2) == 0 ? 1 : weight)])
        }
    }
}

/// How Raft simulation requests appear in a history (the CAS-register vocabulary).
extension RaftSim.Request {
    var functionName: String {
        switch self {
        case .get: return "read"
        case .put: return "write"
        case .cas: return "cas"
        case .reconfigure: return "reconfigure"
        case .transfer: return "transfer"
        }
    }

    var key: Int? {
        switch self {
        case .get(let key), .put(let key, _), .cas(let key, _, _): return key
        case .reconfigure, .transfer: return nil
        }
    }

    var invokeValue: History.Value {
        switch self {
        case .get, .reconfigure, .transfer: return .none
        case .put(_, let value): return .int(value)
        case .cas(_, let expected, let new): return .pair(expected, new)
        }
    }
}
