import Testing

@testable import BizraConfig

@Suite struct TopicACLTests {
    @Test func firstMatchingRuleWinsEvenWhenALaterRuleWouldAllow() {
        let acl = TopicACL(rules: [
            TopicRule(topicPrefix: "bus.", publishers: ["*/core"]),
            TopicRule(topicPrefix: "", publishers: ["*"]),
        ])
        #expect(acl.allowsPublish(node: "n1", component: "core", topic: "bus.heartbeat"))
        #expect(!acl.allowsPublish(node: "n1", component: "worker", topic: "bus.heartbeat"))
        #expect(acl.allowsPublish(node: "n1", component: "worker", topic: "jobs.done"))
    }

    @Test func noMatchingRuleDenies() {
        let acl = TopicACL(rules: [TopicRule(topicPrefix: "a.", publishers: ["*"])])
        #expect(acl.allowsPublish(node: "n1", component: "worker", topic: "a.x"))
        #expect(!acl.allowsPublish(node: "n1", component: "worker", topic: "b.x"))
        #expect(!acl.allowsPublish(node: "n1", component: "worker", topic: "a"))
        #expect(!TopicACL(rules: []).allowsPublish(node: "n1", component: "worker", topic: "a.x"))
    }

    @Test func wildcardsMatchOnePartEach() {
        #expect(PrincipalPattern.matches("*", node: "n1", component: "worker"))
        #expect(PrincipalPattern.matches("*/core", node: "n2", component: "core"))
        #expect(!PrincipalPattern.matches("*/core", node: "n2", component: "consensus"))
        #expect(PrincipalPattern.matches("n1/*", node: "n1", component: "sync"))
        #expect(!PrincipalPattern.matches("n1/*", node: "n10", component: "sync"))
        #expect(PrincipalPattern.matches("*/*", node: "client", component: "ops"))
        #expect(PrincipalPattern.matches("n1/worker", node: "n1", component: "worker"))
        #expect(!PrincipalPattern.matches("n1/worker", node: "n1", component: "workers"))
    }

    @Test func malformedPatternsMatchNothing() {
        #expect(!PrincipalPattern.matches("n1", node: "n1", component: "worker"))
        #expect(!PrincipalPattern.matches("", node: "", component: ""))
        #expect(!PrincipalPattern.matches("*/*/*", node: "n1", component: "worker"))
    }

    @Test func emptyPrefixMatchesEveryTopicIncludingTheEmptyOne() {
        let acl = TopicACL(rules: [TopicRule(topicPrefix: "", publishers: ["n1/*"])])
        #expect(acl.allowsPublish(node: "n1", component: "x", topic: ""))
        #expect(acl.allowsPublish(node: "n1", component: "x", topic: "anything"))
        #expect(!acl.allowsPublish(node: "n2", component: "x", topic: "anything"))
    }

    @Test func prefixesCompareBytesNotCharacters() {
        // "é" precomposed and decomposed are equal Swift Strings but different topic bytes.
        let acl = TopicACL(rules: [TopicRule(topicPrefix: "caf\u{E9}", publishers: ["*"])])
        #expect(acl.allowsPublish(node: "n1", component: "w", topic: "caf\u{E9}.x"))
        #expect(!acl.allowsPublish(node: "n1", component: "w", topic: "cafe\u{301}.x"))
    }

    @Test func embeddedDefaultACLProtectsBusAndRaftTopics() {
        let acl = MeshConfig.embeddedDefault().acl
        #expect(acl.allowsPublish(node: "n1", component: "core", topic: "bus.status"))
        #expect(!acl.allowsPublish(node: "n1", component: "worker", topic: "bus.status"))
        #expect(acl.allowsPublish(node: "n3", component: "consensus", topic: "raft.append"))
        #expect(!acl.allowsPublish(node: "n3", component: "sync", topic: "raft.append"))
        #expect(acl.allowsPublish(node: "client", component: "cli", topic: "jobs"))
    }

    @Test func aclRulesDecodeInFileOrder() throws {
        let yaml =
            twoNodeYAML
            + "\nacl:\n  - topic: \"x.\"\n    publish: [\"n1/worker\", \"*/core\"]\n  - topic: \"\"\n    publish: [\"*\"]\n"
        let acl = try MeshConfig.decode(yaml: yaml, source: "t").acl
        #expect(
            acl.rules == [
                TopicRule(topicPrefix: "x.", publishers: ["n1/worker", "*/core"]),
                TopicRule(topicPrefix: "", publishers: ["*"]),
            ])
    }
}
