// TEMPORARY STUB of the agreed API; replaced by the config branch.
import Yams

public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var key: String
    public var message: String
    public var fix: String
    public var description: String { "\(file): \(key): \(message) (fix: \(fix))" }
}

public struct ComponentSpec: Sendable, Equatable { public var name: String; public var instances: Int }
public enum ComponentCatalog {
    public static let startOrder = ["compression", "discovery", "consensus", "partitioning", "sync", "balancing", "worker"]
    public static func isSinglePerNode(_ name: String) -> Bool { name == "consensus" }
    public static func isKnown(_ name: String) -> Bool { startOrder.contains(name) }
}
public struct NodeConfig: Sendable, Equatable {
    public var id: String
    public var address: String
    public var portBase: Int
    public var zone: String
    public var trust: Double
    public var voteWeight: Int
    public var components: [ComponentSpec]
    public var httpPort: Int { portBase }
    public func linkPort(instance: Int) -> Int { portBase + 10 + instance }
}
public struct TopicRule: Sendable, Equatable { public var topicPrefix: String; public var publishers: [String] }
public struct TopicACL: Sendable, Equatable {
    public var rules: [TopicRule]
    public func allowsPublish(node: String, component: String, topic: String) -> Bool {
        for rule in rules where topic.hasPrefix(rule.topicPrefix) {
            return rule.publishers.contains { p in
                if p == "*" { return true }
                let parts = p.split(separator: "/")
                return parts.count == 2 && (parts[0] == "*" || parts[0] == node) && (parts[1] == "*" || parts[1] == component)
            }
        }
        return false
    }
}
public struct BusSettings: Sendable, Equatable {
    public var maxFrameBytes = 1_048_576
    public var maxBatchEnvelopes = 64
    public var replayWindow = 1024
    public var maxClockSkewMillis = 30000
    public var heartbeatIntervalMillis = 500
    public var heartbeatTimeoutMillis = 3000
    public var requestTimeoutMillis = 1000
    public var requestRetries = 5
    public var queueLimit = 65536
    public static let defaults = BusSettings()
}
public struct WorkerSettings: Sendable, Equatable {
    public var serviceTimeMillis = 2
    public var errorRate = 0.0
    public static let defaults = WorkerSettings()
}
public struct MeshConfig: Sendable, Equatable {
    public var cluster: String
    public var nodes: [NodeConfig]
    public var acl: TopicACL
    public var bus: BusSettings
    public var worker: WorkerSettings
    public var keyringPath: String?
    public func node(_ id: String) -> NodeConfig? { nodes.first { $0.id == id } }
    public func withPortBase(_ base: Int) throws(ConfigError) -> MeshConfig {
        var c = self
        let first = nodes[0].portBase
        for i in c.nodes.indices { c.nodes[i].portBase = base + nodes[i].portBase - first }
        return c
    }
    public static func load(path: String) throws(ConfigError) -> MeshConfig { embeddedDefault() }
    public static func decode(yaml: String, source: String) throws(ConfigError) -> MeshConfig { embeddedDefault() }
    public static let embeddedDefaultYAML = ""
    public static func embeddedDefault() -> MeshConfig {
        let nodes = (1...3).map { i in
            NodeConfig(id: "n\(i)", address: "127.0.0.1", portBase: 17000 + 100 * i, zone: "z\(i)", trust: 1, voteWeight: 1,
                       components: [ComponentSpec(name: "worker", instances: 2)])
        }
        return MeshConfig(cluster: "bizra-local", nodes: nodes,
                          acl: TopicACL(rules: [TopicRule(topicPrefix: "bus.", publishers: ["*/core"]), TopicRule(topicPrefix: "", publishers: ["*"])]),
                          bus: .defaults, worker: .defaults, keyringPath: nil)
    }
}
