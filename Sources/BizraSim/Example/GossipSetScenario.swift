/// Clients of `GossipSet`: each adds a unique element to, or reads the set from, a random node,
/// one operation at a time, recording a Jepsen-style history; after `timeout` the operation is
/// indeterminate. `beginFinalReads` reads every node once (the liveness probe after healing).
package struct GossipSetWorkload: SimWorkload {
    package typealias Node = GossipSetNode

    /// One client: its Jepsen process number, the request it waits on and the node it asked.
    struct Client {
        var process: Int
        var outstanding: RequestID?
        var request: GossipSet.Request?
        var wakeAt: SimTime = 0
        var node: NodeID = 0
        var finalNodes: [NodeID] = []
    }

    package var history = History()
    package private(set) var finalReads: [(node: NodeID, elements: [Int64])] = []
    var clients: [Client]
    let stopAt: SimTime
    package var timeout: SimTime = 100_000
    var nextElement: Int64 = 1
    var finalPhase = false

    package init(clientCount: Int, stopAt: SimTime) {
        clients = (0..<clientCount).map { Client(process: $0) }
        self.stopAt = stopAt
    }

    package mutating func start(_ sim: inout Simulator<Node>) {
        for index in clients.indices { wake(index, after: sim.clientRNG.uniform(0...5_000), &sim) }
    }

    /// Client 0 reads every node in turn.
    package mutating func beginFinalReads(_ sim: inout Simulator<Node>) {
        finalPhase = true
        clients[0].finalNodes = Array((0..<sim.clusterSize).reversed())
        if clients[0].outstanding == nil { wake(0, after: 0, &sim) }
    }

    package mutating func wake(client index: Int, _ sim: inout Simulator<Node>) {
        guard sim.now >= clients[index].wakeAt else { return }
        if let request = clients[index].request {
            record(index, .info, request, value: request == .read ? .none : invokeValue(request), &sim)
            sim.coverage.hit("gset.indeterminate")
            clients[index].process += clients.count
            return wake(index, after: 1_000, &sim)
        }
        if finalPhase {
            guard let node = clients[index].finalNodes.popLast() else { return }
            return invoke(index, .read, node: node, &sim)
        }
        guard sim.now < stopAt else { return }
        let node = sim.clientRNG.below(sim.clusterSize)
        if sim.clientRNG.below(3) == 0 {
            invoke(index, .read, node: node, &sim)
        } else {
            invoke(index, .add(nextElement), node: node, &sim)
            nextElement += 1
        }
    }

    package mutating func replied(
        client index: Int, id: RequestID, response: GossipSet.Response, _ sim: inout Simulator<Node>
    ) {
        guard clients[index].outstanding == id, let request = clients[index].request else { return }
        switch response {
        case .added: record(index, .ok, request, value: invokeValue(request), &sim)
        case .full: record(index, .fail, request, value: invokeValue(request), &sim)
        case .elements(let elements):
            record(index, .ok, request, value: .list(elements), &sim)
            if finalPhase { finalReads.append((clients[index].node, elements)) }
        }
        wake(index, after: sim.clientRNG.uniform(0...5_000), &sim)
    }

    private mutating func invoke(_ index: Int, _ request: GossipSet.Request, node: NodeID, _ sim: inout Simulator<Node>)
    {
        history.append(
            .init(process: clients[index].process, type: .invoke, f: request.name, value: invokeValue(request)))
        clients[index].outstanding = sim.submit(request, to: node, client: index)
        clients[index].request = request
        clients[index].node = node
        wake(index, after: timeout, &sim)
    }

    private mutating func record(
        _ index: Int, _ type: History.EventType, _ request: GossipSet.Request, value: History.Value,
        _ sim: inout Simulator<Node>
    ) {
        history.append(.init(process: clients[index].process, type: type, f: request.name, value: value, time: sim.now))
        clients[index].outstanding = nil
        clients[index].request = nil
    }

    private mutating func wake(_ index: Int, after delay: SimTime, _ sim: inout Simulator<Node>) {
        clients[index].wakeAt = sim.now + delay
        sim.wakeClient(index, after: delay)
    }

    private func invokeValue(_ request: GossipSet.Request) -> History.Value {
        if case .add(let element) = request { return .int(element) }
        return .none
    }
}

/// How gossip-set requests appear in a history.
extension GossipSet.Request {
    var name: String { self == .read ? "read" : "add" }
}

/// One seeded run of `GossipSet` under a swarm fault plan. Oracles: after healing and a quiet
/// period every node must answer a read (liveness), all replicas must hold the same set
/// (convergence), and no acknowledged add may be missing from the final reads (set-full).
package struct GossipSetScenario: SimScenario {
    package var bug = GossipSet.Bug.none
    package var clusterSizes: ClosedRange<Int> = 3...7
    package var clientCount = 4
    package var activeDuration: SimTime = 2_000_000
    package var quietDuration: SimTime = 500_000
    package var livenessDeadline: SimTime = 1_000_000
    package var recordTrace = false
    /// Apply only these entries of the seed's fault schedule (for shrinking); nil applies all.
    package var faultSubset: [Int]?

    package init() {}

    package var name: String { "gset" }

    package var requiredCoverage: [String] {
        ["fault.crash", "fault.crashLostUnsyncedWrites", "fault.partition", "fault.pause", "gset.indeterminate"]
    }

    @inline(never)
    package func run(seed: UInt64) -> SeedResult {
        let draw = ScenarioDraw(
            seed: seed, clusterSizes: clusterSizes, activeDuration: activeDuration, recordTrace: recordTrace)
        let (clusterSize, plan, settings) = (draw.clusterSize, draw.plan, draw.settings)
        var config = GossipSet.Config()
        config.bug = bug
        var sim = Simulator<GossipSetNode>(settings: settings, nodeConfig: config)
        for (time, fault) in plan.selecting(faultSubset) { sim.schedule(fault: fault, at: time) }
        sim.schedule(fault: .healAll, at: activeDuration)
        var workload = GossipSetWorkload(clientCount: clientCount, stopAt: activeDuration)
        workload.start(&sim)
        sim.run(until: activeDuration + quietDuration, workload: &workload)
        workload.beginFinalReads(&sim)
        sim.run(until: sim.now + livenessDeadline, workload: &workload)
        let verdict = finalChecks(&sim, workload)
        return SeedResult(
            seed: seed, clusterSize: clusterSize, plan: plan.description, faultCount: plan.schedule.count,
            failure: sim.failure, verdict: verdict,
            stats: sim.stats, coverage: sim.coverage, traceHash: sim.trace.hash,
            trace: recordTrace ? sim.trace.text : "", history: workload.history)
    }

    private func finalChecks(_ sim: inout Simulator<GossipSetNode>, _ workload: GossipSetWorkload) -> CheckVerdict? {
        guard sim.failure == nil else { return nil }
        guard workload.finalReads.count == sim.clusterSize else {
            sim.fail("liveness", "\(workload.finalReads.count) of \(sim.clusterSize) final reads answered")
            return nil
        }
        let replicas = (0..<sim.clusterSize).map { (node: $0, state: sim.nodes[$0]?.elements ?? []) }
        if let divergence = ConvergenceChecker.check(replicas, describe: { "\($0.count) elements" }) {
            sim.fail("convergence", divergence)
            return nil
        }
        let report = SetFullChecker().check(workload.history)
        if !report.verdict.isValid { sim.fail("set-full", report.verdict.description) }
        if !report.stale.isEmpty { sim.coverage.hit("gset.staleRead") }
        return report.verdict
    }
}
