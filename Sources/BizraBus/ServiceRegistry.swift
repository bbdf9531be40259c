/// A core's view of who is connected and which services they serve. Pure: the core passes
/// instants in, and decides what to do with what comes out.
///
/// Two tables: *routes* (ZeroMQ routing ids of every local sender that has sent a verified frame,
/// so that replies reach clients that never register), and *instances* (registered components,
/// with their services and heartbeats). Services are dispatched round-robin over healthy instances.
struct ServiceRegistry {
    struct Instance: Sendable {
        var principal: Principal
        var services: [String]
        var pid: Int
        var metricsPort: Int
        var isLink: Bool
        var registeredMicros: Int64
        var lastHeartbeatMicros: Int64
        var healthy = true
        var inflight = 0
        var handled = 0
        var failed = 0
    }

    /// The most routes kept; past it the least recently heard unregistered sender is forgotten.
    static let routesMax = 4096
    /// The most registered instances per core.
    static let instancesMax = 1024

    private(set) var routes: [Principal: (id: [UInt8], lastMicros: Int64)] = [:]
    private(set) var instances: [Principal: Instance] = [:]
    private var cursors: [String: Int] = [:]

    func routingID(_ principal: Principal) -> [UInt8]? { routes[principal]?.id }

    mutating func learnRoute(_ principal: Principal, id: [UInt8], nowMicros: Int64) {
        if routes[principal] == nil, routes.count >= Self.routesMax { evictOldestRoute() }
        routes[principal] = (id, nowMicros)
    }

    private mutating func evictOldestRoute() {
        let victim = routes.filter { instances[$0.key] == nil }.min { $0.value.lastMicros < $1.value.lastMicros }
        if let victim { routes[victim.key] = nil } else if let any = routes.keys.first { routes[any] = nil }
    }

    /// Registers (or re-registers after a restart) an instance. False when the table is full.
    mutating func register(_ instance: Instance) -> Bool {
        guard instances[instance.principal] != nil || instances.count < Self.instancesMax else { return false }
        instances[instance.principal] = instance
        return true
    }

    mutating func heartbeat(
        _ principal: Principal, nowMicros: Int64, healthy: Bool, inflight: Int, handled: Int, failed: Int
    ) -> Bool {
        guard var instance = instances[principal] else { return false }
        instance.lastHeartbeatMicros = nowMicros
        instance.healthy = healthy
        instance.inflight = inflight
        instance.handled = handled
        instance.failed = failed
        instances[principal] = instance
        return true
    }

    /// Forgets an instance (drained, gone, or unreachable) and its route.
    mutating func remove(_ principal: Principal) {
        instances[principal] = nil
        routes[principal] = nil
        // A service with no instance left forgets its round-robin cursor, so cursors stay bounded
        // by the services of registered instances.
        let served = Set(instances.values.flatMap(\.services))
        cursors = cursors.filter { served.contains($0.key) }
    }

    /// Removes and returns the instances whose last heartbeat is older than `timeoutMicros`.
    mutating func expire(nowMicros: Int64, timeoutMicros: Int64) -> [Principal] {
        let stale = instances.values.filter { nowMicros - $0.lastHeartbeatMicros > timeoutMicros }.map(\.principal)
        for principal in stale { remove(principal) }
        return stale.sorted { $0.description < $1.description }
    }

    /// The next healthy instance of `service` (round-robin in a stable order), excluding `skip`.
    mutating func pick(service: String, skip: Set<Principal> = []) -> Principal? {
        let candidates = instances.values
            .filter { $0.services.contains(service) && $0.healthy && !skip.contains($0.principal) }
            .map(\.principal)
            .sorted { ($0.component, $0.instance) < ($1.component, $1.instance) }
        guard !candidates.isEmpty else { return nil }
        let cursor = cursors[service, default: 0]
        cursors[service] = cursor &+ 1
        return candidates[cursor % candidates.count]
    }

    func isHealthy(_ principal: Principal) -> Bool { instances[principal]?.healthy ?? false }

    /// The registered link instance, if any (the compression component).
    var link: Principal? { links.first }

    /// Every registered link instance, by instance number (`bizra scale compression=2`).
    var links: [Principal] {
        instances.values.filter(\.isLink).map(\.principal).sorted { $0.instance < $1.instance }
    }

    /// The link instance that carries traffic for `target` (a node, or one key for all
    /// cluster-scope topics): a stable choice, so that link instances share the peers and the
    /// frames of one stream keep one path while the set of instances is unchanged.
    func link(for target: String) -> Principal? {
        let all = links
        guard !all.isEmpty else { return nil }
        let hash = target.utf8.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 }  // FNV-1a
        return all[Int(hash % UInt32(all.count))]
    }
}
