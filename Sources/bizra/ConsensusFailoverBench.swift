import ArgumentParser
import BizraBus
import BizraKV
import Foundation

/// `bizra bench consensus-failover`: how long a running deployment's consensus takes to serve a
/// write again after its leader is killed (kill -9 of the leader's `bizra-consensus`), over
/// repeated kills. Each round: find the leader, kill it, put through another node every 10 ms
/// until one succeeds (that delay is the failover time), then wait for the supervisor to restart
/// the killed member and for every member to agree on a leader before the next round.
struct ConsensusFailoverBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consensus-failover",
        abstract: "Kill the consensus leader repeatedly; report the time until a write succeeds again (median, max).")

    @OptionGroup var deployment: DeploymentOptions
    @Option(help: "Leader kills.") var kills = 10
    @Option(help: "Seconds to wait after the cluster settles before the next kill.") var settleSeconds = 2.0
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await CLIError.reporting {
            let config = try deployment.loadConfig()
            let nodes = config.nodes.map(\.id)
            guard nodes.count >= 3 else { throw CLIError("failover needs at least 3 nodes", exitCode: 3) }
            var clients: [String: BusClient] = [:]
            for node in nodes {
                clients[node] = try BusClient.startClient(
                    name: "bench", node: node, directory: deployment.directory, settings: config.bus,
                    logger: .init(label: "bizra.bench"))
            }
            defer { for client in clients.values { client.close() } }
            var times: [Double] = []
            var sequence: UInt64 = 0
            let clientID = UInt64.random(in: 1...UInt64.max)
            for round in 1...kills {
                let leader = try await settledLeader(clients, nodes: nodes)
                let survivor = nodes.first { $0 != leader }!
                guard
                    let pid = try callSupervisor(deployment.directory, ControlRequest(op: "status")).status?.children
                        .first(where: { $0.node == leader && $0.component == "consensus" })?.pid, pid > 0
                else { throw CLIError("no running consensus process on \(leader)", exitCode: 3) }
                try await Task.sleep(for: .seconds(settleSeconds))
                kill(pid, SIGKILL)
                let killed = ContinuousClock.now
                var served: Duration?
                while ContinuousClock.now - killed < .seconds(20) {
                    sequence += 1
                    var request = KV.Request(op: "put")
                    request.key = "failover-\(round)"
                    request.value = "\(sequence)"
                    request.client = clientID
                    request.sequence = sequence
                    if let reply = try? await Self.call(
                        clients[survivor]!, node: survivor, request, timeoutMillis: 150),
                        reply.status == .ok
                    {
                        served = ContinuousClock.now - killed
                        break
                    }
                    try await Task.sleep(for: .milliseconds(10))
                }
                guard let served else { throw CLIError("round \(round): no write succeeded within 20 s", exitCode: 3) }
                let seconds = ConsensusBench.micros(served) / 1e6
                times.append(seconds)
                if !json {
                    print(
                        String(
                            format: "  round %d: killed leader %@, write served after %.3f s", round, leader, seconds))
                }
            }
            let sorted = times.sorted()
            let median = sorted[sorted.count / 2]
            if json {
                print(
                    String(
                        format: "{\"kills\":%d,\"medianSeconds\":%.3f,\"maxSeconds\":%.3f,\"minSeconds\":%.3f}", kills,
                        median, sorted.last!, sorted.first!))
            } else {
                print(
                    String(
                        format:
                            "consensus failover over %d kills: median %.3f s, min %.3f s, max %.3f s (goal: median ≤ 2 s)",
                        kills, median, sorted.first!, sorted.last!))
            }
        }
    }

    /// Waits until every member reports the same leader, and returns it.
    private func settledLeader(_ clients: [String: BusClient], nodes: [String]) async throws -> String {
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while ContinuousClock.now < deadline {
            var leaders: Set<String> = []
            var answered = 0
            for node in nodes {
                guard
                    let reply = try? await clients[node]!.request(
                        .service(node: node, name: "consensus"), type: KV.RequestType.status,
                        payload: Array(#"{"op":"status"}"#.utf8), timeoutMillis: 1_000, retries: 0),
                    let status = try? JSONDecoder().decode(KV.StatusReply.self, from: Data(reply.payload))
                else { continue }
                answered += 1
                leaders.insert(status.leader ?? "")
            }
            if answered == nodes.count, leaders.count == 1, let leader = leaders.first, !leader.isEmpty {
                return leader
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError("the members did not agree on a leader within 60 s", exitCode: 3)
    }

    static func call(_ bus: BusClient, node: String, _ request: KV.Request, timeoutMillis: Int) async throws -> KV.Reply
    {
        let reply = try await bus.request(
            .service(node: node, name: "consensus"), type: KV.RequestType.kv,
            payload: Array(try JSONEncoder().encode(request)),
            timeoutMillis: timeoutMillis, retries: 0)
        return try JSONDecoder().decode(KV.Reply.self, from: Data(reply.payload))
    }
}
