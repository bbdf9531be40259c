import ArgumentParser
import BizraBus
import Foundation
import Synchronization

/// `bizra bench path`: the whole path between two nodes — a client signs messages on one node,
/// its core verifies them and hands them to its link, the link carries them (batched and
/// compressed as its settings say) to the peer's link, whose core verifies them again and
/// delivers them to a subscriber on the other node. Unlike `bench link`, nothing is fed to the
/// link directly: what it measures is what an application on one host sees of another.
///
/// Run `--role receive` against the receiving node's core first, then `--role send` against the
/// sending node's core; scripts/bench-link-path.sh does so between two namespace hosts. Each
/// message carries its sequence number and send time (CLOCK_MONOTONIC, which every namespace of
/// the machine shares) in its first 16 bytes.
struct PathBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "path",
        abstract: "End-to-end throughput and latency between two nodes: client, core, link, link, core, client.")

    @OptionGroup var client: ClientOptions
    @Option(help: "send or receive.") var role = "receive"
    @Option(help: "Cluster-scope topic the messages travel on.") var topic = "bench.path"
    @Option(help: "Synthetic JSON-like payload size in bytes (at least 80).") var bytes = 200
    @Option(help: "Messages per second to offer (0: as fast as the sender's queue takes them).") var rate = 0.0
    @Option(help: "Send for this many seconds; a receiver measures this long after its first message.")
    var seconds = 10.0
    @Option(help: "A receiver gives up when nothing arrives for this many seconds.") var idleSeconds = 30.0

    /// Sequence numbers a receiver tracks for duplicates (one bit each).
    static let sequencesMax = 1 << 30
    /// Latency samples a receiver keeps (the first ones; the rest are counted only).
    static let latencySamplesMax = 2_000_000
    /// How long a sender waits when its bounded outbound queue is full before trying again.
    static let queueFullPauseMicros: UInt32 = 200

    func run() async throws {
        try await CLIError.reporting {
            guard ["send", "receive"].contains(role) else { throw CLIError("--role send|receive", exitCode: 2) }
            guard bytes >= 80, bytes <= 64 << 10 else { throw CLIError("--bytes must be 80...65536", exitCode: 2) }
            guard seconds > 0, rate >= 0, idleSeconds > 0 else {
                throw CLIError("--seconds and --idle-seconds must be positive, --rate not negative", exitCode: 2)
            }
            let bus = try client.connect()
            defer { bus.close() }
            if role == "send" {
                try await send(bus)
            } else {
                try await receive(bus)
            }
        }
    }

    private func send(_ bus: BusClient) async throws {
        // A new connection to the core needs a moment before the first message is not lost.
        try await Task.sleep(for: .milliseconds(300))
        let (sent, queueFull, start) = try publishAll(bus)
        // Let the client's queue drain into the core before the connection closes.
        try await Task.sleep(for: .seconds(1))
        let elapsed = Double(LinkBenchmark.nowNanos() - start) / 1e9 - 1
        print(
            String(
                format: "sent %d messages in %.2f s = %.0f msg/s offered (%d queue-full pauses)", sent, elapsed,
                Double(sent) / elapsed, queueFull))
    }

    /// Publishes for `seconds` at `rate` (or as fast as the bounded queue takes them); returns
    /// how many were sent, how often the queue was full, and when it started.
    private func publishAll(_ bus: BusClient) throws -> (sent: UInt64, queueFull: Int, start: UInt64) {
        let corpus = LinkSample.synthetic(count: 4096, bytes: bytes)
        let start = LinkBenchmark.nowNanos()
        let end = start + UInt64(seconds * 1e9)
        let interval = rate > 0 ? UInt64(1e9 / rate) : 0
        var sequence: UInt64 = 0
        var queueFull = 0
        while true {
            let now = LinkBenchmark.nowNanos()
            guard now < end else { break }
            if interval > 0 {
                let due = start + sequence * interval
                if now < due {
                    usleep(UInt32(min((due - now) / 1000, 1_000_000)))
                    continue
                }
            }
            var message = corpus[Int(sequence % UInt64(corpus.count))]
            LinkBenchmark.stamp(&message, sequence: sequence, nanos: LinkBenchmark.nowNanos())
            do {
                try bus.publish(topic: topic, scope: .cluster, type: "bench.path", payload: message)
                sequence += 1
            } catch {
                guard error.code == .queueFull else { throw error }
                queueFull += 1
                usleep(Self.queueFullPauseMicros)
            }
        }
        return (sequence, queueFull, start)
    }

    private func receive(_ bus: BusClient) async throws {
        let stream = bus.subscribe(topic)
        print("receiving \(topic) on \(client.node)")
        fflush(nil)
        var seen = SequenceBitmap()
        var delivered = 0
        var duplicates = 0
        var first: UInt64 = 0
        var last: UInt64 = 0
        var highest: UInt64 = 0
        var latencies: [Double] = []
        latencies.reserveCapacity(1 << 16)
        let idle = Task {
            // Ends the stream when nothing arrives for idleSeconds (checked every second).
            var lastCount = -1
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(idleSeconds))
                let count = PathBench.progress.load(ordering: .relaxed)
                if count == lastCount { bus.close() }
                lastCount = count
            }
        }
        defer { idle.cancel() }
        for await delivery in stream {
            let now = LinkBenchmark.nowNanos()
            let payload = delivery.payload
            guard payload.count >= 16 else { continue }
            let sequence = payload.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let sent = payload[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard sequence < Self.sequencesMax, seen.insert(sequence) else {
                duplicates += 1
                continue
            }
            if first == 0 { first = now }
            last = now
            delivered += 1
            highest = max(highest, sequence)
            PathBench.progress.store(delivered, ordering: .relaxed)
            if latencies.count < Self.latencySamplesMax, now >= sent { latencies.append(Double(now - sent) / 1e3) }
            if now - first >= UInt64(seconds * 1e9) { break }
        }
        guard delivered > 0 else { throw CLIError("nothing arrived on \(topic)") }
        latencies.sort()
        func quantile(_ q: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))] }
        let window = Double(last - first) / 1e9
        let missing = Int(highest + 1) - delivered
        print(
            String(
                format:
                    "delivered %d in %.2f s = %.0f msg/s; latency p50 %.0f µs, p99 %.0f µs, max %.0f µs; %d duplicates, %d missing below the highest sequence",
                delivered, window, window > 0 ? Double(delivered) / window : 0, quantile(0.5), quantile(0.99),
                latencies.last ?? 0, duplicates, max(missing, 0)))
    }

    /// Messages delivered so far, for the idle watchdog.
    static let progress = Atomic<Int>(0)
}
