import BizraBus
import BizraCrypto
import BizraLink
import Foundation
import Synchronization

/// The link layer alone, over a real TCP connection: a producer feeding a link send queue, a
/// writer taking batches from it (or one message per link frame when unbatched) under a codec
/// policy, and a receiver decoding and timing what arrives. Each message carries its sequence
/// number and send time (CLOCK_MONOTONIC, shared by every namespace of the machine) in its
/// first 16 bytes, so the receiver counts duplicates and measures one-way latency.
enum LinkBenchmark {
    struct SenderOptions {
        var messages: [[UInt8]]
        var count: Int
        var seconds: Double
        var ratePerSecond: Double
        var batched: Bool
        var codec: LinkCodecPolicy.Mode
        /// Run CurveZMQ over the connection (docs/PROTOCOL.md §9.10), as `link: encrypt: true` does.
        var encryption: Encryption?
    }

    /// Permanent keys for an encrypted run: fresh for the run, known to both ends of the process.
    struct Encryption: Sendable {
        let server: Curve25519Box.KeyPair
        let client: Curve25519Box.KeyPair

        static func generate() -> Encryption {
            var random = SodiumRandom()
            func pair() -> Curve25519Box.KeyPair {
                var seed = (0..<4).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } }
                defer { Curve25519Box.wipe(&seed) }
                return Curve25519Box.KeyPair(seed: seed)
            }
            return Encryption(server: pair(), client: pair())
        }
    }

    struct Received: Sendable {
        var delivered = 0
        var duplicates = 0
        var rawBytes = 0
        var wireBytes = 0
        var firstNanos: UInt64 = 0
        var lastNanos: UInt64 = 0
        var latenciesMicros: [Double] = []

        var seconds: Double { Double(lastNanos - firstNanos) / 1e9 }
        var rate: Double { seconds > 0 ? Double(delivered) / seconds : 0 }
        func quantile(_ q: Double) -> Double {
            guard !latenciesMicros.isEmpty else { return 0 }
            let sorted = latenciesMicros.sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
        }
    }

    static func nowNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Reads one connection to its end (as the CurveZMQ server first, when encrypted).
    static func receive(_ fd: Int32, encryption: Encryption? = nil, latencySamplesMax: Int = 1_000_000) -> Received {
        let decoder = LinkDecoder()
        var result = Received()
        var seen = SequenceBitmap()
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        var opener: CurveZMQ.Opener?
        if let encryption {
            guard let session = serverHandshake(fd, encryption) else { return result }
            opener = session.opener
        }
        var readBytes = 0
        var chunk: [UInt8] = []
        while true {
            if let opener {
                opener.append(chunk)
                while let plain = try? opener.next() { decoder.append(plain) }
            } else {
                decoder.append(chunk)
            }
            while let (message, wire) = try? decoder.next() {
                result.wireBytes = opener == nil ? result.wireBytes + wire : readBytes
                guard case .batch(let frames, _) = message else { continue }
                let now = nowNanos()
                if result.firstNanos == 0 { result.firstNanos = now }
                result.lastNanos = now
                for frame in frames where frame.count >= 16 {
                    let sequence = frame.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    let sent = frame[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    guard seen.insert(sequence) else {
                        result.duplicates += 1
                        continue
                    }
                    result.delivered += 1
                    result.rawBytes += frame.count
                    if result.latenciesMicros.count < latencySamplesMax, now >= sent {
                        result.latenciesMicros.append(Double(now - sent) / 1000)
                    }
                }
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            readBytes += count
            chunk = Array(buffer[..<count])
        }
        return result
    }

    private static func serverHandshake(_ fd: Int32, _ keys: Encryption) -> CurveZMQ.Session? {
        var server = CurveZMQServer(
            permanent: keys.server, metadata: CurveZMQ.identity(node: "receiver", instance: 0), limits: .defaults)
        var random = SodiumRandom()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0,
                let step = try? server.receive(
                    Array(buffer[..<count]), random: &random,
                    authorize: { _ in keys.client.publicKey }
                )
            else { return nil }
            switch step {
            case .wait: continue
            case .send(let bytes): guard TCPSocket.writeAll(fd, bytes, deadlineMillis: 5000) else { return nil }
            case .refuse: return nil
            case .established(let bytes, let session):
                return TCPSocket.writeAll(fd, bytes, deadlineMillis: 5000) ? session : nil
            }
        }
    }

    private static func clientHandshake(_ fd: Int32, _ keys: Encryption) -> CurveZMQ.Session? {
        var client = CurveZMQClient(
            permanent: keys.client, serverKey: keys.server.publicKey,
            metadata: CurveZMQ.identity(node: "sender", instance: 0), limits: .defaults)
        var random = SodiumRandom()
        guard TCPSocket.writeAll(fd, client.hello(random: &random), deadlineMillis: 5000) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0, let step = try? client.receive(Array(buffer[..<count]), random: &random) else {
                return nil
            }
            switch step {
            case .wait: continue
            case .send(let bytes), .refuse(let bytes, _):
                guard TCPSocket.writeAll(fd, bytes, deadlineMillis: 5000) else { return nil }
            case .established(_, let session): return session
            }
        }
    }

    /// Sends until `count` messages or `seconds` pass, then closes the connection.
    static func send(_ fd: Int32, _ options: SenderOptions) -> (batches: Int, codecs: [String: Int]) {
        let queue = BenchQueue()
        let writer = Thread {
            write(fd, queue: queue, options: options)
        }
        writer.start()
        let started = nowNanos()
        let deadline = started + UInt64(options.seconds * 1e9)
        var sequence: UInt64 = 0
        while Int(sequence) < options.count && (sequence % 256 != 0 || nowNanos() < deadline) {
            if options.ratePerSecond > 0 {
                let due = started + UInt64(Double(sequence) / options.ratePerSecond * 1e9)
                while nowNanos() < due { usleep(50) }
            }
            var message = options.messages[Int(sequence) % options.messages.count]
            stamp(&message, sequence: sequence, nanos: nowNanos())
            queue.push(message)
            sequence += 1
        }
        queue.finish()
        return queue.waitForWriter()
    }

    static func stamp(_ message: inout [UInt8], sequence: UInt64, nanos: UInt64) {
        for i in 0..<8 {
            message[i] = UInt8(truncatingIfNeeded: sequence >> UInt64(56 - 8 * i))
            message[8 + i] = UInt8(truncatingIfNeeded: nanos >> UInt64(56 - 8 * i))
        }
    }

    private static func write(_ fd: Int32, queue: BenchQueue, options: SenderOptions) {
        let encoder = LinkEncoder()
        var policy = LinkCodecPolicy(mode: options.codec)
        var batches = 0
        var codecs: [String: Int] = [:]
        var sealer: CurveZMQ.Sealer?
        if let encryption = options.encryption {
            guard let session = clientHandshake(fd, encryption) else {
                shutdown(fd, Int32(SHUT_WR))
                queue.writerDone(batches: 0, codecs: [:])
                return
            }
            sealer = session.sealer
        }
        while let (frames, backlogged) = queue.take(framesMax: options.batched ? 1024 : 1) {
            let codec = policy.choose(frames: frames.count, backlogged: backlogged, hasDictionary: false)
            let batch = encoder.batch(frames, codec: codec)
            policy.observe(codec: codec, blockBytes: batch.blockBytes, wireBytes: batch.bytes.count)
            guard TCPSocket.writeAll(fd, sealer?.seal(batch.bytes) ?? batch.bytes, deadlineMillis: 30_000) else {
                break
            }
            batches += 1
            codecs[batch.codec.description, default: 0] += 1
        }
        shutdown(fd, Int32(SHUT_WR))
        queue.writerDone(batches: batches, codecs: codecs)
    }
}

/// The sender's queue: bounded, with back-pressure on the producer (a benchmark measures
/// delivered throughput, so it waits rather than drops).
final class BenchQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue = LinkSendQueue(framesMax: 1 << 16, bytesMax: 64 << 20)
    private var finished = false
    private var done: (Int, [String: Int])?
    static let depthMax = 8192

    func push(_ message: [UInt8]) {
        condition.lock()
        while queue.depth >= Self.depthMax { condition.wait() }
        _ = queue.push(message)
        // The writer waits only on an empty queue: wake it only then (a wake-up per message
        // would cost more than the message).
        if queue.depth == 1 { condition.broadcast() }
        condition.unlock()
    }

    func take(framesMax: Int) -> ([[UInt8]], Bool)? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !finished { condition.wait() }
        if queue.isEmpty { return nil }
        let frames = queue.takeBatch(framesMax: framesMax, bytesMax: 1 << 20)
        condition.broadcast()
        return (frames, frames.count > 1 || !queue.isEmpty)
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    func writerDone(batches: Int, codecs: [String: Int]) {
        condition.lock()
        done = (batches, codecs)
        condition.broadcast()
        condition.unlock()
    }

    func waitForWriter() -> (batches: Int, codecs: [String: Int]) {
        condition.lock()
        defer { condition.unlock() }
        while done == nil { condition.wait() }
        return done!
    }
}

/// Messages for benchmarks: a recorded sample of link traffic (bus frames, each a u32 length
/// and its bytes, as `bizra-compression` writes with BIZRA_LINK_RECORD), or synthetic ones.
enum LinkSample {
    static func load(path: String) throws -> [[UInt8]] {
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var frames: [[UInt8]] = []
        var offset = 0
        while offset + 4 <= data.count {
            let length = data[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard length > 0, offset + length <= data.count else { break }
            frames.append(Array(data[offset..<offset + length]))
            offset += length
        }
        guard !frames.isEmpty else { throw CLIError("no frames in \(path)") }
        return frames
    }

    /// JSON-like worker traffic padded or cut to `bytes`, ending in 64 random bytes (a signature).
    static func synthetic(count: Int, bytes: Int) -> [[UInt8]] {
        var rng = SystemRandomNumberGenerator()
        return (0..<count).map { i in
            let text =
                "0123456789abcdef{\"type\":\"worker.work\",\"from\":\"n\(i % 3 + 1)/worker#\(i % 2)\",\"seq\":\(i),"
                + "\"payload\":{\"job\":\(Int.random(in: 0..<100_000, using: &rng)),\"state\":\"running\",\"ok\":true}}"
            var body = Array(text.utf8.prefix(max(16, bytes - 64)))
            while body.count < bytes - 64 { body.append(UInt8(ascii: " ")) }
            return body + (0..<64).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
    }
}

/// Which sequence numbers arrived: one bit each (a benchmark sends up to ~10^8).
struct SequenceBitmap {
    private var words: [UInt64] = []

    /// False when `sequence` was seen before.
    mutating func insert(_ sequence: UInt64) -> Bool {
        let index = Int(sequence / 64)
        guard index < 1 << 24 else { return true }
        if index >= words.count { words.append(contentsOf: repeatElement(0, count: index - words.count + 1024)) }
        let bit = UInt64(1) << (sequence % 64)
        defer { words[index] |= bit }
        return words[index] & bit == 0
    }
}
