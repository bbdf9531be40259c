/// Who may publish on which topics.
///
/// The core checks every verified frame against this before it forwards it. Rules are tried
/// in order and the first rule whose topic prefix matches decides; a topic that no rule
/// matches is denied, so an ACL fails closed. Principals are `node/component` (clients are
/// `client/<name>`); a pattern part `*` matches any one part and the pattern `*` matches all.
public struct TopicACL: Sendable, Equatable {
    /// The rules, tried in order.
    public var rules: [TopicRule]

    /// The most rules an ACL may hold; every publish walks them.
    public static let maxRules = 1024

    public init(rules: [TopicRule]) {
        self.rules = rules
    }

    /// The rule that decides `topic`: the first whose prefix matches, or nil (denied).
    public func rule(for topic: String) -> TopicRule? {
        rules.first { topic.utf8.starts(with: $0.topicPrefix.utf8) }
    }

    /// True if `node/component` may publish on `topic`.
    public func allowsPublish(node: String, component: String, topic: String) -> Bool {
        guard let rule = rule(for: topic) else { return false }
        return rule.publishers.contains { PrincipalPattern.matches($0, node: node, component: component) }
    }
}

/// One ACL rule: topics starting with `topicPrefix` may be published by `publishers`.
public struct TopicRule: Sendable, Equatable {
    /// A byte prefix of the topic; `""` matches every topic.
    public var topicPrefix: String
    /// Principal patterns: `node/component`, either part `*`, or `*` alone.
    public var publishers: [String]

    /// The longest topic prefix accepted (ZeroMQ subscriptions are prefixes too).
    public static let maxTopicPrefixBytes = 255
    /// The most patterns one rule may list.
    public static let maxPublishers = 256

    public init(topicPrefix: String, publishers: [String]) {
        self.topicPrefix = topicPrefix
        self.publishers = publishers
    }
}

/// Matching and checking of `node/component` principal patterns.
public enum PrincipalPattern {
    /// True if `pattern` matches the principal `node/component`. Malformed patterns match nothing.
    public static func matches(_ pattern: String, node: String, component: String) -> Bool {
        if pattern == "*" { return true }
        guard let slash = pattern.utf8.firstIndex(of: UInt8(ascii: "/")) else { return false }
        let nodePart = pattern.utf8[..<slash]
        let componentPart = pattern.utf8[pattern.utf8.index(after: slash)...]
        return partMatches(nodePart, node) && partMatches(componentPart, component)
    }

    /// Why `pattern` is malformed, or nil if it is well formed.
    public static func problem(with pattern: String) -> String? {
        if pattern == "*" { return nil }
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            return "principal pattern `\(pattern)` is not `node/component`, `*/component`, `node/*` or `*`"
        }
        for part in parts where part != "*" && !Identifier.isValid(String(part)) {
            return "`\(part)` in principal pattern `\(pattern)` is neither `*` nor a name like `n1` or `worker`"
        }
        return nil
    }

    private static func partMatches(_ part: Substring.UTF8View, _ name: String) -> Bool {
        part.elementsEqual("*".utf8) || part.elementsEqual(name.utf8)
    }
}
