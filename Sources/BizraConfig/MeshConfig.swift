/// The whole, validated description of a BIZRA Mesh cluster, as read from `bus-config/`.
///
/// A value of this type has passed every rule in `MeshConfig+Validation.swift`: ids are
/// well formed and unique, ports fit and do not overlap, components are known, limits are in
/// range. Code that holds one need not check again. Build it with `load(path:)`,
/// `decode(yaml:source:)` or `embeddedDefault()`.
public struct MeshConfig: Sendable, Equatable {
    /// The cluster name, in the syntax of a node id.
    public var cluster: String
    /// The nodes, in file order.
    public var nodes: [NodeConfig]
    /// The topic ACL enforced by every core.
    public var acl: TopicACL
    /// Bus limits and timings.
    public var bus: BusSettings
    /// Settings of the simulated worker service.
    public var worker: WorkerSettings
    /// Settings of the links between nodes.
    public var link: LinkConfig
    /// Timing and limits of the consensus members.
    public var consensus: ConsensusConfig
    /// The distributed public keyring: absolute when loaded from a file, nil when absent.
    public var keyringPath: String?

    /// The most nodes one file may describe.
    public static let maxNodes = 1024

    public init(
        cluster: String, nodes: [NodeConfig], acl: TopicACL, bus: BusSettings = .defaults,
        worker: WorkerSettings = .defaults, keyringPath: String? = nil, link: LinkConfig = .defaults,
        consensus: ConsensusConfig = .defaults
    ) {
        self.cluster = cluster
        self.nodes = nodes
        self.acl = acl
        self.bus = bus
        self.worker = worker
        self.link = link
        self.consensus = consensus
        self.keyringPath = keyringPath
    }

    /// The node with id `id`, if any.
    public func node(_ id: String) -> NodeConfig? {
        nodes.first { $0.id == id }
    }

    /// The same cluster moved so that the first node's port base is `base`; every other node
    /// keeps its offset from the first. This is how `--port-base` and `BIZRA_PORT_BASE` let
    /// concurrent test runs use disjoint ports. Errors name the source `--port-base`.
    public func withPortBase(_ base: Int) throws(ConfigError) -> MeshConfig {
        // A value built in code may be invalid; checking it first also bounds the arithmetic below.
        try validate(source: "--port-base")
        guard let first = nodes.first else { return self }
        guard NodeConfig.portBaseRange.contains(base) else {
            throw ConfigError(
                file: "--port-base", key: "nodes[0].portBase",
                message: "port base \(base) is outside \(NodeConfig.portBaseRange)", fix: portBaseHint(),
                code: .outOfRange)
        }
        // Every base is now in 1024...65000, so no sum below can overflow.
        let shift = base - first.portBase
        var moved = self
        for index in moved.nodes.indices {
            moved.nodes[index].portBase += shift
        }
        try moved.validate(source: "--port-base", portBaseHint: portBaseHint())
        return moved
    }

    /// The port bases `withPortBase` accepts for this cluster, as advice for its errors.
    func portBaseHint() -> String {
        guard let first = nodes.first else { return "" }
        let offsets = nodes.map { $0.portBase - first.portBase }
        let lowest = NodeConfig.portBaseRange.lowerBound - (offsets.min() ?? 0)
        let highest = NodeConfig.portBaseRange.upperBound - (offsets.max() ?? 0)
        return "choose a port base in \(lowest)...\(highest), which keeps every node within "
            + "\(NodeConfig.portBaseRange.lowerBound)...\(NodeConfig.portBaseRange.upperBound)"
    }
}
