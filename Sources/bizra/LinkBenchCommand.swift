import ArgumentParser
import BizraBus
import BizraLink
import Foundation
import Synchronization

/// `bizra bench link`: the link layer over TCP — batched or not, under a codec — between two
/// threads of this process (`--role both`) or across hosts (`--role receive` on one, `--role
/// send` on the other; scripts/bench-link.sh runs it between namespaces under `tc tbf`).
struct LinkBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link", abstract: "Link-layer throughput and latency over TCP (batching, codecs).")

    @Option(help: "batched (take what queued up) or unbatched (one message per link frame).") var mode = "batched"
    @Option(help: "Codec policy: auto, none, lz4, zstd.") var codec = "auto"
    @Option(help: "Messages to send (at most).") var messages = 200_000
    @Option(help: "Stop sending after this many seconds.") var seconds = 30.0
    @Option(help: "Synthetic message size in bytes (ignored with --sample).") var bytes = 200
    @Option(help: "A recorded sample of link traffic (BIZRA_LINK_RECORD) to send instead.") var sample: String?
    @Option(help: "Messages per second (0: as fast as the link takes them).") var rate = 0.0
    @Option(help: "both, send or receive.") var role = "both"
    @Option(help: "Receiver address (send/receive roles).") var address = "127.0.0.1"
    @Option(help: "Receiver port (send/receive roles; 0 picks one for --role both).") var port = 0
    @Flag(help: "Encrypt with CurveZMQ as `link: encrypt: true` does (--role both only).") var encrypt = false

    func run() async throws {
        try await CLIError.reporting {
            guard let policy = LinkCodecPolicy.Mode(rawValue: codec), ["batched", "unbatched"].contains(mode),
                ["both", "send", "receive"].contains(role)
            else {
                throw CLIError(
                    "--codec auto|none|lz4|zstd, --mode batched|unbatched, --role both|send|receive", exitCode: 2)
            }
            guard !encrypt || role == "both" else { throw CLIError("--encrypt needs --role both", exitCode: 2) }
            let corpus =
                try sample.map { try LinkSample.load(path: $0) } ?? LinkSample.synthetic(count: 4096, bytes: bytes)
            let options = LinkBenchmark.SenderOptions(
                messages: corpus, count: messages, seconds: seconds, ratePerSecond: rate, batched: mode == "batched",
                codec: policy, encryption: encrypt ? .generate() : nil)
            switch role {
            case "receive": report(try receiveOnce(port: port))
            case "send": try sendOnce(options)
            default: try both(options)
            }
        }
    }

    private func receiveOnce(port: Int) throws -> LinkBenchmark.Received {
        let listener = try TCPSocket.listen(host: address, port: port)
        defer { close(listener) }
        print("receiving on \(address):\(port)")
        fflush(nil)
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { throw CLIError("accept failed: errno \(errno)") }
        defer { close(fd) }
        return LinkBenchmark.receive(fd)
    }

    private func sendOnce(_ options: LinkBenchmark.SenderOptions) throws {
        guard let fd = TCPSocket.connect(host: address, port: port, timeoutMillis: 5000) else {
            throw CLIError("cannot connect to \(address):\(port)")
        }
        defer { close(fd) }
        let sent = LinkBenchmark.send(fd, options)
        print("sent: \(sent.batches) link batches, codecs \(sent.codecs.sorted { $0.key < $1.key })")
    }

    private func both(_ options: LinkBenchmark.SenderOptions) throws {
        let listener = try TCPSocket.listen(host: "127.0.0.1", port: 0)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: bound.sin_port))
        let result = Mutex<LinkBenchmark.Received?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            let fd = accept(listener, nil, nil)
            result.withLock { $0 = LinkBenchmark.receive(fd, encryption: options.encryption) }
            close(fd)
            done.signal()
        }.start()
        guard let fd = TCPSocket.connect(host: "127.0.0.1", port: port, timeoutMillis: 5000) else {
            throw CLIError("cannot connect to the receiver")
        }
        let sent = LinkBenchmark.send(fd, options)
        done.wait()
        close(fd)
        close(listener)
        print("sent: \(sent.batches) link batches, codecs \(sent.codecs.sorted { $0.key < $1.key })")
        if let received = result.withLock({ $0 }) { report(received) }
    }

    private func report(_ r: LinkBenchmark.Received) {
        print(
            String(
                format:
                    "link bench (%@): delivered %d (duplicates %d) in %.2f s = %.0f msg/s; raw %.1f MB, wire %.1f MB, ratio %.2f; latency p50 %.0f µs p99 %.0f µs",
                role == "receive" ? "receiver" : "\(mode), codec \(codec)\(encrypt ? ", CurveZMQ" : "")", r.delivered,
                r.duplicates, r.seconds,
                r.rate, Double(r.rawBytes) / 1e6,
                Double(r.wireBytes) / 1e6, r.wireBytes > 0 ? Double(r.rawBytes) / Double(r.wireBytes) : 0,
                r.quantile(0.5), r.quantile(0.99)))
    }
}

/// `bizra bench link-codec`: the compression ratio per codec on a recorded sample of link
/// traffic, per message and in batches of 100. The zstd dictionary is trained on the first half
/// of the sample and measured on the second.
struct LinkCodecBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link-codec", abstract: "Compression ratio per codec on a recorded sample of link traffic.")

    @Option(help: "The recorded sample (BIZRA_LINK_RECORD of bizra-compression).") var sample: String

    func run() async throws {
        try await CLIError.reporting {
            let frames = try LinkSample.load(path: sample)
            let half = frames.count / 2
            let training = Array(frames[..<half].prefix(DictionarySize.samples))
            let measured = Array(frames[half...])
            let dictionary = ZstdCompressor.trainDictionary(samples: training, capacityBytes: DictionarySize.bytes)
            let raw = measured.reduce(0) { $0 + $1.count }
            print(
                "sample: \(frames.count) frames, mean \(raw / max(measured.count, 1)) B; measured on \(measured.count), dictionary \(dictionary?.count ?? 0) B from \(training.count)"
            )
            let encoder = LinkEncoder()
            if let dictionary { encoder.zstd.load(dictionary: dictionary, id: 1) }
            var codecs: [Link.Codec] = [.none, .lz4, .zstd]
            if dictionary != nil { codecs.append(.zstdDictionary) }
            for size in [1, 100] {
                var line = "batches of \(size):"
                for codec in codecs {
                    var wire = 0
                    for start in stride(from: 0, to: measured.count, by: size) {
                        wire +=
                            encoder.batch(measured[start..<min(start + size, measured.count)], codec: codec).bytes.count
                    }
                    line += String(format: "  %@ %.2f×", codec.description, Double(raw) / Double(wire))
                }
                print(line)
            }
        }
    }

    enum DictionarySize {
        static let samples = 2000
        static let bytes = 16 << 10
    }
}
