import BizraConfig
import BizraCrypto
import Foundation
import Logging

/// The signed-bus side of `bizra bench bus`: a real BusCore (the code `bizra-core` runs, here on
/// a thread of this process) with BusClient publishers, subscribers and services over ipc.
public final class BusBenchmark: Sendable {
    let directory: String
    let settings: BusSettings
    let keys: [String: Ed25519.KeyPair]
    let core: BusCore
    static let node = "bench"

    public init(directory: String) throws {
        self.directory = directory
        settings = .defaults
        var keys: [String: Ed25519.KeyPair] = [:]
        var ring = Keyring()
        for name in ["core", "publisher", "subscriber", "service", "client"] {
            let pair = Ed25519.KeyPair.generate()
            keys[name] = pair
            ring.add(name: "\(Self.node)/\(name)", publicKey: pair.publicKey)
        }
        self.keys = keys
        let acl = TopicACL(rules: [TopicRule(topicPrefix: "", publishers: ["*"])])
        let endpoints = CoreEndpoints(
            router: "ipc://\(directory)/router.sock", publish: "ipc://\(directory)/pub.sock",
            subscribe: "ipc://\(directory)/sub.sock")
        var log = Logger(label: "bench")
        log.logLevel = .error
        core = BusCore(
            options: .init(
                node: Self.node, settings: settings, acl: acl, keyring: ring, coreKey: keys["core"]!,
                endpoints: endpoints),
            logger: log)
        let core = self.core
        Thread { try? core.run() }.start()
        usleep(100_000)
    }

    public func stop() { core.stop() }

    func client(_ name: String, registers: Bool = false, services: [String] = []) throws -> BusClient {
        var log = Logger(label: "bench.\(name)")
        log.logLevel = .error
        let client = BusClient(
            options: .init(
                principal: Principal(node: Self.node, component: name, instance: 0), key: keys[name]!,
                endpoints: core.options.endpoints, settings: settings, registers: registers, services: services),
            logger: log)
        try client.start()
        return client
    }

    /// Publishes `count` envelopes of `payloadBytes` as fast as the SDK's queue accepts them and
    /// counts deliveries at a subscriber. Returns delivered envelopes per second and the count.
    public func signedPubSub(count: Int, payloadBytes: Int) async throws -> (
        rate: Double, delivered: Int, envelopesPerFrame: Double
    ) {
        let before = core.status()
        let publisher = try client("publisher")
        let subscriber = try client("subscriber")
        defer {
            publisher.close()
            subscriber.close()
        }
        let stream = subscriber.subscribe("bench.")
        try await Task.sleep(for: .milliseconds(300))
        let counter = Task {
            var delivered = 0
            var last = Clocks.monotonicNanos()
            for await _ in stream {
                delivered += 1
                last = Clocks.monotonicNanos()
                if delivered == count { break }
            }
            return (delivered, last)
        }
        let payload = [UInt8](repeating: 0x61, count: payloadBytes)
        let started = Clocks.monotonicNanos()
        var sent = 0
        while sent < count {
            switch publishOnce(publisher, payload) {
            case .published: sent += 1
            case .queueFull: try await Task.sleep(for: .microseconds(200))
            case .failed(let error): throw error
            }
        }
        // Stop waiting once deliveries have stalled for a second (whatever is missing was dropped).
        let watchdog = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(1))
                let total = core.status().envelopesIn
                try await Task.sleep(for: .seconds(1))
                if core.status().envelopesIn == total { subscriber.close(); return }
            }
        }
        let (delivered, last) = await counter.value
        watchdog.cancel()
        let after = core.status()
        let perFrame = Double(after.envelopesIn - before.envelopesIn) / Double(max(1, after.framesIn - before.framesIn))
        return (Double(delivered) / (Double(last - started) / 1e9), delivered, perFrame)
    }

    enum PublishOutcome {
        case published, queueFull
        case failed(BusError)
    }

    /// One publish, with back-pressure (a full queue) told apart from failure.
    private func publishOnce(_ publisher: BusClient, _ payload: [UInt8]) -> PublishOutcome {
        do {
            try publisher.publish(topic: "bench.load", type: "bench", payload: payload)
            return .published
        } catch {
            return error.code == .queueFull ? .queueFull : .failed(error)
        }
    }

    /// Sequential request/reply round trips client → core → service → core → client; sorted µs.
    public func signedRoundTrips(count: Int, payloadBytes: Int) async throws -> [Double] {
        let service = try client("service", registers: true, services: ["echo"])
        service.serve("echo") { $0.payload }
        let caller = try client("client")
        defer {
            caller.close()
            service.close()
        }
        while !service.isRegistered { try await Task.sleep(for: .milliseconds(10)) }
        let payload = [UInt8](repeating: 0x61, count: payloadBytes)
        for _ in 0..<200 {
            _ = try await caller.request(.service(node: Self.node, name: "echo"), type: "echo.x", payload: payload)
        }
        var latencies: [Double] = []
        for _ in 0..<count {
            let started = Clocks.monotonicNanos()
            _ = try await caller.request(.service(node: Self.node, name: "echo"), type: "echo.x", payload: payload)
            latencies.append(Double(Clocks.monotonicNanos() - started) / 1000)
        }
        return latencies.sorted()
    }

    /// Median microseconds to sign and to verify one frame carrying one `payloadBytes` envelope.
    public static func cryptoCost(payloadBytes: Int, iterations: Int = 2000) throws -> (
        signMicros: Double, verifyMicros: Double
    ) {
        let key = Ed25519.KeyPair.generate()
        var signer = FrameSigner(
            principal: Principal(node: node, component: "x", instance: 0), key: key, limits: FrameLimits())
        let record = Frame.Record(
            kind: .request, type: "echo.x", payload: [UInt8](repeating: 0x61, count: payloadBytes))
        var signs: [Double] = []
        var verifies: [Double] = []
        for _ in 0..<iterations {
            var t = Clocks.monotonicNanos()
            let bytes = try signer.sign([record], to: .service(node: node, name: "echo"))
            signs.append(Double(Clocks.monotonicNanos() - t) / 1000)
            let parsed = try ParsedFrame.parse(bytes, limits: FrameLimits())
            t = Clocks.monotonicNanos()
            precondition(parsed.hasValidSignature(publicKey: key.publicKey), "benchmark frame failed to verify")
            verifies.append(Double(Clocks.monotonicNanos() - t) / 1000)
        }
        return (signs.sorted()[iterations / 2], verifies.sorted()[iterations / 2])
    }
}

extension Array where Element == Double {
    /// The q-quantile (0...1) of a sorted array.
    public func quantile(_ q: Double) -> Double {
        guard !isEmpty else { return .nan }
        return self[Swift.min(count - 1, Int(Double(count) * q))]
    }
}
