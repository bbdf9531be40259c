import Testing

@testable import BizraConfig

@Suite struct ConsensusConfigTests {
    @Test func consensusSettingsDecodeWithDefaultsForWhatIsLeftOut() throws {
        let none = try MeshConfig.decode(yaml: twoNodeYAML, source: "test.yaml")
        #expect(none.consensus == .defaults)
        let some = try MeshConfig.decode(
            yaml: twoNodeYAML + "\nconsensus:\n  electionTimeoutTicks: 50\n  heartbeatIntervalTicks: 5\n",
            source: "test.yaml")
        var expected = ConsensusConfig.defaults
        expected.electionTimeoutTicks = 50
        expected.heartbeatIntervalTicks = 5
        #expect(some.consensus == expected)
    }

    @Test func badConsensusSettingsAreRefusedWithTheirKeyAndAFix() {
        for (yaml, key) in [
            ("consensus:\n  electionTimeoutTicks: 2\n", "consensus.electionTimeoutTicks"),
            // The default election timeout (20 ticks) allows a heartbeat of at most 10.
            ("consensus:\n  heartbeatIntervalTicks: 11\n", "consensus.heartbeatIntervalTicks"),
            ("consensus:\n  heartbeatIntervalTicks: 0\n", "consensus.heartbeatIntervalTicks"),
            ("consensus:\n  inflightMessages: 0\n", "consensus.inflightMessages"),
            ("consensus:\n  snapshotEveryEntries: 5\n", "consensus.snapshotEveryEntries"),
            ("consensus:\n  requestTimeoutMillis: 10\n", "consensus.requestTimeoutMillis"),
            ("consensus:\n  electionTimeoutTicks: fast\n", "consensus.electionTimeoutTicks"),
            ("consensus:\n  electionTicks: 20\n", "consensus"),
        ] {
            let error = refusal(twoNodeYAML + "\n" + yaml)
            #expect(error?.key.hasPrefix(key) ?? false, "\(yaml): \(String(describing: error))")
            #expect(error?.fix.isEmpty == false, "\(yaml): \(String(describing: error))")
        }
    }

    @Test func theHeartbeatBoundFollowsTheElectionTimeout() throws {
        let yaml = twoNodeYAML + "\nconsensus:\n  electionTimeoutTicks: 100\n  heartbeatIntervalTicks: 50\n"
        #expect(try MeshConfig.decode(yaml: yaml, source: "test.yaml").consensus.heartbeatIntervalTicks == 50)
        let error = refusal(yaml.replacing("heartbeatIntervalTicks: 50", with: "heartbeatIntervalTicks: 51"))
        #expect(
            error?.fix.contains("at most half of electionTimeoutTicks (50)") == true, "\(String(describing: error))")
    }
}
