import BizraConfig
import Foundation
import Logging

/// The core's poll loop and routing decisions; lives on the thread that runs `BusCore.run()`.
final class CoreLoop {
    /// The marker part of a frame relayed by (or handed to) the link service: `[RELAY, frame]`.
    static let relayMarker: [UInt8] = Array("relay".utf8)
    /// The most messages read from one socket per poll round, so no socket starves another.
    static let drainMax = 512
    /// Housekeeping (heartbeat expiry, status snapshot) runs at least this often.
    static let housekeepingMicros: Int64 = 100_000
    /// Per-socket queue limits (ZeroMQ high-water marks, in messages).
    static let highWaterMark: Int32 = 100_000
    /// Room above maxFrameBytes for a topic or marker part: libzmq refuses larger messages
    /// before allocating them (ZMQ_MAXMSGSIZE), so an oversized frame costs nothing.
    static let multipartSlackBytes: Int64 = 1024

    let core: BusCore
    let router: ZMQSocket
    let xsub: ZMQSocket
    let xpub: ZMQSocket
    var verifier: FrameVerifier
    var signer: FrameSigner
    var registry = ServiceRegistry()
    var affinity = RequestAffinity()
    var rateLog = RateLimitedLog()
    var lastKeyringReloadMicros: Int64 = 0
    var lastHousekeepingMicros: Int64 = 0
    var log: Logger { core.log }
    var node: String { core.options.node }

    init(core: BusCore) throws(BusError) {
        self.core = core
        let o = core.options
        verifier = FrameVerifier(keyring: o.keyring, acl: o.acl, settings: o.settings)
        // The replay table starts empty: refuse anything signed before this core started, or a
        // frame captured earlier could be replayed within the clock-skew bound after a restart.
        verifier.notBeforeMicros = Clocks.wallMicros()
        signer = FrameSigner(
            principal: Principal(node: o.node, component: Principal.coreComponent, instance: 0), key: o.coreKey,
            limits: verifier.limits)
        router = try ZMQSocket(core.context, .router)
        xsub = try ZMQSocket(core.context, .xsub)
        xpub = try ZMQSocket(core.context, .xpub)
        try router.set(.routerMandatory, 1)
        for socket in [router, xsub, xpub] {
            try socket.set(.sendHighWaterMark, Self.highWaterMark)
            try socket.set(.receiveHighWaterMark, Self.highWaterMark)
        }
        // No XPUB_NODROP: with it one full subscriber queue makes libzmq refuse the message for
        // every subscriber of the topic. Without it only the slow subscriber loses messages.
        try router.setInt64(.maxMessageBytes, Int64(o.settings.maxFrameBytes) + Self.multipartSlackBytes)
        try xsub.setInt64(.maxMessageBytes, Int64(o.settings.maxFrameBytes) + Self.multipartSlackBytes)
        for endpoint in [o.endpoints.router, o.endpoints.publish, o.endpoints.subscribe] {
            removeStaleSocketFile(endpoint)
        }
        try router.bind(o.endpoints.router)
        try xsub.bind(o.endpoints.publish)
        try xpub.bind(o.endpoints.subscribe)
        // The core verifies every published frame, so it subscribes to everything upstream.
        _ = try xsub.send([[1]])
    }

    func close() {
        router.close()
        xsub.close()
        xpub.close()
    }

    private func removeStaleSocketFile(_ endpoint: String) {
        guard endpoint.hasPrefix("ipc://") else { return }
        unlink(String(endpoint.dropFirst(6)))
    }

    func serve() {
        let targets: [PollTarget] = [.socket(router), .socket(xsub), .socket(xpub), .fd(core.wakeup.fd)]
        while !core.stopping.load(ordering: .acquiring) {
            do {
                let ready = try zmqPollReadable(targets, timeoutMillis: Int(Self.housekeepingMicros / 1000))
                if ready.contains(3) { core.wakeup.drain() }
                if ready.contains(0) { try drain(router) { self.onRouterMessage($0) } }
                if ready.contains(1) { try drain(xsub) { self.onPublished($0) } }
                if ready.contains(2) { try drain(xpub) { _ in } }  // subscription notices: nothing to do
                housekeeping()
            } catch {
                log.error("core loop error: \(error)")
                if core.stopping.load(ordering: .acquiring) { break }
            }
        }
    }

    private func drain(_ socket: ZMQSocket, _ handle: ([[UInt8]]) -> Void) throws(BusError) {
        for _ in 0..<Self.drainMax {
            guard let parts = try socket.receive() else { return }
            handle(parts)
        }
    }

    private func housekeeping() {
        let now = Clocks.monotonicMicros()
        guard now - lastHousekeepingMicros >= Self.housekeepingMicros else { return }
        lastHousekeepingMicros = now
        let timeout = Int64(core.options.settings.heartbeatTimeoutMillis) * 1000
        for gone in registry.expire(nowMicros: now, timeoutMicros: timeout) {
            log.info("instance missed its heartbeats; deregistered", metadata: ["instance": "\(gone)"])
        }
        publishSnapshot(now: now)
    }

    func publishSnapshot(now: Int64) {
        let instances = registry.instances.values.sorted {
            ($0.principal.component, $0.principal.instance) < ($1.principal.component, $1.principal.instance)
        }
        .map { i in
            CoreStatus.InstanceStatus(
                component: i.principal.component, instance: i.principal.instance, pid: i.pid, services: i.services,
                healthy: i.healthy, inflight: i.inflight, handled: i.handled, failed: i.failed,
                lastHeartbeatAgeMillis: Int((now - i.lastHeartbeatMicros) / 1000), metricsPort: i.metricsPort)
        }
        let link = registry.link != nil
        core.snapshot.withLock { $0 = (instances, link) }
    }

    // MARK: verification

    /// Verifies a frame entering the node; counts and logs a reject and returns nil.
    func verify(_ bytes: [UInt8]) -> FrameVerifier.Verified? {
        let started = Clocks.monotonicNanos()
        let now = Clocks.wallMicros()
        do {
            let verified = try verifyReloadingKeyring(bytes, now: now)
            core.counters.accepted(
                envelopes: verified.parsed.count, gap: verified.sequenceGap,
                verifyNanos: Clocks.monotonicNanos() - started)
            return verified
        } catch {
            core.counters.rejected(error.reason)
            rateLog.warning(
                log, key: error.reason.rawValue, nowMicros: Clocks.monotonicMicros(), "frame rejected: \(error)")
            return nil
        }
    }

    private func verifyReloadingKeyring(_ bytes: [UInt8], now: Int64) throws(FrameError) -> FrameVerifier.Verified {
        do {
            return try verifier.verify(bytes, nowMicros: now)
        } catch  where error.reason == .unknownKey {
            let mono = Clocks.monotonicMicros()
            guard let reload = core.options.reloadKeyring, mono - lastKeyringReloadMicros > 1_000_000 else {
                throw error
            }
            lastKeyringReloadMicros = mono
            guard let fresh = reload() else { throw error }
            verifier.keyring = fresh
            return try verifier.verify(bytes, nowMicros: now)
        }
    }
}
