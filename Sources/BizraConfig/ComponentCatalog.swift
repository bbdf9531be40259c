/// The components a node can run, and the order `bizra up` starts them in.
///
/// The order follows dependencies: the link layer (compression) first so that peers are
/// reachable, then membership (discovery), then consensus, which partitioning, sync and
/// balancing build on; the worker, a plain service, last. Stopping runs in reverse.
public enum ComponentCatalog {
    /// Every known component, in canonical start order.
    public static let startOrder: [String] = [
        "compression", "discovery", "consensus", "partitioning", "sync", "balancing", "worker",
    ]

    /// Every known component, in canonical stop order (the reverse of `startOrder`).
    public static let stopOrder: [String] = startOrder.reversed()

    /// The most instances of one component a node may run; bounds supervisor work and ports.
    public static let maxInstances = 16

    /// True for a component that must run at most once per node: consensus owns one Raft log.
    public static func isSinglePerNode(_ name: String) -> Bool {
        name == "consensus"
    }

    /// True if `name` is one of `startOrder`.
    public static func isKnown(_ name: String) -> Bool {
        startOrder.contains(name)
    }

    /// The position of `name` in the start order, or nil if it is unknown.
    public static func startIndex(of name: String) -> Int? {
        startOrder.firstIndex(of: name)
    }

    /// The most instances `name` may have on one node.
    public static func maxInstances(of name: String) -> Int {
        isSinglePerNode(name) ? 1 : maxInstances
    }
}
