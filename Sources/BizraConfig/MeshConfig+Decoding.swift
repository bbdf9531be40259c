import Yams

/// Turning a parsed YAML document into typed values: shapes, types, required and unknown keys.
/// Ranges and cross-field rules are checked afterwards on the typed values
/// (`MeshConfig+Validation.swift`), so that `withPortBase` can re-check without YAML.
extension MeshConfig {
    static let topLevelKeys = ["cluster", "nodes", "acl", "bus", "worker", "link", "consensus", "keyring"]

    /// The ACL used when a file has no `acl:` key; the same rules as `bus-config/local.yaml`.
    public static let defaultACL = TopicACL(rules: [
        TopicRule(topicPrefix: "bus.", publishers: ["*/core"]),
        TopicRule(topicPrefix: "raft.", publishers: ["*/consensus"]),
        TopicRule(topicPrefix: "", publishers: ["*"]),
    ])

    static func read(_ root: ConfigNode) throws(ConfigError) -> MeshConfig {
        let top = try root.mapping(allowed: topLevelKeys)
        let cluster = try top.required("cluster", example: "bizra-local").string()
        let nodes = try top.required("nodes", example: "[{id: n1, address: 127.0.0.1, portBase: 17100, zone: z1}]")
            .sequence().map { (item) throws(ConfigError) in try NodeConfig.read(item) }
        let acl = try top.optional("acl").map { (node) throws(ConfigError) in try TopicACL.read(node) } ?? defaultACL
        let bus = try top.optional("bus").map { (node) throws(ConfigError) in try BusSettings.read(node) } ?? .defaults
        let worker = try top.optional("worker").map { (node) throws(ConfigError) in try WorkerSettings.read(node) }
        let link = try top.optional("link").map { (node) throws(ConfigError) in try LinkConfig.read(node) }
        let consensus = try top.optional("consensus").map { (node) throws(ConfigError) in
            try ConsensusConfig.read(node)
        }
        let keyringNode = top.optional("keyring")
        let keyring = try keyringNode?.string()
        if let keyringNode, let keyring, keyring.isEmpty || keyring.utf8.contains(0) {
            throw keyringNode.error(
                "the keyring path is empty or contains a NUL byte", fix: "write a file path, or `keyring: null`",
                code: .invalidValue)
        }
        return MeshConfig(
            cluster: cluster, nodes: nodes, acl: acl, bus: bus, worker: worker ?? .defaults, keyringPath: keyring,
            link: link ?? .defaults, consensus: consensus ?? .defaults)
    }
}

extension NodeConfig {
    static let keys = ["id", "address", "portBase", "zone", "trust", "voteWeight", "components"]

    static func read(_ node: ConfigNode) throws(ConfigError) -> NodeConfig {
        let map = try node.mapping(allowed: keys)
        let components = try map.optional("components").map { (node) throws(ConfigError) in
            try ComponentSpec.readAll(node)
        }
        return NodeConfig(
            id: try map.required("id", example: "n1").string(),
            address: try map.required("address", example: "127.0.0.1").string(),
            portBase: try map.required("portBase", example: "17100").int(),
            zone: try map.required("zone", example: "z1").string(),
            trust: try map.optional("trust")?.double() ?? 1.0,
            voteWeight: try map.optional("voteWeight")?.int() ?? 1,
            components: components ?? [])
    }
}

extension ComponentSpec {
    /// Reads `name: count` lines; names are checked against the catalog during validation.
    static func readAll(_ node: ConfigNode) throws(ConfigError) -> [ComponentSpec] {
        let map = try node.mapping(allowed: nil)
        var specs: [ComponentSpec] = []
        for entry in map.entries {
            specs.append(ComponentSpec(name: entry.key, instances: try entry.value.int()))
        }
        return specs
    }
}

extension TopicACL {
    static func read(_ node: ConfigNode) throws(ConfigError) -> TopicACL {
        var rules: [TopicRule] = []
        for item in try node.sequence() {
            let map = try item.mapping(allowed: ["topic", "publish"])
            let topicNode = try map.required("topic", example: "\"bus.\"")
            let publishers = try map.required("publish", example: "[\"*/core\"]").sequence()
            rules.append(
                TopicRule(
                    topicPrefix: try topicNode.string(),
                    publishers: try publishers.map { (node) throws(ConfigError) in try node.string() }))
        }
        return TopicACL(rules: rules)
    }
}

extension BusSettings {
    static func read(_ node: ConfigNode) throws(ConfigError) -> BusSettings {
        let map = try node.mapping(allowed: fields.map(\.key))
        var settings = BusSettings.defaults
        for field in fields {
            if let value = map.optional(field.key) {
                settings[keyPath: field.path] = try value.int()
            }
        }
        return settings
    }
}

extension WorkerSettings {
    static func read(_ node: ConfigNode) throws(ConfigError) -> WorkerSettings {
        let map = try node.mapping(allowed: ["serviceTimeMillis", "errorRate"])
        return WorkerSettings(
            serviceTimeMillis: try map.optional("serviceTimeMillis")?.int() ?? defaults.serviceTimeMillis,
            errorRate: try map.optional("errorRate")?.double() ?? defaults.errorRate)
    }
}
