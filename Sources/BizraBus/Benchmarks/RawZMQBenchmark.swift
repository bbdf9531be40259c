import Foundation

/// Raw ZeroMQ baselines for `bizra bench bus`: the same socket patterns as the bus, with no
/// signing, verifying or envelope work, measured in the same run as the signed bus.
public enum RawZMQBenchmark {
    /// PUB → XSUB/XPUB forwarding loop → SUB over ipc, `count` messages of `payloadBytes`.
    /// Returns messages delivered per second and how many were delivered.
    public static func proxiedPubSub(directory: String, count: Int, payloadBytes: Int) throws -> (
        rate: Double, delivered: Int
    ) {
        let context = ZMQContext()
        defer { context.terminate() }
        let front = "ipc://\(directory)/raw-pub.sock"
        let back = "ipc://\(directory)/raw-sub.sock"
        let stop = StopFlag()
        let proxy = Thread {
            guard let xsub = try? ZMQSocket(context, .xsub), let xpub = try? ZMQSocket(context, .xpub) else { return }
            try? xsub.set(.receiveHighWaterMark, 100_000)
            try? xpub.set(.sendHighWaterMark, 100_000)
            try? xsub.bind(front)
            try? xpub.bind(back)
            _ = try? xsub.send([[1]])
            while !stop.isSet {
                guard let ready = try? zmqPollReadable([.socket(xsub), .socket(xpub)], timeoutMillis: 50) else { break }
                if ready.contains(0) { while let parts = try? xsub.receive() { _ = try? xpub.send(parts) } }
                if ready.contains(1) { while (try? xpub.receive()) != nil {} }
            }
            xsub.close()
            xpub.close()
        }
        proxy.start()
        defer { stop.set() }
        usleep(100_000)
        let sub = try ZMQSocket(context, .sub)
        defer { sub.close() }
        try sub.set(.receiveHighWaterMark, 100_000)
        try sub.set(.subscribe, bytes: Array("bench".utf8))
        try sub.connect(back)
        let pub = try ZMQSocket(context, .pub)
        defer { pub.close() }
        try pub.set(.sendHighWaterMark, 100_000)
        try pub.connect(front)
        usleep(300_000)  // let the subscription reach the publisher
        let payload = [UInt8](repeating: 0x61, count: payloadBytes)
        let topic = Array("bench".utf8)
        let started = Clocks.monotonicNanos()
        var delivered = 0
        var sent = 0
        var lastReceiveNanos = started
        while sent < count || delivered < count {
            if sent < count {
                for _ in 0..<min(256, count - sent) { _ = try pub.send([topic, payload]) }
                sent = min(count, sent + 256)
            }
            while let _ = try sub.receive() {
                delivered += 1
                lastReceiveNanos = Clocks.monotonicNanos()
            }
            if sent >= count {
                _ = try zmqPollReadable([.socket(sub)], timeoutMillis: 200)
                if Clocks.monotonicNanos() - lastReceiveNanos > 500_000_000 { break }  // the rest was dropped
            }
        }
        let seconds = Double(lastReceiveNanos - started) / 1e9
        return (Double(delivered) / max(seconds, 1e-9), delivered)
    }

    /// DEALER → ROUTER echo round trips over ipc; returns sorted latencies in microseconds.
    public static func routerRoundTrips(directory: String, count: Int, payloadBytes: Int) throws -> [Double] {
        let context = ZMQContext()
        defer { context.terminate() }
        let endpoint = "ipc://\(directory)/raw-router.sock"
        let stop = StopFlag()
        let echo = Thread {
            guard let router = try? ZMQSocket(context, .router) else { return }
            try? router.bind(endpoint)
            while !stop.isSet {
                guard let ready = try? zmqPollReadable([.socket(router)], timeoutMillis: 50), !ready.isEmpty else {
                    continue
                }
                while let parts = try? router.receive() { _ = try? router.send(parts) }
            }
            router.close()
        }
        echo.start()
        defer { stop.set() }
        usleep(100_000)
        let dealer = try ZMQSocket(context, .dealer)
        defer { dealer.close() }
        try dealer.connect(endpoint)
        let payload = [UInt8](repeating: 0x61, count: payloadBytes)
        var latencies: [Double] = []
        latencies.reserveCapacity(count)
        for _ in 0..<count {
            let started = Clocks.monotonicNanos()
            _ = try dealer.send([payload], dontWait: false)
            _ = try dealer.receive(dontWait: false)
            latencies.append(Double(Clocks.monotonicNanos() - started) / 1000)
        }
        return latencies.sorted()
    }
}

/// A flag one thread sets and another polls.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
