import Testing

@testable import BizraConfig

/// One test per validation rule: the error names the key and says how to fix it.
@Suite struct ConfigValidationTests {
    @Test func clusterNameMustBeAnIdentifier() {
        let error = expectRefusal(
            twoNodeYAML.replacing("cluster: test", with: "cluster: Bad_Name"), key: "cluster", code: .invalidValue)
        #expect(error?.message.contains("`Bad_Name`") == true)
        #expect(error?.fix.contains("lower-case") == true)
    }

    @Test func atLeastOneNode() {
        let error = expectRefusal("cluster: x\nnodes: []\n", key: "nodes", code: .outOfRange)
        #expect(error?.message.contains("no nodes") == true)
    }

    @Test(arguments: ["N1", "-n1", "n_1", String(repeating: "a", count: 33), "\"\""])
    func nodeIDMustBeAnIdentifier(id: String) {
        expectRefusal(twoNodeYAML.replacing("id: n2", with: "id: \(id)"), key: "nodes[1].id", code: .invalidValue)
    }

    @Test(arguments: ["client", "core"])
    func reservedNodeIDsAreRefused(id: String) {
        let error = expectRefusal(
            twoNodeYAML.replacing("id: n2", with: "id: \(id)"), key: "nodes[1].id", code: .invalidValue)
        #expect(error?.message.contains("reserved") == true)
    }

    @Test func duplicateNodeIDsAreRefused() {
        let error = expectRefusal(twoNodeYAML.replacing("id: n2", with: "id: n1"), key: "nodes[1].id", code: .duplicate)
        #expect(error?.message.contains("nodes[0]") == true)
    }

    @Test(arguments: ["127.0.0.256", "1.2.3", "01.2.3.4", "bad host", "-host", "a..b", "[::1]"])
    func addressMustBeIPv4OrHostName(address: String) {
        let yaml = twoNodeYAML.replacing(
            "address: 127.0.0.1\n    portBase: 17200", with: "address: \"\(address)\"\n    portBase: 17200")
        let error = expectRefusal(yaml, key: "nodes[1].address", code: .invalidValue)
        #expect(error?.fix.contains("127.0.0.1") == true)
    }

    @Test(arguments: ["localhost", "node-1.example.org", "10.0.0.7", "0.0.0.0"])
    func validAddressesAreAccepted(address: String) throws {
        let yaml = twoNodeYAML.replacing(
            "address: 127.0.0.1\n    portBase: 17200", with: "address: \(address)\n    portBase: 17200")
        #expect(try MeshConfig.decode(yaml: yaml, source: "t").nodes[1].address == address)
    }

    @Test(arguments: [1023, 65001, -1, 0])
    func portBaseMustBeInRange(portBase: Int) {
        let yaml = twoNodeYAML.replacing("portBase: 17200", with: "portBase: \(portBase)")
        let error = expectRefusal(yaml, key: "nodes[1].portBase", code: .outOfRange)
        #expect(error?.fix.contains("1024...65000") == true)
    }

    @Test func portRangesOnOneAddressMustNotOverlap() {
        let yaml = twoNodeYAML.replacing("portBase: 17200", with: "portBase: 17150")
        let error = expectRefusal(yaml, key: "nodes[1].portBase", code: .portOverlap)
        #expect(error?.message.contains("17100...17199") == true)
        #expect(error?.fix.contains("17200") == true)
    }

    @Test func overlapIsReportedOnTheHigherNodeWhateverTheFileOrder() {
        let yaml = twoNodeYAML.replacing("portBase: 17100", with: "portBase: 17250")
        expectRefusal(yaml, key: "nodes[0].portBase", code: .portOverlap)
    }

    @Test func samePortBaseOnDifferentAddressesIsFine() throws {
        let yaml = twoNodeYAML.replacing(
            "address: 127.0.0.1\n    portBase: 17200", with: "address: 127.0.0.2\n    portBase: 17100")
        #expect(try MeshConfig.decode(yaml: yaml, source: "t").nodes.count == 2)
    }

    @Test func adjacentPortRangesAreFine() throws {
        let yaml = twoNodeYAML.replacing("portBase: 17200", with: "portBase: 17199").replacing(
            "portBase: 17100", with: "portBase: 17099")
        #expect(try MeshConfig.decode(yaml: yaml, source: "t").nodes.map(\.portBase) == [17099, 17199])
    }

    @Test func zoneMustBeAnIdentifier() {
        expectRefusal(
            twoNodeYAML.replacing("zone: z2", with: "zone: Zone 2"), key: "nodes[1].zone", code: .invalidValue)
    }

    @Test(arguments: ["0", "-0.5", "1.01", "2"])
    func trustMustBeInUnitInterval(trust: String) {
        let yaml = twoNodeYAML.replacing("zone: z2", with: "zone: z2\n    trust: \(trust)")
        let error = expectRefusal(yaml, key: "nodes[1].trust", code: .outOfRange)
        #expect(error?.fix.contains("at most 1") == true)
    }

    @Test(arguments: [0, 1001, -3])
    func voteWeightMustBeInRange(weight: Int) {
        let yaml = twoNodeYAML.replacing("zone: z2", with: "zone: z2\n    voteWeight: \(weight)")
        expectRefusal(yaml, key: "nodes[1].voteWeight", code: .outOfRange)
    }

    @Test func unknownComponentListsTheKnownOnes() {
        let error = expectRefusal(
            twoNodeYAML.replacing("worker: 2", with: "workr: 2"), key: "nodes[0].components.workr", code: .invalidValue)
        #expect(error?.message.contains("did you mean `worker`?") == true)
        #expect(error?.fix == "use one of: compression, discovery, consensus, partitioning, sync, balancing, worker")
    }

    @Test func consensusIsSinglePerNode() {
        let yaml = twoNodeYAML.replacing("worker: 2", with: "worker: 2\n      consensus: 2")
        let error = expectRefusal(yaml, key: "nodes[0].components.consensus", code: .outOfRange)
        #expect(error?.fix.contains("once per node") == true)
    }

    @Test(arguments: [-1, 17])
    func instanceCountsAreBounded(count: Int) {
        let yaml = twoNodeYAML.replacing("worker: 2", with: "worker: \(count)")
        let error = expectRefusal(yaml, key: "nodes[0].components.worker", code: .outOfRange)
        #expect(error?.fix.contains("0...16") == true)
    }

    @Test func componentsAreSortedByStartOrderKeepingZeroCounts() throws {
        let yaml = twoNodeYAML.replacing(
            "worker: 2", with: "worker: 2\n      consensus: 1\n      sync: 0\n      compression: 1")
        let node = try MeshConfig.decode(yaml: yaml, source: "t").nodes[0]
        #expect(node.components.map(\.name) == ["compression", "consensus", "sync", "worker"])
        #expect(node.components.map(\.instances) == [1, 1, 0, 2])
        #expect(ComponentCatalog.stopOrder.first == "worker")
        #expect(ComponentCatalog.isSinglePerNode("consensus") && !ComponentCatalog.isSinglePerNode("worker"))
        #expect(ComponentCatalog.isKnown("sync") && !ComponentCatalog.isKnown("core"))
    }

    @Test func emptyACLIsRefused() {
        let error = expectRefusal(twoNodeYAML + "\nacl: []\n", key: "acl", code: .invalidValue)
        #expect(error?.message.contains("denied") == true)
    }

    @Test func ruleWithoutPublishersIsRefused() {
        expectRefusal(
            twoNodeYAML + "\nacl:\n  - topic: \"a.\"\n    publish: []\n", key: "acl[0].publish", code: .invalidValue)
    }

    @Test(arguments: ["n1", "a/b/c", "N1/worker", "/worker", "n1/", "**"])
    func malformedPrincipalPatternsAreRefused(pattern: String) {
        let yaml = twoNodeYAML + "\nacl:\n  - topic: \"\"\n    publish: [\"*/core\", \"\(pattern)\"]\n"
        let error = expectRefusal(yaml, key: "acl[0].publish[1]", code: .invalidValue)
        #expect(error?.fix.contains("node/component") == true)
    }

    @Test func overlongTopicPrefixIsRefused() {
        let topic = String(repeating: "t", count: TopicRule.maxTopicPrefixBytes + 1)
        let yaml = twoNodeYAML + "\nacl:\n  - topic: \(topic)\n    publish: [\"*\"]\n"
        expectRefusal(yaml, key: "acl[0].topic", code: .outOfRange)
    }

    @Test(arguments: BusSettings.fields.map(\.key))
    func busSettingsAreRangeChecked(key: String) throws {
        let range = try #require(BusSettings.fields.first { $0.key == key }?.range)
        for value in [range.lowerBound - 1, range.upperBound + 1] {
            let error = expectRefusal(
                twoNodeYAML + "\nbus:\n  \(key): \(value)\n", key: "bus.\(key)", code: .outOfRange)
            #expect(error?.fix.contains("\(range)") == true)
        }
    }

    @Test func heartbeatTimeoutMustCoverThreeIntervals() {
        let yaml = twoNodeYAML + "\nbus:\n  heartbeatIntervalMillis: 1000\n  heartbeatTimeoutMillis: 2999\n"
        let error = expectRefusal(yaml, key: "bus.heartbeatTimeoutMillis", code: .outOfRange)
        #expect(error?.fix.contains("at least 3000") == true)
    }

    @Test func busKeysOverrideDefaultsIndividually() throws {
        let config = try MeshConfig.decode(yaml: twoNodeYAML + "\nbus:\n  requestRetries: 0\n", source: "t")
        var expected = BusSettings.defaults
        expected.requestRetries = 0
        #expect(config.bus == expected)
    }

    @Test func workerSettingsAreRangeChecked() {
        expectRefusal(
            twoNodeYAML + "\nworker:\n  serviceTimeMillis: 60001\n", key: "worker.serviceTimeMillis", code: .outOfRange)
        expectRefusal(twoNodeYAML + "\nworker:\n  errorRate: 1.5\n", key: "worker.errorRate", code: .outOfRange)
        expectRefusal(twoNodeYAML + "\nworker:\n  errorRate: -0.1\n", key: "worker.errorRate", code: .outOfRange)
    }

    @Test func emptyKeyringPathIsRefused() {
        expectRefusal(twoNodeYAML + "\nkeyring: \"\"\n", key: "keyring", code: .invalidValue)
    }
}
