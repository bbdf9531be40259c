import ArgumentParser
import BizraBus
import Foundation

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks.",
        subcommands: [
            BusBench.self, LinkBench.self, LinkCodecBench.self, ConsensusBench.self, ConsensusFailoverBench.self,
            PathBench.self,
        ])
}

/// `bizra bench bus`: raw ZeroMQ beside the signed bus, in one run, on this machine.
struct BusBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bus",
        abstract: "Raw proxied ZeroMQ vs the signed bus through a core: pub/sub throughput and request/reply latency.")

    @Option(help: "Messages per pub/sub run.") var messages = 200_000
    @Option(help: "Request/reply round trips.") var roundTrips = 5000
    @Option(help: "Payload bytes.") var payload = 256
    @Option(help: "Runs of each measurement (the median is reported).") var runs = 3

    func run() async throws {
        let directory = "/tmp/bizra-bench-\(getpid())"
        try DataDirectory.makeDirectory(directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        print(
            "bizra bench bus: \(payload)-byte payloads, \(messages) messages × \(runs) runs, \(roundTrips) round trips")
        var raw: [Double] = []
        var signed: [Double] = []
        let bench = try BusBenchmark(directory: directory)
        defer { bench.stop() }
        for run in 1...runs {
            let r = try RawZMQBenchmark.proxiedPubSub(directory: directory, count: messages, payloadBytes: payload)
            let s = try await bench.signedPubSub(count: messages, payloadBytes: payload)
            print(
                String(
                    format:
                        "  run %d: raw proxied %.0f msg/s (%d delivered); signed bus %.0f msg/s (%d delivered, %.1f envelopes per signed frame)",
                    run, r.rate, r.delivered, s.rate, s.delivered, s.envelopesPerFrame))
            raw.append(r.rate)
            signed.append(s.rate)
        }
        let rawRate = raw.sorted()[runs / 2]
        let signedRate = signed.sorted()[runs / 2]
        print(
            String(
                format: "pub/sub  raw proxied ZeroMQ: %.0f msg/s   signed bus: %.0f msg/s   ratio %.2f (goal ≥ 0.50)",
                rawRate, signedRate, signedRate / rawRate))
        let rawRTT = try RawZMQBenchmark.routerRoundTrips(
            directory: directory, count: roundTrips, payloadBytes: payload)
        let signedRTT = try await bench.signedRoundTrips(count: roundTrips, payloadBytes: payload)
        let crypto = try BusBenchmark.cryptoCost(payloadBytes: payload)
        let pathCrypto = 2 * crypto.signMicros + 2 * crypto.verifyMicros
        let budget = 1.5 * (rawRTT.quantile(0.99) + pathCrypto)
        print(
            String(
                format: "req/rep  raw ROUTER round trip: p50 %.0f µs p99 %.0f µs", rawRTT.quantile(0.5),
                rawRTT.quantile(0.99)))
        print(
            String(
                format: "         crypto on the path: 2 signs × %.1f µs + 2 verifies × %.1f µs = %.0f µs",
                crypto.signMicros, crypto.verifyMicros, pathCrypto))
        print(
            String(
                format:
                    "         signed bus: p50 %.0f µs p95 %.0f µs p99 %.0f µs; goal p99 ≤ 1.5 × (%.0f + %.0f) = %.0f µs: %@",
                signedRTT.quantile(0.5), signedRTT.quantile(0.95), signedRTT.quantile(0.99), rawRTT.quantile(0.99),
                pathCrypto, budget,
                signedRTT.quantile(0.99) <= budget ? "met" : "missed"))
    }
}
