import BizraConfig
import BizraCrypto
import Foundation
import Logging
import Synchronization

/// One node's bus: verifies every frame entering the node, enforces the topic ACL, routes
/// directed frames and service requests over a ROUTER, and forwards topic frames from an XSUB to
/// an XPUB. It holds no protocol logic.
///
/// Threading: `run()` blocks on the calling thread, which owns every socket; `stop()` and
/// `status()` may be called from any thread.
public final class BusCore: Sendable {
    public struct Options: Sendable {
        public var node: String
        public var settings: BusSettings
        public var acl: TopicACL
        public var keyring: Keyring
        public var coreKey: Ed25519.KeyPair
        public var endpoints: CoreEndpoints
        /// Reloads the keyring (on an unknown key, at most once a second) so that keys made
        /// after start, e.g. `bizra keys gen --client`, are accepted.
        public var reloadKeyring: (@Sendable () -> Keyring?)?

        public init(
            node: String, settings: BusSettings, acl: TopicACL, keyring: Keyring, coreKey: Ed25519.KeyPair,
            endpoints: CoreEndpoints, reloadKeyring: (@Sendable () -> Keyring?)? = nil
        ) {
            self.node = node
            self.settings = settings
            self.acl = acl
            self.keyring = keyring
            self.coreKey = coreKey
            self.endpoints = endpoints
            self.reloadKeyring = reloadKeyring
        }
    }

    let options: Options
    let counters = CoreCounters()
    let context = ZMQContext()
    let wakeup = WakeupFD()
    let stopping = Atomic<Bool>(false)
    let snapshot = Mutex<(instances: [CoreStatus.InstanceStatus], link: Bool)>(([], false))
    let startedMicros = Clocks.monotonicMicros()
    let log: Logger

    public init(options: Options, logger: Logger) {
        self.options = options
        var log = logger
        log[metadataKey: "node"] = "\(options.node)"
        log[metadataKey: "component"] = "core"
        self.log = log
    }

    /// Binds the sockets and serves until `stop()`. Throws if a socket cannot be bound.
    public func run() throws(BusError) {
        let loop = try CoreLoop(core: self)
        log.info("core listening", metadata: ["router": "\(options.endpoints.router)"])
        loop.serve()
        loop.close()
        context.terminate()
        log.info("core stopped")
    }

    public func stop() {
        stopping.store(true, ordering: .releasing)
        wakeup.signal()
    }

    public func status() -> CoreStatus {
        let totals = counters.totals.withLock { $0 }
        let snap = snapshot.withLock { $0 }
        return CoreStatus(
            node: options.node, pid: Int(getpid()),
            uptimeSeconds: Double(Clocks.monotonicMicros() - startedMicros) / 1e6, instances: snap.instances,
            rejected: totals.rejected, dropped: totals.dropped, framesIn: totals.framesIn, framesOut: totals.framesOut,
            envelopesIn: totals.envelopesIn, sequenceGaps: totals.gaps, linkRegistered: snap.link)
    }
}
