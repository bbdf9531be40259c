/// One node of the cluster: where its core listens and what it runs.
///
/// TCP ports derive from `portBase` so that a whole node moves with one number (and a whole
/// cluster with `--port-base`): the core's HTTP endpoint is `portBase`, and link instance `i`
/// listens on `portBase + 10 + i`. Each node owns `[portBase, portBase + portSpan - 1]`.
public struct NodeConfig: Sendable, Equatable {
    /// The node id: `[a-z0-9][a-z0-9-]{0,31}`, unique, not `client` or `core`.
    public var id: String
    /// The host address (IPv4 literal or host name) its links and HTTP endpoint bind to.
    public var address: String
    /// The first TCP port of the node's range.
    public var portBase: Int
    /// The failure zone, used to place replicas on distinct zones.
    public var zone: String
    /// The configured Ihsan trust weight, in (0, 1].
    public var trust: Double
    /// The Raft vote weight at bootstrap, 1...1000.
    public var voteWeight: Int
    /// The components to run, as written (including zero counts), sorted by canonical start order.
    public var components: [ComponentSpec]

    /// The ports each node reserves, starting at `portBase`.
    public static let portSpan = 100
    /// The allowed port bases; the top leaves room for the node's whole port range.
    public static let portBaseRange = 1024...65000
    /// The offset of the first link port from `portBase`.
    public static let linkPortOffset = 10

    public init(
        id: String, address: String, portBase: Int, zone: String, trust: Double = 1.0, voteWeight: Int = 1,
        components: [ComponentSpec] = []
    ) {
        self.id = id
        self.address = address
        self.portBase = portBase
        self.zone = zone
        self.trust = trust
        self.voteWeight = voteWeight
        self.components = ComponentSpec.sortedByStartOrder(components)
    }

    /// The core's HTTP port (metrics and JSON status).
    public var httpPort: Int { portBase }

    /// The TCP port of link instance `instance` (0-based).
    public func linkPort(instance: Int) -> Int { portBase + Self.linkPortOffset + instance }

    /// The configured instance count of `component`, 0 if the node does not list it.
    public func instances(of component: String) -> Int {
        components.first { $0.name == component }?.instances ?? 0
    }
}

/// A component and how many instances of it a node runs.
public struct ComponentSpec: Sendable, Equatable {
    /// A name from `ComponentCatalog.startOrder`.
    public var name: String
    /// The instance count, 0...16 (0 or 1 for single-per-node components).
    public var instances: Int

    public init(name: String, instances: Int) {
        self.name = name
        self.instances = instances
    }

    /// Sorts by canonical start order; unknown names (refused by validation) go last, by name.
    static func sortedByStartOrder(_ specs: [ComponentSpec]) -> [ComponentSpec] {
        let unknown = ComponentCatalog.startOrder.count
        return specs.sorted { left, right in
            let leftIndex = ComponentCatalog.startIndex(of: left.name) ?? unknown
            let rightIndex = ComponentCatalog.startIndex(of: right.name) ?? unknown
            return leftIndex != rightIndex ? leftIndex < rightIndex : left.name < right.name
        }
    }
}
