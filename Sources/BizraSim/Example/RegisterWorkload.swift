/// Clients of `ReplicatedRegister`: each runs one operation at a time (read, write or CAS on a
/// random key), records it in a Jepsen-style `History`, and gives up after `timeout`, recording
/// `info` and continuing as a new process, as Jepsen clients do.
///
/// Writes and CAS go to the leader; half the reads go to a random node (a correct backup refuses
/// them, which records `fail`). Written values are unique, which keeps the checker's search
/// small. After `stopAt` clients start nothing new; `beginFinalReads` then reads every key once
/// from the leader, the liveness probe after healing.
package struct RegisterWorkload: SimWorkload {
    package typealias Node = ReplicatedRegisterNode
    typealias Request = ReplicatedRegister.Request

    /// One client: its Jepsen process number and the request it waits on.
    struct Client {
        var process: Int
        var outstanding: RequestID?
        var request: Request?
        /// Wake-ups before this time are stale and ignored.
        var wakeAt: SimTime = 0
        var finalKey: Int?
        var inFinalRead = false
    }

    package var history = History()
    package private(set) var finalReadsAnswered = 0
    package private(set) var finalReadsWanted = 0
    var clients: [Client]
    let keyCount: Int
    let stopAt: SimTime
    /// µs a client waits for a reply before recording `info`.
    package var timeout: SimTime = 100_000
    /// µs a client pauses between operations, uniform in this range.
    package var think: ClosedRange<SimTime> = 0...5_000
    var finalPhase = false
    var nextValue: Int64 = 1

    package init(clientCount: Int, keyCount: Int, stopAt: SimTime) {
        precondition(clientCount >= keyCount, "need a client per key for the final reads")
        clients = (0..<clientCount).map { Client(process: $0) }
        self.keyCount = keyCount
        self.stopAt = stopAt
    }

    package mutating func start(_ sim: inout Simulator<Node>) {
        for index in clients.indices { scheduleWake(index, after: sim.clientRNG.uniform(think), &sim) }
    }

    /// Stops new work and has client `k` read key `k` from the leader, for every key.
    package mutating func beginFinalReads(_ sim: inout Simulator<Node>) {
        finalPhase = true
        finalReadsWanted = keyCount
        for key in 0..<keyCount {
            clients[key].finalKey = key
            if clients[key].outstanding == nil { scheduleWake(key, after: 0, &sim) }
        }
    }

    package mutating func wake(client index: Int, _ sim: inout Simulator<Node>) {
        guard sim.now >= clients[index].wakeAt else { return }
        if clients[index].outstanding != nil {
            timeOut(index, &sim)
            return
        }
        if finalPhase {
            guard let key = clients[index].finalKey else { return }
            clients[index].finalKey = nil
            clients[index].inFinalRead = true
            invoke(index, .read(key: key), node: ReplicatedRegister.leader, &sim)
            return
        }
        guard sim.now < stopAt else { return }
        let key = sim.clientRNG.below(keyCount)
        let roll = sim.clientRNG.below(10)
        if roll < 5 {
            let node = sim.clientRNG.below(2) == 0 ? ReplicatedRegister.leader : sim.clientRNG.below(sim.clusterSize)
            invoke(index, .read(key: key), node: node, &sim)
        } else if roll < 8 {
            invoke(index, .write(key: key, value: takeValue()), node: ReplicatedRegister.leader, &sim)
        } else {
            let expected = sim.clientRNG.below(2) == 0 ? 0 : Int64(sim.clientRNG.below(Int(nextValue)))
            invoke(index, .cas(key: key, expected: expected, new: takeValue()), node: ReplicatedRegister.leader, &sim)
        }
    }

    package mutating func replied(
        client index: Int, id: RequestID, response: ReplicatedRegister.Response, _ sim: inout Simulator<Node>
    ) {
        guard clients[index].outstanding == id, let request = clients[index].request else { return }
        let (type, value) = RegisterWorkload.completion(of: request, response)
        history.append(
            History.Event(
                process: clients[index].process, type: type, f: request.functionName, key: request.key, value: value,
                time: sim.now))
        if type == .ok { recordCoverage(request, response, &sim) }
        if clients[index].inFinalRead && type == .ok { finalReadsAnswered += 1 }
        clients[index].inFinalRead = false
        clients[index].outstanding = nil
        clients[index].request = nil
        scheduleWake(index, after: sim.clientRNG.uniform(think), &sim)
    }

    private mutating func timeOut(_ index: Int, _ sim: inout Simulator<Node>) {
        guard let request = clients[index].request else { return }
        history.append(
            History.Event(
                process: clients[index].process, type: .info, f: request.functionName, key: request.key,
                value: request.invokeValue, time: sim.now))
        sim.coverage.hit("register.indeterminate")
        clients[index].inFinalRead = false
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

    private func recordCoverage(
        _ request: Request, _ response: ReplicatedRegister.Response, _ sim: inout Simulator<Node>
    ) {
        if case .swapped = response { sim.coverage.hit("register.casSwapped") }
        if !request.isRead && sim.network.blockedLinkCount > 0 {
            sim.coverage.hit("register.writeAckedDuringPartition")
        }
    }

    /// How a reply is recorded: `ok` with the observed value, or `fail` when it had no effect.
    static func completion(
        of request: Request, _ response: ReplicatedRegister.Response
    ) -> (History.EventType, History.Value) {
        switch response {
        case .value(let value): return (.ok, .int(value))
        case .written, .swapped: return (.ok, request.invokeValue)
        case .mismatch, .notLeader, .busy: return (.fail, request.invokeValue)
        }
    }
}

/// How register requests appear in a history.
extension ReplicatedRegister.Request {
    var functionName: String {
        switch self {
        case .read: return "read"
        case .write: return "write"
        case .cas: return "cas"
        }
    }

    var key: Int {
        switch self {
        case .read(let key), .write(let key, _), .cas(let key, _, _): return key
        }
    }

    var isRead: Bool {
        if case .read = self { return true }
        return false
    }

    var invokeValue: History.Value {
        switch self {
        case .read: return .none
        case .write(_, let value): return .int(value)
        case .cas(_, let expected, let new): return .pair(expected, new)
        }
    }
}
