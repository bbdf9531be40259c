/// The rules a decoded configuration must satisfy, checked on typed values.
///
/// Each rule throws the first violation it finds, naming the key path and the fix; the order
/// of checks follows the file (cluster, nodes, acl, bus, worker) so that an operator fixing
/// errors one by one works from top to bottom.
extension MeshConfig {
    /// Throws the first rule this configuration breaks. `portBaseHint` replaces the advice on
    /// port errors (used by `withPortBase`, where the fix is a different flag value).
    func validate(source: String, portBaseHint: String? = nil) throws(ConfigError) {
        let check = Check(source: source)
        try check.identifier(cluster, key: "cluster", what: "cluster name")
        try check.count(nodes.count, in: 1...Self.maxNodes, key: "nodes", what: "nodes")
        for (index, node) in nodes.enumerated() {
            try node.validate(check.nested("nodes[\(index)]"), portBaseHint: portBaseHint)
        }
        try validateUniqueIDs(check)
        try validatePortRanges(check, portBaseHint: portBaseHint)
        try acl.validate(check)
        try bus.validate(check.nested("bus"))
        try worker.validate(check.nested("worker"))
        try link.validate(check.nested("link"))
        try consensus.validate(check.nested("consensus"))
    }

    private func validateUniqueIDs(_ check: Check) throws(ConfigError) {
        var firstIndex: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            if let earlier = firstIndex[node.id] {
                throw check.error(
                    "nodes[\(index)].id", "node id `\(node.id)` is already used by nodes[\(earlier)]",
                    fix: "give every node its own id", code: .duplicate)
            }
            firstIndex[node.id] = index
        }
    }

    /// Nodes on one address must own disjoint `[portBase, portBase + 99]` ranges.
    private func validatePortRanges(_ check: Check, portBaseHint: String?) throws(ConfigError) {
        let byAddress = Dictionary(grouping: nodes.indices) { nodes[$0].address.lowercased() }
        for address in byAddress.keys.sorted() {
            let indices = byAddress[address, default: []].sorted { (nodes[$0].portBase, $0) < (nodes[$1].portBase, $1) }
            for (lower, upper) in zip(indices, indices.dropFirst()) {
                let end = nodes[lower].portBase + NodeConfig.portSpan - 1
                guard nodes[upper].portBase <= end else { continue }
                let message =
                    "nodes[\(upper)] (`\(nodes[upper].id)`) and nodes[\(lower)] (`\(nodes[lower].id)`) share address "
                    + "\(nodes[lower].address) and their port ranges overlap: \(nodes[lower].portBase)...\(end) "
                    + "and \(nodes[upper].portBase)...\(nodes[upper].portBase + NodeConfig.portSpan - 1)"
                let fix =
                    portBaseHint
                    ?? "space port bases at least \(NodeConfig.portSpan) apart on one address, e.g. portBase: \(end + 1)"
                throw check.error("nodes[\(upper)].portBase", message, fix: fix, code: .portOverlap)
            }
        }
    }
}

extension NodeConfig {
    func validate(_ check: Check, portBaseHint: String?) throws(ConfigError) {
        try check.identifier(id, key: "id", what: "node id")
        if Identifier.reservedNodeIDs.contains(id) {
            throw check.error(
                "id", "node id `\(id)` is reserved (principals `client/<name>` and `<node>/core` use it)",
                fix: "choose another id, e.g. n1", code: .invalidValue)
        }
        if let problem = HostAddress.problem(with: address) {
            throw check.error("address", problem, fix: "write an IPv4 address such as 127.0.0.1, or a host name")
        }
        let portFix =
            portBaseHint ?? "choose a portBase in \(Self.portBaseRange) (the node owns portBase...portBase+99)"
        try check.range(portBase, Self.portBaseRange, key: "portBase", fix: portFix)
        try check.identifier(zone, key: "zone", what: "zone")
        if !(trust > 0 && trust <= 1) {
            throw check.error(
                "trust", "trust weight \(trust) is outside (0, 1]",
                fix: "write a number above 0 and at most 1, e.g. 1.0",
                code: .outOfRange)
        }
        try check.range(voteWeight, 1...1000, key: "voteWeight", fix: "write a whole number of votes in 1...1000")
        for component in components {
            try component.validate(check.nested("components"))
        }
    }
}

extension ComponentSpec {
    func validate(_ check: Check) throws(ConfigError) {
        guard ComponentCatalog.isKnown(name) else {
            var message = "unknown component \(Quoted.value(name))"
            if let suggestion = KeySuggestion.closest(to: name, among: ComponentCatalog.startOrder) {
                message += "; did you mean `\(suggestion)`?"
            }
            throw check.error(
                name, message, fix: "use one of: \(ComponentCatalog.startOrder.joined(separator: ", "))",
                code: .invalidValue)
        }
        let limit = ComponentCatalog.maxInstances(of: name)
        let fix =
            ComponentCatalog.isSinglePerNode(name)
            ? "`\(name)` runs at most once per node (it owns one log); write 0 or 1"
            : "write an instance count in 0...\(limit)"
        try check.range(instances, 0...limit, key: name, fix: fix)
    }
}

extension TopicACL {
    func validate(_ check: Check) throws(ConfigError) {
        if rules.isEmpty {
            throw check.error(
                "acl", "the ACL has no rules, so every publish would be denied",
                fix: "add a rule, e.g. `- {topic: \"\", publish: [\"*\"]}`, or remove `acl:` to use the default rules")
        }
        try check.count(rules.count, in: 1...Self.maxRules, key: "acl", what: "ACL rules")
        for (index, rule) in rules.enumerated() {
            try rule.validate(check.nested("acl[\(index)]"))
        }
    }
}

extension TopicRule {
    func validate(_ check: Check) throws(ConfigError) {
        if topicPrefix.utf8.count > Self.maxTopicPrefixBytes {
            throw check.error(
                "topic", "the topic prefix is \(topicPrefix.utf8.count) bytes long",
                fix: "shorten it to at most \(Self.maxTopicPrefixBytes) bytes", code: .outOfRange)
        }
        if topicPrefix.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw check.error("topic", "the topic prefix contains a control character", fix: "use printable text")
        }
        if publishers.isEmpty {
            throw check.error(
                "publish", "the rule lists no publishers, so it denies every topic it matches",
                fix: "list principal patterns, e.g. [\"*/core\"]; a rule matching nothing is written as a later rule")
        }
        try check.count(publishers.count, in: 1...Self.maxPublishers, key: "publish", what: "publishers")
        for (index, pattern) in publishers.enumerated() {
            if let problem = PrincipalPattern.problem(with: pattern) {
                throw check.error(
                    "publish[\(index)]", problem, fix: "write `node/component` with `*` for any part, e.g. \"*/core\"")
            }
        }
    }
}

extension BusSettings {
    func validate(_ check: Check) throws(ConfigError) {
        for field in Self.fields {
            try check.range(
                self[keyPath: field.path], field.range, key: field.key, fix: "write a value in \(field.range)")
        }
        let minimumTimeout = heartbeatIntervalMillis * Self.heartbeatsPerTimeoutMin
        if heartbeatTimeoutMillis < minimumTimeout {
            throw check.error(
                "heartbeatTimeoutMillis",
                "heartbeatTimeoutMillis \(heartbeatTimeoutMillis) is less than \(Self.heartbeatsPerTimeoutMin) × "
                    + "heartbeatIntervalMillis (\(heartbeatIntervalMillis)), so one late heartbeat would look like a death",
                fix: "set heartbeatTimeoutMillis to at least \(minimumTimeout), or shorten heartbeatIntervalMillis",
                code: .outOfRange)
        }
    }
}

extension WorkerSettings {
    func validate(_ check: Check) throws(ConfigError) {
        try check.range(
            serviceTimeMillis, Self.serviceTimeMillisRange, key: "serviceTimeMillis",
            fix: "write a value in \(Self.serviceTimeMillisRange)")
        if !(errorRate >= 0 && errorRate <= 1) {
            throw check.error(
                "errorRate", "errorRate \(errorRate) is outside [0, 1]", fix: "write a fraction such as 0.01",
                code: .outOfRange)
        }
    }
}
