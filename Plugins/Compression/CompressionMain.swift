import BizraBus
import BizraConfig
import BizraLink
import Foundation
import Synchronization

/// `bizra-compression`: the node's link service, the only path by which bus traffic leaves a
/// host. It registers with its core as the link, carries frames bound for other nodes (and
/// cluster-scope topics) to their links over pooled TCP connections — batched under backlog,
/// compressed when the link is the bottleneck — and hands frames arriving from peers to its
/// core, which verifies them. Bandwidth per peer: `/metrics` and `/status` on its metrics port,
/// and `bizra status`.
@main
struct CompressionMain {
    static let component = "compression"

    static func main() async {
        await ComponentHost.main(component: component, services: [], isLink: true) { context in
            let settings = LinkSettings.resolve(context.config.link, environment: ProcessInfo.processInfo.environment)
            let service = try LinkService(context: context, settings: settings)
            try service.start()
            defer { service.stop() }
            let latest = Mutex(service.status(rates: [:]))
            Observability.componentStatus.withLock { provider in
                provider = { JSONBytes.encode(latest.withLock { $0 }) }
            }
            var metrics = LinkMetrics(peers: service.peers.keys.sorted())
            var previous = service.peers.mapValues { $0.snapshot().stats }
            var previousMicros = Clocks.monotonicMicros()
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(1))
                let now = Clocks.monotonicMicros()
                var rates: [String: LinkPeerRate] = [:]
                for (id, peer) in service.peers {
                    let stats = peer.snapshot().stats
                    rates[id] = stats.rate(since: previous[id] ?? LinkPeerStats(), elapsedMicros: now - previousMicros)
                    previous[id] = stats
                }
                previousMicros = now
                let status = service.status(rates: rates)
                latest.withLock { $0 = status }
                metrics.update(status)
                service.trainDictionaryIfReady()
            }
        }
    }
}

/// Link settings: bus-config `link:` (codec, poolSize, encrypt, dictionary), then environment
/// overrides for benchmarks and tests: `BIZRA_LINK_CODEC` auto|none|lz4|zstd, `BIZRA_LINK_POOL`
/// 1...2, `BIZRA_LINK_DICTIONARY` on|off, `BIZRA_LINK_RECORD` FILE (record carried frames for
/// `bizra bench link-codec`; the file name gets `-<node>-<instance>` appended),
/// `BIZRA_LINK_DICTIONARY_SAMPLES` N (64...100000, default 2000: frames sampled before the first
/// training, and the size of the ring of recent samples retraining uses),
/// `BIZRA_LINK_DICTIONARY_RETRAIN_SECONDS` N (1...86400, default 600: how often the dictionary
/// is retrained on recent traffic; adopted only when it compresses held-out frames better),
/// `BIZRA_LINK_USER_TIMEOUT_MILLIS` N (TCP_USER_TIMEOUT of link connections, default 20000),
/// `BIZRA_LINK_SECURE` on|off (encrypted links, §9.10 of docs/PROTOCOL.md: every node must agree).
struct LinkSettings {
    var codec = LinkCodecPolicy.Mode.auto
    var poolSize = LinkService.poolSizeMax
    var dictionary = true
    var recordPath: String?
    var secure = false
    var dictionaryTraining = LinkDictionaryTrainer.Settings()
    var userTimeoutMillis = TCPSocket.userTimeoutMillisDefault

    static func resolve(_ config: LinkConfig, environment env: [String: String]) -> LinkSettings {
        var settings = LinkSettings()
        settings.codec = LinkCodecPolicy.Mode(rawValue: config.codec) ?? .auto
        settings.poolSize = min(max(config.poolSize, 1), LinkService.poolSizeMax)
        settings.dictionary = config.dictionary
        settings.secure = config.encrypt
        if let codec = env["BIZRA_LINK_CODEC"].flatMap(LinkCodecPolicy.Mode.init(rawValue:)) { settings.codec = codec }
        if let pool = env["BIZRA_LINK_POOL"].flatMap(Int.init) {
            settings.poolSize = min(max(pool, 1), LinkService.poolSizeMax)
        }
        if let dictionary = env["BIZRA_LINK_DICTIONARY"] { settings.dictionary = dictionary == "on" }
        settings.recordPath = env["BIZRA_LINK_RECORD"]
        if let secure = env["BIZRA_LINK_SECURE"] { settings.secure = secure == "on" }
        if let millis = env["BIZRA_LINK_USER_TIMEOUT_MILLIS"].flatMap(UInt32.init) {
            settings.userTimeoutMillis = min(max(millis, 1000), 600_000)
        }
        typealias Training = LinkDictionaryTrainer.Settings
        if let samples = env["BIZRA_LINK_DICTIONARY_SAMPLES"].flatMap(Int.init) {
            settings.dictionaryTraining.samplesWanted = samples.clamped(to: Training.samplesWantedRange)
        }
        if let seconds = env["BIZRA_LINK_DICTIONARY_RETRAIN_SECONDS"].flatMap(Int.init) {
            settings.dictionaryTraining.retrainIntervalMillis =
                Int64(seconds.clamped(to: Training.retrainIntervalSecondsRange)) * 1000
        }
        return settings
    }
}

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}

enum JSONBytes {
    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }
}
