@testable import BizraSim

/// A node for exercising the simulator itself: client requests tell it what to do, and it
/// records everything it sees, so tests can assert on what the simulator delivered and when.
struct ProbeNode: SimulatedNode {
    enum Request: Equatable, CustomStringConvertible {
        case send(to: NodeID, value: Int)
        case persist(Int)
        case timer(after: SimTime)
        case echo(Int)

        var description: String {
            switch self {
            case .send(let to, let value): return "send(\(to),\(value))"
            case .persist(let value): return "persist(\(value))"
            case .timer(let after): return "timer(\(after))"
            case .echo(let value): return "echo(\(value))"
            }
        }
    }

    typealias Message = Int
    typealias Response = Int
    typealias Record = Int
    typealias Config = Void

    let id: NodeID
    var received: [(from: NodeID, value: Int, localTime: SimTime)] = []
    var timerLocalTimes: [SimTime] = []
    var recovered: RecoveredDisk<Int>
    var durableTokens: [UInt64] = []
    var nextToken: UInt64 = 1

    init(id: NodeID, clusterSize: Int, config: Void, recovered: RecoveredDisk<Int>, context: inout Context) {
        self.id = id
        self.recovered = recovered
    }

    mutating func receive(_ message: Int, from sender: NodeID, context: inout Context) {
        received.append((sender, message, context.localTime))
    }

    mutating func timerFired(_ timer: Int, context: inout Context) {
        timerLocalTimes.append(context.localTime)
    }

    mutating func clientRequest(_ request: Request, id requestID: RequestID, context: inout Context) {
        switch request {
        case .send(let to, let value): context.send(value, to: to)
        case .persist(let value):
            context.persist(value, token: nextToken)
            nextToken += 1
        case .timer(let after): context.setTimer(0, after: after)
        case .echo(let value): context.reply(value, to: requestID)
        }
    }

    mutating func persisted(token: UInt64, context: inout Context) {
        durableTokens.append(token)
    }
}

/// Submits a fixed script of requests: entry `i` goes to its node at its time (plus the
/// client-link delay), as client `i`. Replies are collected.
struct ScriptWorkload: SimWorkload {
    typealias Node = ProbeNode

    var script: [(at: SimTime, node: NodeID, request: ProbeNode.Request)]
    var replies: [(client: Int, value: Int, at: SimTime)] = []

    init(_ script: [(at: SimTime, node: NodeID, request: ProbeNode.Request)]) { self.script = script }

    mutating func start(_ sim: inout Simulator<ProbeNode>) {
        for (index, entry) in script.enumerated() { sim.wakeClient(index, after: entry.at) }
    }

    mutating func wake(client: Int, _ sim: inout Simulator<ProbeNode>) {
        _ = sim.submit(script[client].request, to: script[client].node, client: client)
    }

    mutating func replied(client: Int, id: RequestID, response: Int, _ sim: inout Simulator<ProbeNode>) {
        replies.append((client, response, sim.now))
    }
}

/// A simulator of `count` probe nodes with fixed, known latencies (client link 10 µs, network
/// 100 µs, disk 1,000 µs) so tests can predict times.
func probeSimulator(nodes count: Int, seed: UInt64 = 1, trace: Bool = false) -> Simulator<ProbeNode> {
    var settings = SimSettings(clusterSize: count, seed: seed)
    settings.clientLatency = 10...10
    settings.diskLatency = 1_000...1_000
    settings.recordTrace = trace
    var sim = Simulator<ProbeNode>(settings: settings, nodeConfig: ())
    var links = LinkFaults()
    links.delayMin = 100
    links.delayMax = 100
    sim.network.defaultLink = links
    return sim
}
