/// Who sent a frame: a component (or client) on a node, and which instance of it.
///
/// Keys are per (node, component): instances of one component on one node share a key pair and
/// are told apart by `instance`. Clients (the CLI, external programs) use the reserved node name
/// `client` and their client name as the component.
public struct Principal: Hashable, Sendable, CustomStringConvertible {
    public var node: String
    public var component: String
    public var instance: UInt32

    public init(node: String, component: String, instance: UInt32) {
        self.node = node
        self.component = component
        self.instance = instance
    }

    /// The name its public key is filed under in the keyring: `node/component`.
    public var keyName: String { "\(node)/\(component)" }
    public var description: String { "\(node)/\(component)#\(instance)" }

    /// The reserved node name of client identities.
    public static let clientNode = "client"
    /// The reserved component name of a node's core.
    public static let coreComponent = "core"
}

/// Whether a topic stays on its node or is carried to every node by the link service.
public enum TopicScope: UInt8, Sendable, Hashable {
    case local = 0
    case cluster = 1
}

/// Where a frame goes.
public enum Destination: Hashable, Sendable, CustomStringConvertible {
    /// One instance of a component on a node (replies and point-to-point protocol traffic).
    case instance(Principal)
    /// One live instance, chosen by the core, of the named service on a node.
    case service(node: String, name: String)
    /// Every subscriber of the topic, on this node (`.local`) or on every node (`.cluster`).
    case topic(String, scope: TopicScope)

    public var description: String {
        switch self {
        case .instance(let p): "instance \(p)"
        case .service(let node, let name): "service \(node)/\(name)"
        case .topic(let topic, let scope): "topic \(topic) (\(scope == .local ? "local" : "cluster"))"
        }
    }

    /// The node the destination names; nil for topics.
    public var node: String? {
        switch self {
        case .instance(let p): p.node
        case .service(let node, _): node
        case .topic: nil
        }
    }
}
