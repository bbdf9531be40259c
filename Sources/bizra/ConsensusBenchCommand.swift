import ArgumentParser
import BizraBus
import BizraKV
import Foundation
import Synchronization

/// `bizra bench consensus`: a closed-loop put workload against a running deployment's
/// `consensus` service, as etcd's `benchmark put` runs it: N clients, each with one request in
/// flight, 8-byte keys (a distinct key per put), 256-byte values.
struct ConsensusBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consensus",
        abstract: "Closed-loop puts against bizra-consensus: throughput and p50/p95/p99 latency.")

    @OptionGroup var client: ClientOptions
    @Option(help: "Concurrent clients (one request in flight each).") var clients = 16
    @Option(help: "Total puts (ignored when --seconds is given).") var count = 10_000
    @Option(help: "Run for this many seconds instead of a fixed count.") var seconds: Double?
    @Option(help: "Value bytes.") var valueBytes = 256
    @Option(help: "Key bytes (keys are distinct, zero-padded hex).") var keyBytes = 8
    @Option(help: "Clients per bus connection.") var clientsPerConnection = 16
    @Option(
        help:
            "Values: repeated (one letter, the same for every put) or json (JSON-like cluster metadata, different per put)."
    )
    var values = "repeated"
    @Flag(help: "Print the result as JSON.") var json = false

    struct Lane: Sendable {
        var latenciesMicros: [Double] = []
        var failed = 0
        var unknown = 0
    }

    func run() async throws {
        try await CLIError.reporting {
            guard clients >= 1, clients <= 4_096, valueBytes >= 0, keyBytes >= 4, keyBytes <= 64 else {
                throw CLIError("need 1…4096 clients, 4…64 key bytes", exitCode: 3)
            }
            guard ["repeated", "json"].contains(values) else { throw CLIError("--values repeated|json", exitCode: 3) }
            let connections = try (0..<((clients + clientsPerConnection - 1) / clientsPerConnection)).map { _ in
                try client.connect()
            }
            defer { for bus in connections { bus.close() } }
            let value = String(repeating: "v", count: valueBytes)
            let next = Ticket()
            let total = seconds == nil ? count : Int.max
            let deadline = seconds.map { ContinuousClock.now.advanced(by: .milliseconds(Int($0 * 1_000))) }
            let runID = UInt64.random(in: 1...UInt64(1) << 40)
            let started = ContinuousClock.now
            let lanes = try await withThrowingTaskGroup(of: Lane.self) { group in
                for lane in 0..<clients {
                    let bus = connections[lane / clientsPerConnection]
                    group.addTask {
                        try await runLane(
                            bus: bus, clientID: runID << 12 | UInt64(lane), next: next, total: total,
                            deadline: deadline, value: value)
                    }
                }
                return try await group.reduce(into: [Lane]()) { $0.append($1) }
            }
            let elapsed = ContinuousClock.now - started
            report(lanes, elapsed: elapsed)
        }
    }

    private func runLane(
        bus: BusClient, clientID: UInt64, next: Ticket, total: Int,
        deadline: ContinuousClock.Instant?, value: String
    ) async throws -> Lane {
        var lane = Lane()
        let encoder = JSONEncoder()
        var sequence: UInt64 = 0
        while true {
            let index = next.value.add(1, ordering: .relaxed).oldValue
            guard index < total else { break }
            if let deadline, ContinuousClock.now >= deadline { break }
            sequence += 1
            var request = KV.Request(op: "put")
            let hex = String(index, radix: 16)
            request.key = String(repeating: "0", count: max(0, keyBytes - hex.count)) + hex
            request.value = values == "json" ? Self.jsonValue(index: index, bytes: valueBytes) : value
            request.client = clientID
            request.sequence = sequence
            let payload = Array(try encoder.encode(request))
            let begin = ContinuousClock.now
            do {
                let delivery = try await bus.request(
                    .service(node: client.node, name: "consensus"), type: KV.RequestType.kv, payload: payload,
                    timeoutMillis: 6_000, retries: 1)
                let reply = try JSONDecoder().decode(KV.Reply.self, from: Data(delivery.payload))
                switch reply.status {
                case .ok: lane.latenciesMicros.append(Self.micros(ContinuousClock.now - begin))
                case .unknown: lane.unknown += 1
                default: lane.failed += 1
                }
            } catch {
                lane.unknown += 1
            }
        }
        return lane
    }

    /// A JSON-like metadata document for put `index`, padded or cut to `bytes`: the kind of value
    /// the store holds (partition maps, weights, strategies), with fields that differ per put.
    static func jsonValue(index: Int, bytes: Int) -> String {
        let strategies = ["least-connections", "weighted-round-robin", "ihsan-weighted", "adaptive"]
        var text =
            #"{"kind":"partition","node":"n\#(index % 3 + 1)","zone":"z\#(index % 3 + 1)","vnode":\#(index * 7919 % 65_536),"#
            + #""weight":\#(1 + index % 5),"strategy":"\#(strategies[index % 4])","revision":\#(index),"#
            + #""owner":"n\#((index / 3) % 3 + 1)/consensus#0","healthy":\#(index % 11 != 0)}"#
        if text.utf8.count > bytes { text = String(text.utf8.prefix(bytes))! }
        return text + String(repeating: " ", count: bytes - text.utf8.count)
    }

    static func micros(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
    }

    private func report(_ lanes: [Lane], elapsed: Duration) {
        let latencies = lanes.flatMap(\.latenciesMicros).sorted()
        let failed = lanes.reduce(0) { $0 + $1.failed }
        let unknown = lanes.reduce(0) { $0 + $1.unknown }
        let seconds = Self.micros(elapsed) / 1e6
        func quantile(_ q: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))] / 1_000
        }
        let rate = Double(latencies.count) / seconds
        if json {
            print(
                String(
                    format:
                        "{\"clients\":%d,\"ok\":%d,\"failed\":%d,\"unknown\":%d,\"seconds\":%.3f,\"putsPerSecond\":%.1f,\"p50Millis\":%.3f,\"p95Millis\":%.3f,\"p99Millis\":%.3f}",
                    clients, latencies.count, failed, unknown, seconds, rate, quantile(0.5), quantile(0.95),
                    quantile(0.99)))
            return
        }
        print(
            "bizra bench consensus: \(clients) clients, \(keyBytes)-byte keys, \(valueBytes)-byte values, node \(client.node)"
        )
        print(
            String(
                format: "  %d puts ok (%d failed, %d unknown) in %.2f s: %.0f puts/s", latencies.count, failed,
                unknown, seconds, rate))
        print(
            String(
                format: "  latency p50 %.2f ms  p95 %.2f ms  p99 %.2f ms", quantile(0.5), quantile(0.95),
                quantile(0.99)))
    }
}

/// The shared put counter of the benchmark's clients.
final class Ticket: Sendable {
    let value = Atomic<Int>(0)
}
